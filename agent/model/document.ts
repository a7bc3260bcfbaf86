/**
 * The desired-state document as text: YAML 1.2 (JSON is a subset) with snake_case keys, and the
 * way back from the model to that shape.
 */
import { Composer, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, Parser, type CST, type Document } from "yaml";
import { findForbiddenCharacter, MAX_DOCUMENT_DEPTH, printable } from "./limits.js";
import { at, type Problem } from "./problems.js";
import type { DesiredState } from "./types.js";
import { checkWholeDocument, type CheckResult } from "./validate.js";
import type { HostContext } from "./types.js";
import { problemsError } from "./errors.js";

/** Largest document accepted, so that a request cannot make the agent parse without bound. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** A refusal before the document's fields are looked at: its problems and stable code. */
export type TextProblems = { ok: false; problems: Problem[]; code: string };

/** `line L, column C` (both from 1) of an offset, from the parser's line counter. */
function lineColumn(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}`;
}

/**
 * Offset of the first byte of `bytes` that does not start a well-formed UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or -1.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    const next = bytes[i + 1]!;
    if ((c === 0xe0 && next < 0xa0) || (c === 0xed && next >= 0xa0) || (c === 0xf0 && next < 0x90) || (c === 0xf4 && next >= 0x90)) return i;
    i += len;
  }
  return -1;
}

/**
 * Decodes a document's bytes as UTF-8, refusing anything else (`E_ENCODING`) and more than
 * {@link MAX_DOCUMENT_BYTES} (`E_TOO_LARGE`). A leading byte order mark is accepted and dropped.
 */
export function decodeDocumentBytes(bytes: Uint8Array): { ok: true; text: string } | TextProblems {
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    return { ok: false, code: "E_TOO_LARGE", problems: [{ path: "document", message: `is larger than ${MAX_DOCUMENT_BYTES} bytes` }] };
  }
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const bad = Math.max(0, firstInvalidUtf8(bytes));
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    return {
      ok: false,
      code: "E_ENCODING",
      problems: [{ path: "document", message: `is not UTF-8 text: byte ${bad} (line ${line}) is 0x${bytes[bad]!.toString(16).padStart(2, "0")}, which does not start a valid UTF-8 sequence` }],
    };
  }
}

const COLLECTIONS = new Set(["block-map", "block-seq", "flow-collection"]);
const SCALARS = new Set(["scalar", "single-quoted-scalar", "double-quoted-scalar", "block-scalar"]);

/**
 * Looks at the concrete syntax tree of YAML text before it is composed, with an explicit stack:
 * whether mappings and lists nest deeper than {@link MAX_DOCUMENT_DEPTH} (which would make the
 * recursive composer and everything after it run out of stack), and which characters outside
 * values (comments, anchors, tags, white space) are control, bidirectional or zero-width ones.
 * Characters inside values are the decoder's to report, against the field.
 */
function checkSyntaxTree(tokens: readonly CST.Token[], lines: LineCounter): TextProblems | undefined {
  const problems: Problem[] = [];
  const stack: Array<[unknown, number]> = tokens.map((token) => [token, 0]);
  while (stack.length > 0) {
    const [node, above] = stack.pop()!;
    if (Array.isArray(node)) {
      for (const item of node) if (typeof item === "object" && item !== null) stack.push([item, above]);
      continue;
    }
    const t = node as Record<string, unknown>;
    const type = typeof t.type === "string" ? t.type : undefined;
    const depth = type !== undefined && COLLECTIONS.has(type) ? above + 1 : above;
    if (depth > MAX_DOCUMENT_DEPTH) {
      return { ok: false, code: "E_TOO_DEEP", problems: [{ path: "document", message: `nests mappings and lists deeper than ${MAX_DOCUMENT_DEPTH} levels` }] };
    }
    if (type !== undefined && !SCALARS.has(type) && type !== "byte-order-mark" && typeof t.source === "string" && problems.length < 10) {
      const bad = findForbiddenCharacter(t.source.replace(/[\t\r\n]/g, " "));
      if (bad !== undefined) {
        const where = typeof t.offset === "number" ? lineColumn(lines, t.offset + bad.index) : "document";
        problems.push({ path: where, message: `${type === "comment" ? "a comment " : ""}${bad.message}` });
      }
    }
    for (const value of Object.values(t)) if (typeof value === "object" && value !== null) stack.push([value, depth]);
  }
  return problems.length > 0 ? { ok: false, code: "E_SPEC_INVALID", problems } : undefined;
}

/**
 * Directives other than `%YAML 1.2` and `%TAG`: `%YAML 1.1` would switch the parser to YAML 1.1,
 * where `yes`, `on` and `no` are booleans, `010` is octal and `<<` merges mappings, so that one
 * text would mean something other than it means everywhere else; unknown directives mean nothing.
 */
function checkDirectives(tokens: readonly CST.Token[], lines: LineCounter): Problem[] {
  const problems: Problem[] = [];
  for (const t of tokens) {
    if (t.type !== "directive") continue;
    const [name, ...args] = t.source.trim().split(/[ \t]+/);
    if (name === "%TAG") continue;
    const message = name === "%YAML"
      ? args[0] === "1.2" ? undefined : `the directive ${printable(t.source.trim())} asks for another YAML version; documents are YAML 1.2: remove it`
      : `unknown directive ${printable(name ?? "")}; remove it`;
    if (message) problems.push({ path: lineColumn(lines, t.offset), message });
  }
  return problems;
}

/** Explicit tags allowed: YAML 1.2 core schema types, and the non-specific `!` (a string). */
const CORE_TAGS = new Set(["!", ...["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`)]);

