import { checkDocumentText } from "../model/document.js";
import { renderState } from "../model/render.js";
import { readInput } from "./read-input.js";
import { refusal, singleInput } from "./validate.js";

/** `bhyve-agent render FILE|-`: prints the loader.conf settings and each guest's bhyve argv as JSON. */
export async function renderCommand(args: string[]): Promise<number> {
  const result = checkDocumentText(await readInput(singleInput(args, "render")));
  if (!result.ok) throw refusal(result);
  process.stdout.write(`${JSON.stringify(renderState(result.state), null, 2)}\n`);
  return 0;
}
