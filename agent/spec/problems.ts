/** One thing wrong with a desired-state document: where (a path such as `guests[1].passthru[0].device`) and what. */
export interface Problem {
  /** Document path of the field at fault, in the document's own snake_case keys. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do about it. */
  readonly message: string;
}

/** Renders problems one per line as `path: message`, the format every front-end prints. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("\n");
}

/** Thrown when a document is not valid; carries every problem found, not only the first. */
export class SpecError extends Error {
  /** Stable error code for callers that must branch on the kind of failure. */
  readonly code: string = "E_SPEC_INVALID";
  constructor(readonly problems: readonly Problem[]) {
    super(formatProblems(problems));
    this.name = "SpecError";
  }
}

/** Thrown when a desired state breaks the host's policy; nothing is changed. */
export class PolicyError extends SpecError {
  override readonly code: string = "E_POLICY";
  constructor(problems: readonly Problem[]) {
    super(problems);
    this.name = "PolicyError";
  }
}

/** Thrown when a desired guest's name is held by a VM that the agent did not create; nothing is changed. */
export class ForeignVmError extends SpecError {
  override readonly code: string = "E_FOREIGN_VM";
  constructor(problems: readonly Problem[]) {
    super(problems);
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