/**
 * Map key of a scalar mapping key, for finding duplicates: the property name it becomes in plain
 * data, where `1` and `"1"` are one key (the second would silently replace the first).
 */
function keyIdentity(value: unknown): string {
  return String(value);
}

/**
 * The composed document's problems that need its nodes, in one iterative walk: a key given twice
 * in one mapping (found with a set per mapping: the parser's own check compares every key with
 * every other one, which a mapping of many keys turns into minutes of CPU), a list or mapping used
 * as a key, and explicit tags outside the core schema (`!foo`, `!!python/object`, `!!binary`):
 * refused, never read as plain strings.
 */
function checkNodes(doc: Document, lines: LineCounter): Problem[] {
  const duplicates: number[] = []; // offsets of repeated keys
  const tags: Problem[] = [];
  const complexKeys: Problem[] = [];
  const stack: Array<[unknown, string]> = [[doc.contents, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (isScalar(node) || isCollection(node)) {
      if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
        const where = path || (node.range ? lineColumn(lines, node.range[0]) : "document");
        tags.push({ path: where, message: `has the YAML tag ${printable(node.tag.replace(/^tag:yaml\.org,2002:/, "!!"))}, which is not a core schema type; remove the tag` });
      }
    }
    // Children go on the stack last first, so that they come off it in document order.
    if (isMap(node)) {
      const keys = new Set<string>();
      const children: Array<[unknown, string]> = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const scalarKey = isScalar(pair.key) ? pair.key : undefined;
        // A list or mapping as a key would become its text as a property name: never a known key.
        if (isCollection(pair.key)) {
          complexKeys.push({ path: pair.key.range ? lineColumn(lines, pair.key.range[0]) : path || "document", message: "a key is a list or a mapping; keys are names" });
        }
        if (scalarKey) {
          const id = keyIdentity(scalarKey.value);
          if (keys.has(id)) duplicates.push(scalarKey.range?.[0] ?? 0);
          keys.add(id);
        }
        const name = scalarKey && (typeof scalarKey.value === "string" || typeof scalarKey.value === "number") ? String(scalarKey.value) : undefined;
        children.push([pair.key, path || "document"], [pair.value, name !== undefined ? at(path, printable(name)) : path]);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push([node.items[i], at(path, i)]);
    }
  }
  const repeated = duplicates.sort((a, b) => a - b).map((offset) => ({ path: lineColumn(lines, offset), message: "Map keys must be unique" }));
  return [...repeated, ...complexKeys, ...tags];
}

