/** `cdktf-bhyve gen-bindings [DIR]` (development): regenerates provider/constructs/gen from the provider's own schema. */
import { UserError } from "../../../agent/cli/errors.js";

export async function genBindingsCommand(args: string[]): Promise<number> {
  if (args.length > 1) throw new UserError("usage: cdktf-bhyve gen-bindings [DIR]", "E_USAGE", 64);
  const { generateBindings, writeBindings } = await import("../../constructs/generate.js");
  const out = args[0] ?? "provider/constructs/gen";
  writeBindings(out, await generateBindings());
  process.stdout.write(`wrote the L1 bindings to ${out}\n`);
  return 0;
}
