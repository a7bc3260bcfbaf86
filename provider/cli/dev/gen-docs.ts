/** `cdktf-bhyve gen-docs [DIR]` (development): writes the provider's registry documentation from its schema. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../../../agent/cli/errors.js";
import { providerDocs } from "../../plugin/docs.js";
import { bhyveProvider } from "../../resources/provider.js";

export async function genDocsCommand(args: string[]): Promise<number> {
  if (args.length > 1) throw new UserError("usage: cdktf-bhyve gen-docs [DIR]", "E_USAGE", 64);
  const out = args[0] ?? "docs";
  const files = providerDocs(bhyveProvider());
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), text);
  }
  process.stdout.write(`wrote ${Object.keys(files).length} documentation pages to ${out}\n`);
  return 0;
}
