/** One step of a document path: a mapping key or a list index. */
export type PathSegment = string | number;

/** One thing wrong with a desired-state document: where (a path such as `guests[1].passthru[0].device`) and what. */
export interface Problem {
  /** Document path of the field at fault, in the document's own snake_case keys. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do about it. */
  readonly message: string;
  /**
   * The same path as segments (`["guests", 1, "passthru", 0, "device"]`), for front-ends that map
   * it to their own fields (constructs, provider attributes); absent where the place is not a
   * document path (the line and column of a YAML error).
   */
  readonly at?: readonly PathSegment[];
}

/** The problem with its segments, when its path is a document path and they are not there yet. */
export function withSegments(p: Problem): Problem {
  if (p.at) return p;
  const at = pathSegments(p.path);
  return at ? { ...p, at } : p;
}

/** A document path as text: keys joined by dots, list indexes in brackets. */
export function pathText(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((text, k) => at(text, k), "");
}

/**
 * The segments of a document path as the model writes them (`guests[1].passthru[0].device`);
 * null for text that is not one (`line 3, column 4`, a key with a dot or a bracket in it).
 */
export function pathSegments(path: string): PathSegment[] | null {
  if (path === "") return [];
  const out: PathSegment[] = [];
  const re = /(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(path)) !== null) {
    if (m.index === 0 && m[0].startsWith(".")) return null;
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    end = re.lastIndex;
  }
  return end === path.length ? out : null;
}

/**
 * The problem with its path taken relative to `prefix` (a guest's own fields from `guests[0]`):
 * `whole` names the place when nothing is left of the path. Problems elsewhere are unchanged.
 */
export function relativeTo(p: Problem, prefix: readonly PathSegment[], whole: string): Problem {
  const segments = p.at ?? pathSegments(p.path);
  if (!segments || segments.length < prefix.length || prefix.some((k, i) => segments[i] !== k)) return p;
  const rest = segments.slice(prefix.length);
  return { path: rest.length ? pathText(rest) : whole, message: p.message, at: rest };
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
    this.items.push(withSegments({ path, message }));
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
