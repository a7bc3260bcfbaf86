import { AgentError } from "../model/errors.js";
/**
 * /boot/loader.conf, read the way FreeBSD's Lua loader (stand/lua/config.lua) reads it, and written
 * back byte for byte. A line is blank, a comment (`#…`), or `name = value` with optional white
 * space around `=`, where value is `"…"` (no embedded quote), a word of letters and digits, or an
 * integer, optionally followed by white space and a `#` comment. Anything else is malformed: the
 * loader prints "Malformed line" and goes on, so this parser keeps it and reports it. Later
 * assignments override earlier ones.
 *
 * The agent owns one block bounded by marker comments; everything outside it is kept exactly.
 */

/** One line of the file, with the exact text and line ending it had. */
export interface LoaderConfLine {
  /** The line without its terminator. */
  readonly text: string;
  /** `\n`, `\r\n`, or `` for a last line without one. */
  readonly eol: string;
  readonly kind: "blank" | "comment" | "assignment" | "malformed";
  readonly name?: string;
  /** The value with quotes removed. */
  readonly value?: string;
  readonly quoted?: boolean;
}

/** A parsed file; `managed` locates the agent's block (line indexes of its two markers). */
export interface LoaderConf {
  readonly lines: readonly LoaderConfLine[];
  readonly managed: { readonly begin: number; readonly end: number } | null;
}

/** First line of the block the agent owns. */
export const MANAGED_BEGIN = "# BEGIN cdktf-bhyve managed block: written by bhyve-agent, edits here are overwritten";
/** Last line of the block the agent owns. */
export const MANAGED_END = "# END cdktf-bhyve managed block";
const BEGIN_PREFIX = "# BEGIN cdktf-bhyve managed block";

