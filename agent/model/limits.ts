/**
 * Limits on what a document may hold, for input that may be hostile: how deep it nests, which
 * characters its strings may contain, how long a host path may be. Pure code, no I/O; every check
 * here is iterative and linear in its input, so that no document can exhaust the stack or the CPU.
 */

/** Deepest nesting of mappings and lists a document may have (the model itself needs 5). */
export const MAX_DOCUMENT_DEPTH = 64;

/** Longest host path, in bytes, without the terminating NUL (FreeBSD's PATH_MAX is 1024 with it). */
export const PATH_MAX = 1024;

/**
 * True when JSON text nests arrays and objects more than `limit` deep. A scan of the brackets
 * outside strings, without parsing, so that it can run before `JSON.parse` on any line. Text that
 * is not valid JSON is measured the same way; parsing then reports what is wrong with it.
 */
export function jsonDepthExceeds(text: string, limit: number = MAX_DOCUMENT_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if ((c === 0x5d /* ] */ || c === 0x7d /* } */) && depth > 0) {
      depth--;
    }
  }
  return false;
}

/**
 * True when plain data (parsed JSON or YAML) nests arrays and objects more than `limit` deep. A
 * value reached twice (a YAML alias) is walked again only when reached deeper than before, so the
 * walk stays bounded by `limit` visits per value.
 */
export function valueDepthExceeds(value: unknown, limit: number = MAX_DOCUMENT_DEPTH): boolean {
  const deepest = new Map<object, number>();
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, above] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    const depth = above + 1;
    if (depth > limit) return true;
    if ((deepest.get(v) ?? 0) >= depth) continue;
    deepest.set(v, depth);
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth]);
    }
  }
  return false;
}

/** A character no value of the document may hold, and what it is, for the message. */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  // eslint-disable-next-line no-control-regex
  [/[\u0000-\u001f\u007f-\u009f]/u, "a control character"],
  [/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u, "a bidirectional formatting character, which can make text display other than it reads"],
  [/[\u200b-\u200d\u2060\ufeff]/u, "a zero-width character, which makes two different values look the same"],
  [/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u, "half of a UTF-16 surrogate pair, which is not a character"],
];

/** One class that matches every character of {@link FORBIDDEN} (lone surrogates aside). */
// eslint-disable-next-line no-control-regex
const ANY_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff\ud800-\udfff]/;

/** `U+202E` for the character at the start of `s`. */
function codePoint(s: string): string {
  return `U+${s.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Why `s` cannot be a value: it holds a control, bidirectional or zero-width character, or half
 * of a surrogate pair. Undefined when it is fine. Tab and newline are refused too: no value of the
 * model has room for them.
 */
export function forbiddenCharacter(s: string): string | undefined {
  return findForbiddenCharacter(s)?.message;
}

/** The first character {@link forbiddenCharacter} refuses: its UTF-16 index, and why. */
export function findForbiddenCharacter(s: string): { index: number; message: string } | undefined {
  if (!ANY_FORBIDDEN.test(s)) return undefined;
  let found: { index: number; message: string } | undefined;
  for (const [re, what] of FORBIDDEN) {
    const m = re.exec(s);
    if (m && (found === undefined || m.index < found.index)) found = { index: m.index, message: `contains ${codePoint(m[0])}, ${what}; remove it` };
  }
  return found; // undefined: only whole surrogate pairs, ordinary characters outside the BMP
}

/** Every character {@link forbiddenCharacter} refuses, for replacing them all. */
// eslint-disable-next-line no-control-regex
const ESCAPED = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Longest value or key echoed whole in a message. */
const ECHO_MAX = 100;

function escapeForbidden(s: string): string {
  return s.replace(ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Where `s` may be echoed in a message (a path, a key): every character that
 * {@link forbiddenCharacter} refuses written as `\uXXXX`, and more than 100 characters cut short.
 */
export function printable(s: string): string {
  return s.length > ECHO_MAX ? `${escapeForbidden(s.slice(0, ECHO_MAX))}...` : escapeForbidden(s);
}

/**
 * `s` in double quotes for a message, with {@link printable}'s escapes (and `"`, `\` escaped);
 * a long value is cut short, with its length.
 */
export function quote(s: string): string {
  const shown = escapeForbidden((s.length > ECHO_MAX ? s.slice(0, ECHO_MAX) : s).replace(/["\\]/g, (c) => `\\${c}`));
  return `"${shown}${s.length > ECHO_MAX ? `... (${s.length} characters)` : ""}"`;
}

/**
 * A request value or command argument echoed in a message: JSON-quoted (control characters
 * escaped), cut short at `max` characters, so hostile input never floods or forges an answer.
 */
export function shown(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** Length of `s` in UTF-8 bytes. */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * The lexical normal form of an absolute path: `//` collapsed, `.` segments dropped, `..` taking
 * away the segment before it (never above `/`), no trailing slash. Symbolic links are not
 * resolved: this is what two spellings of one path have in common, found without the file system.
 */
export function normalizeHostPath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return `/${out.join("/")}`;
}

/** Top-level keys of a document. */
export const DOCUMENT_KEYS = ["host", "ppt", "switches", "guests"] as const;

/**
 * True when whole-document data asks for nothing: no data at all (an empty, whitespace or
 * comment-only text, `null`, `~`), an empty mapping, or a mapping whose known keys are all
 * absent or null (`guests:` with every entry commented out). Applied, such a document would
 * remove every guest and reservation; an explicit `guests: []` is how to ask for that.
 */
export function isBlankDocument(data: unknown): boolean {
  if (data === undefined || data === null) return true;
  if (typeof data !== "object" || Array.isArray(data)) return false;
  const keys = Object.keys(data);
  if (keys.some((k) => !(DOCUMENT_KEYS as readonly string[]).includes(k))) return false; // unknown keys are reported as such
  return keys.every((k) => (data as Record<string, unknown>)[k] === null || (data as Record<string, unknown>)[k] === undefined);
}

/** The problem reported for a blank document. */
export const BLANK_DOCUMENT_MESSAGE =
  "is empty, so applying it would remove every guest and reservation the host has; to ask for a host " +
  "with no guests, write an explicit `guests: []`";
