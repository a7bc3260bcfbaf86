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
