/** One thing wrong with a desired-state document: where (a path such as `guests[1].passthru[0].device`) and what. */
export interface Problem {
  /** Document path of the field at fault, in the document's own snake_case keys. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do about it. */
  readonly message: string;
}

/**
 * Most problems printed or sent back for one document. A hostile or broken document can have
 * thousands; the first ones say what is wrong, and the count says how much more there is.
 */
export const MAX_REPORTED_PROBLEMS = 50;

/**
 * Renders problems one per line as `path: message`, the format every front-end prints: at most
 * {@link MAX_REPORTED_PROBLEMS} of them, then `... and N more`. `total` is the full count when
 * `problems` is already a shortened list.
 */
export function formatProblems(problems: readonly Problem[], total = problems.length): string {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
  const lines = shown.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  const more = Math.max(total, problems.length) - shown.length;
  if (more > 0) lines.push(`... and ${more} more`);
  return lines.join("\n");
}

/** What a SpecError is built with besides its problems. */
export interface SpecErrorOptions {
  /** Stable error code; default `E_SPEC_INVALID`. */
  readonly code?: string;
  /** Full count of problems when `problems` is already a shortened list. */
  readonly total?: number;
}

/**
 * Thrown when a document is not valid. It keeps the first {@link MAX_REPORTED_PROBLEMS} problems
 * (what the message and the RPC error carry) and `total`, the full count.
 */
export class SpecError extends Error {
  /** Stable error code for callers that must branch on the kind of failure. */
  readonly code: string;
  /** The first problems, at most {@link MAX_REPORTED_PROBLEMS}. */
  readonly problems: readonly Problem[];
  /** How many problems were found in all. */
  readonly total: number;
  constructor(problems: readonly Problem[], options: SpecErrorOptions = {}) {
    const total = Math.max(options.total ?? 0, problems.length);
    super(formatProblems(problems, total));
    this.name = "SpecError";
    this.code = options.code ?? "E_SPEC_INVALID";
    this.problems = problems.slice(0, MAX_REPORTED_PROBLEMS);
    this.total = total;
  }
}

/** Thrown when a desired state breaks the host's policy; nothing is changed. */
export class PolicyError extends SpecError {
  override readonly code: string = "E_POLICY";
  constructor(problems: readonly Problem[], options: Omit<SpecErrorOptions, "code"> = {}) {
    super(problems, options);
    this.name = "PolicyError";
  }
}

/** Thrown when a desired guest's name is held by a VM that the agent did not create; nothing is changed. */
export class ForeignVmError extends SpecError {
  override readonly code: string = "E_FOREIGN_VM";
  constructor(problems: readonly Problem[], options: Omit<SpecErrorOptions, "code"> = {}) {
    super(problems, options);
    this.name = "ForeignVmError";
  }
}

/** Collects problems while a document is decoded and checked. */
export class ProblemList {
  readonly items: Problem[] = [];
  add(path: string, message: string): void {
    this.items.push({ path, message });
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
}

/** Joins a parent path and a key or index into a document path. */
export function at(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}