/**
 * Parses YAML or JSON text into plain data, or the problems that stop it (with line and column)
 * and their code: `E_TOO_LARGE`, `E_TOO_DEEP`, or `E_SPEC_INVALID` for syntax errors, unknown
 * tags and forbidden characters outside values.
 */
export function parseDocumentText(text: string): { ok: true; data: unknown } | TextProblems {
  if (text.length > MAX_DOCUMENT_BYTES || new TextEncoder().encode(text).length > MAX_DOCUMENT_BYTES) {
    return { ok: false, code: "E_TOO_LARGE", problems: [{ path: "document", message: `is larger than ${MAX_DOCUMENT_BYTES} bytes` }] };
  }
  // One pass of the parser: the syntax tree is checked, then composed into the document.
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const syntax = checkSyntaxTree(tokens, lines);
  if (syntax?.code === "E_TOO_DEEP") return syntax;
  const directives = checkDirectives(tokens, lines);
  if (directives.length > 0) return { ok: false, code: "E_SPEC_INVALID", problems: directives };
  const docs = new Composer({ uniqueKeys: false }).compose(tokens, true, text.length);
  const doc = docs.next().value as Document.Parsed;
  const errors = [...doc.errors];
  const second = docs.next();
  if (!second.done) errors.push({ pos: [second.value.range[0], second.value.range[0]], message: "a second YAML document starts here; write one document" } as (typeof errors)[number]);
  if (errors.length > 0) {
    return {
      ok: false,
      code: "E_SPEC_INVALID",
      problems: errors.map((e) => {
        const where = lines.linePos(e.pos[0]);
        return { path: `line ${where.line}, column ${where.col}`, message: e.message.split("\n")[0]! };
      }),
    };
  }
  if (syntax) return syntax;
  // Warnings of the composer are mistakes in a document of this model (an ambiguous alias, bad
  // indentation); unresolved tags are reported by checkNodes, with their field.
  const warnings = doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED");
  if (warnings.length > 0) {
    return { ok: false, code: "E_SPEC_INVALID", problems: warnings.map((w) => ({ path: lineColumn(lines, w.pos[0]), message: w.message.split("\n")[0]! })) };
  }
  const nodes = checkNodes(doc, lines);
  if (nodes.length > 0) return { ok: false, code: "E_SPEC_INVALID", problems: nodes };
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { ok: false, code: "E_SPEC_INVALID", problems: [{ path: "document", message: (err as Error).message }] };
  }
}

/**
 * Parses and validates a whole document's text: what `validate`, `render`, `apply`, `push` and a
 * `host.apply` with a string document go through. A blank document is refused with
 * `E_EMPTY_DOCUMENT` (see checkWholeDocument).
 */
export function checkDocumentText(text: string, ctx: HostContext = {}): CheckResult {
  const parsed = parseDocumentText(text);
  if (!parsed.ok) return parsed;
  return checkWholeDocument(parsed.data, ctx);
}

/**
 * The desired state of a whole document as `host.apply` receives it, text or already-parsed
 * data; throws a SpecError carrying the check's code (`E_EMPTY_DOCUMENT`, `E_TOO_DEEP`,
 * `E_TOO_LARGE`, `E_SPEC_INVALID`), the first problems and their full count.
 */
export function decodeWholeDocument(document: string | Record<string, unknown>, ctx: HostContext = {}): DesiredState {
  const r = typeof document === "string" ? checkDocumentText(document, ctx) : checkWholeDocument(document, ctx);
  if (!r.ok) throw problemsError(r.problems, { code: r.code ?? "E_SPEC_INVALID" });
  return r.state;
}

export { documentHash, guestToDocument, toDocument } from "./canonical.js";