// [%w%p]+ for names (greedy with backtracking, as Lua matches it), then the three value forms.
const ASSIGNMENT = /^\s*([!-~]+)\s*=\s*(?:"([\t -!#-~]*?)"|([A-Za-z0-9]+)|(-?\d+))(\s*(?:#.*)?)$/;

function classify(text: string): Omit<LoaderConfLine, "text" | "eol"> {
  if (/^\s*$/.test(text)) return { kind: "blank" };
  if (/^\s*#/.test(text)) return { kind: "comment" };
  const m = ASSIGNMENT.exec(text.replace(/\r$/, ""));
  if (!m) return { kind: "malformed" };
  const quoted = m[2] !== undefined;
  return { kind: "assignment", name: m[1]!, value: m[2] ?? m[3] ?? m[4]!, quoted };
}

/** The lines of loader.conf text, classified, without looking at the managed block's markers. */
export function parseLoaderConfLines(text: string): LoaderConfLine[] {
  const lines: LoaderConfLine[] = [];
  const re = /([^\n]*)(\n|$)/g;
  for (let m = re.exec(text); m && (m[0] !== "" || m.index < text.length); m = re.exec(text)) {
    let body = m[1]!;
    let eol = m[2]!;
    if (eol === "\n" && body.endsWith("\r")) {
      body = body.slice(0, -1);
      eol = "\r\n";
    }
    lines.push({ text: body, eol, ...classify(body) });
    if (eol === "") break;
  }
  return lines;
}

/** What the loader sets from the file: each assigned name with its last value (markers do not matter to it). */
export function loaderEnvironment(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const l of parseLoaderConfLines(text)) if (l.kind === "assignment") env.set(l.name!, l.value!);
  return env;
}

/** Parses loader.conf text. Throws {@link LoaderConfError} when the managed block's markers are broken. */
export function parseLoaderConf(text: string): LoaderConf {
  const lines = parseLoaderConfLines(text);
  const begins = lines.flatMap((l, i) => (l.text.trim().startsWith(BEGIN_PREFIX) ? [i] : []));
  const ends = lines.flatMap((l, i) => (l.text.trim() === MANAGED_END ? [i] : []));
  if (begins.length === 0 && ends.length === 0) return { lines, managed: null };
  if (begins.length !== 1 || ends.length !== 1 || ends[0]! < begins[0]!) {
    throw new AgentError(
      `loader.conf has ${begins.length} BEGIN and ${ends.length} END marker(s) of the cdktf-bhyve managed block ` +
        "(expected one of each, BEGIN first); fix the file by hand so that the block is whole, or remove both markers",
      "E_LOADER_CONF_MARKERS",
    );
  }
  return { lines, managed: { begin: begins[0]!, end: ends[0]! } };
}

/** The exact text of a parsed file. */
export function serializeLoaderConf(conf: LoaderConf): string {
  return conf.lines.map((l) => l.text + l.eol).join("");
}

/** Assignments inside the managed block, in order. */
export function managedAssignments(conf: LoaderConf): LoaderConfLine[] {
  if (!conf.managed) return [];
  return conf.lines.slice(conf.managed.begin + 1, conf.managed.end).filter((l) => l.kind === "assignment");
}

/** Lines inside the managed block that are not assignments the agent writes (hand edits to report as drift). */
export function managedStrayLines(conf: LoaderConf): LoaderConfLine[] {
  if (!conf.managed) return [];
  return conf.lines.slice(conf.managed.begin + 1, conf.managed.end).filter((l) => l.kind !== "assignment");
}

/** The value the loader ends up with for each name: the last assignment wins. */
export function effectiveSettings(conf: LoaderConf): Map<string, { value: string; line: number; managed: boolean }> {
  const out = new Map<string, { value: string; line: number; managed: boolean }>();
  conf.lines.forEach((l, i) => {
    if (l.kind !== "assignment") return;
    const managed = conf.managed !== null && i > conf.managed.begin && i < conf.managed.end;
    out.set(l.name!, { value: l.value!, line: i, managed });
  });
  return out;
}

/** Assignments outside the managed block to names it manages: after it they override the agent, before it they are overridden. */
export function unmanagedAssignmentsTo(conf: LoaderConf, names: readonly string[]): Array<LoaderConfLine & { line: number; after: boolean }> {
  return conf.lines.flatMap((l, i) => {
    if (l.kind !== "assignment" || !names.includes(l.name!)) return [];
    if (conf.managed && i >= conf.managed.begin && i <= conf.managed.end) return [];
    return [{ ...l, line: i, after: conf.managed !== null && i > conf.managed.end }];
  });
}

function settingLine(name: string, value: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new AgentError(`"${name}" is not a loader variable name`, "E_LOADER_CONF_VALUE");
  if (!/^[\t -!#-~]*$/.test(value)) {
    throw new AgentError(`the value for ${name} contains a quote, a line break or a non-ASCII character`, "E_LOADER_CONF_VALUE");
  }
  return `${name}="${value}"`;
}

/**
 * The file with the managed block holding exactly `settings`. An existing block is rewritten in
 * place (its markers are kept as they are); otherwise the block is appended, after a line break
 * if the file did not end with one (the block then ends without one, so removing it restores
 * the original bytes). An empty `settings` removes the block.
 */
export function withManagedBlock(conf: LoaderConf, settings: ReadonlyArray<readonly [string, string]>): string {
  if (settings.length === 0) return withoutManagedBlock(conf);
  const inner = settings.map(([n, v]) => settingLine(n, v));
  if (conf.managed) {
    const { begin, end } = conf.managed;
    const eol = conf.lines[begin]!.eol || "\n";
    const before = conf.lines.slice(0, begin + 1).map((l) => l.text + l.eol).join("");
    const after = conf.lines.slice(end).map((l) => l.text + l.eol).join("");
    return before + inner.map((l) => l + eol).join("") + after;
  }
  const original = serializeLoaderConf(conf);
  const last = conf.lines[conf.lines.length - 1];
  const eol = last?.eol === "\r\n" ? "\r\n" : "\n";
  const block = [MANAGED_BEGIN, ...inner, MANAGED_END].join(eol);
  if (original === "") return block + eol;
  if (last && last.eol === "") return original + eol + block;
  return original + block + eol;
}

/** The file without the managed block, undoing exactly what {@link withManagedBlock} added. */
export function withoutManagedBlock(conf: LoaderConf): string {
  if (!conf.managed) return serializeLoaderConf(conf);
  const { begin, end } = conf.managed;
  const kept = [...conf.lines.slice(0, begin), ...conf.lines.slice(end + 1)];
  const endLine = conf.lines[end]!;
  if (end === conf.lines.length - 1 && endLine.eol === "" && begin > 0) {
    // The block was appended to a file without a final line break: take back the one added before it.
    const prev = kept[begin - 1]!;
    kept[begin - 1] = { ...prev, eol: "" };
  }
  return kept.map((l) => l.text + l.eol).join("");
}
