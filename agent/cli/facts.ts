import { formatFacts, gatherFacts } from "../host/facts.js";
import { UserError } from "./errors.js";
import { hostOptions } from "./options.js";

const USAGE = "usage: bhyve-agent facts [--root DIR] [--json]";

/** `bhyve-agent facts`: what the host is and whether it can run passthrough guests, with evidence. */
export async function factsCommand(args: string[]): Promise<number> {
  const o = hostOptions(args, USAGE);
  if (o.operands.length) throw new UserError(USAGE, "E_USAGE", 64);
  const f = await gatherFacts(o.paths);
  process.stdout.write(o.json ? `${JSON.stringify(f, null, 2)}\n` : formatFacts(f));
  return 0;
}
