import { AgentError } from "../model/errors.js";
/** A mistake by whoever ran the command: printed as one message, without a stack, exit code 1 (or `exitCode`). */
export class UserError extends AgentError {
  constructor(
    message: string,
    code: string,
    readonly exitCode = 1,
  ) {
    super(message, code);
    this.name = "UserError";
  }
}

/**
 * An AgentError (a refusal with a stable code: E_STATE, E_LOCKED, ...) as the UserError it is to a
 * command's caller (exit 1), its message led by `prefix` when given; a UserError, and anything that
 * is not an AgentError (a bug), unchanged.
 */
export function asUserError(err: unknown, prefix?: string): unknown {
  if (!(err instanceof AgentError) || err instanceof UserError) return err;
  return new UserError(prefix ? `${prefix}: ${err.message}` : err.message, err.code);
}

/**
 * Runs a CLI main function: user errors and coded errors print their message, bugs keep their
 * stack. A reader that went away (EPIPE on stdout or stderr, e.g. `apply | head -1` or a closed SSH
 * channel) never crashes the command: what it does is done and audited, and it exits quietly.
 */
export async function runMain(main: (argv: string[]) => Promise<number>): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    });
  }
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof AgentError) {
      // A refusal: its message is for the operator.
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err instanceof UserError ? err.exitCode : 1;
    } else {
      process.stderr.write(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  }
}
