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

/** An error raised on purpose, with a stable code (E_STATE, E_LOCKED, ...): its message is for the operator. */
function codedError(err: unknown): err is Error & { code: string } {
  return err instanceof AgentError;
}

/** A coded error as the UserError it is to a command's caller (exit 1); anything else unchanged. */
export function asUserError(err: unknown): unknown {
  return !(err instanceof UserError) && codedError(err) ? new UserError(err.message, err.code) : err;
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
    if (err instanceof UserError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (codedError(err)) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  }
}
