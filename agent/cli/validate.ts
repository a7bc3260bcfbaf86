import { checkDocumentText } from "../model/document.js";
import { formatProblems, type Problem } from "../model/problems.js";
import { UserError } from "./errors.js";
import { readInput } from "./read-input.js";

/** `bhyve-agent validate FILE|-`: exit 0 when the document is valid, else 1 with one `path: message` per line (at most 50). */
export async function validateCommand(args: string[]): Promise<number> {
  const file = singleInput(args, "validate");
  const result = checkDocumentText(await readInput(file));
  if (!result.ok) throw refusal(result);
  const s = result.state;
  process.stdout.write(`${file === "-" ? "document" : file}: valid (${s.ppt.length} reserved device(s), ${s.guests.length} guest(s))\n`);
  return 0;
}

/**
 * The error for a document that did not pass: its problems one per line (the first 50, then how
 * many more) and the check's code (E_EMPTY_DOCUMENT, E_TOO_DEEP, E_SPEC_INVALID, ...); exit 1.
 */
export function refusal(result: { problems: readonly Problem[]; code?: string }): UserError {
  return new UserError(formatProblems(result.problems), result.code ?? "E_SPEC_INVALID");
}

/** The one FILE or `-` argument the document commands take. */
export function singleInput(args: string[], command: string): string {
  if (args.length !== 1 || (args[0]!.startsWith("-") && args[0] !== "-")) {
    throw new UserError(`usage: bhyve-agent ${command} FILE|-`, "E_USAGE", 64);
  }
  return args[0]!;
}
