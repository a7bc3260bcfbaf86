import { AgentError } from "./errors.js";
/**
 * The one way a command line is built as a string: for SSH exec (which hands its command to the
 * login shell) and for the forced command in authorized_keys. Each argument is single-quoted for
 * POSIX sh; arguments that no quoting makes safe under every login shell are refused: csh and
 * tcsh (FreeBSD's root shell) expand `!` even inside single quotes and end a command at a newline.
 */

/** One argument, quoted. */
export function shellQuote(arg: string): string {
  if (/[\0-\x1f\x7f!]/.test(arg)) throw new AgentError(`cannot pass ${JSON.stringify(arg)} through a login shell: it holds "!" or a control character`, "E_UNQUOTABLE");
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one command line. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new AgentError("an empty command", "E_UNQUOTABLE");
  return argv.map(shellQuote).join(" ");
}
