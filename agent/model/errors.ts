/**
 * The one error type of the agent (and of the sandbox and the provider's use of the model): a
 * stable code (`E_...`) that callers branch on, a message for the operator, the cause when it
 * wraps another error, and the problems when it refuses a document (each with its path).
 */
import { formatProblems, MAX_REPORTED_PROBLEMS, withSegments, type Problem } from "./problems.js";

/** What an AgentError carries besides its message and code. */
export interface AgentErrorOptions {
  readonly cause?: unknown;
  /** The problems of a refused document (only the first {@link MAX_REPORTED_PROBLEMS} are kept). */
  readonly problems?: readonly Problem[];
  /** How many problems were found in all, when `problems` is already a shortened list. */
  readonly total?: number;
}

export class AgentError extends Error {
  /** The first problems, at most {@link MAX_REPORTED_PROBLEMS}; empty for errors that are not about a document. */
  readonly problems: readonly Problem[];
  /** How many problems were found in all. */
  readonly total: number;
  constructor(
    message: string,
    /** Stable error code, `E_` and capitals: what callers and the protocol branch on. */
    readonly code: string,
    options: AgentErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AgentError";
    this.problems = (options.problems ?? []).slice(0, MAX_REPORTED_PROBLEMS);
    this.total = Math.max(options.total ?? 0, options.problems?.length ?? 0);
  }
}

/**
 * A refused document: the message is the problems, one `path: message` line each (the first 50,
 * then how many more). Code `E_SPEC_INVALID` unless given (E_POLICY, E_FOREIGN_VM, E_EMPTY_DOCUMENT, ...).
 */
export function problemsError(problems: readonly Problem[], options: { readonly code?: string; readonly total?: number } = {}): AgentError {
  const total = Math.max(options.total ?? 0, problems.length);
  return new AgentError(formatProblems(problems, total), options.code ?? "E_SPEC_INVALID", { problems: problems.map(withSegments), total });
}

/** An AgentError that refuses a document, i.e. one that has problems. */
export function isProblemsError(err: unknown): err is AgentError {
  return err instanceof AgentError && err.problems.length > 0;
}
