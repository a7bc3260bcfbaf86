/**
 * The one mapper between a resource's Terraform values and the agent's document, driven by the
 * schema: an attribute that declares `document` is that document key, a block that declares it is
 * that document list (or, `single`, that one mapping), and `default` is what a plan shows for an attribute the configuration leaves
 * out. A new document field is an attribute in the schema; no code here or in the resources names
 * it. The constructs use {@link l1Properties} to build their L1 resources from the same document
 * form they validate.
 */
import type { AttributeDef, BlockDef, NestedBlockDef } from "../plugin/schema.js";
import { isUnknown } from "../plugin/unknown.js";

type Values = Readonly<Record<string, unknown>>;

const documentKey = (name: string, a: { readonly document?: true | string }): string => (a.document === true ? name : (a.document as string));
const elements = (v: unknown): Values[] => (Array.isArray(v) ? (v as Values[]) : []);
/** A document block's elements in the document: its list, or the one mapping of a single block. */
const docElements = (nb: NestedBlockDef, v: unknown): Values[] => (!nb.single ? elements(v) : v !== null && typeof v === "object" && !Array.isArray(v) ? [v as Values] : []);

/**
 * The document form of a configuration or planned value: each document attribute's known,
 * non-null value, and each document block as a list (empty when absent).
 */
export function toDocumentForm(b: BlockDef, v: Values): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(b.attributes)) {
    if (!a.document) continue;
    const x = v[name];
    if (x !== null && x !== undefined && !isUnknown(x)) doc[documentKey(name, a)] = x;
  }
  for (const [name, nb] of Object.entries(b.blocks ?? {})) {
    if (!nb.document) continue;
    const list = elements(v[name]).map((e) => toDocumentForm(nb.block, e));
    if (!nb.single) doc[nb.document] = list;
    else if (list[0]) doc[nb.document] = list[0];
  }
  return doc;
}

/**
 * Values of the document attributes and blocks from a document (the agent's canonical form): a
 * key the document does not have is its attribute's default, or null. Where `prior` (the configuration or the last state)
 * holds a value that means the same (`sameValue`: `32G` and `32768M`), its spelling is kept, so a
 * read shows no change.
 */
export function fromDocumentForm(b: BlockDef, doc: Values, prior?: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(b.attributes)) {
    if (!a.document) continue;
    const x = doc[documentKey(name, a)];
    // A key the document leaves out means its default (the canonical form writes newer fields only
    // when they are not their defaults); without a default, null.
    out[name] = x === undefined ? (a.default ?? null) : keepSpelling(a, prior?.[name], x);
  }
  for (const [name, nb] of Object.entries(b.blocks ?? {})) {
    if (!nb.document) continue;
    const before = elements(prior?.[name]);
    out[name] = docElements(nb, doc[nb.document]).map((e, i) => fromDocumentForm(nb.block, e, before[i]));
  }
  return out;
}

function keepSpelling(a: AttributeDef, prior: unknown, value: unknown): unknown {
  if (prior === null || prior === undefined || isUnknown(prior) || !a.sameValue) return value;
  return a.sameValue(prior, value) ? prior : value;
}

/**
 * A plan's value: the proposal with each defaulted attribute taken from the configuration, or its
 * declared default when the configuration leaves it out (Terraform proposes the last read value
 * for an optional computed attribute, which would hide drift); blocks element by element.
 */
export function withDefaults(b: BlockDef, config: Values, proposed: Values): Record<string, unknown> {
  const out: Record<string, unknown> = { ...proposed };
  for (const [name, a] of Object.entries(b.attributes)) {
    if (a.default !== undefined) out[name] = config[name] ?? a.default;
  }
  for (const [name, nb] of Object.entries(b.blocks ?? {})) {
    if (Object.values(nb.block.attributes).some((a) => a.default !== undefined)) {
      out[name] = elements(config[name]).map((e) => withDefaults(nb.block, e, e));
    }
  }
  return out;
}

/** `start_order` as the generated bindings spell it: `startOrder`. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `startOrder` as the document spells it: `start_order`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The properties of a generated L1 resource (camelCase attribute and block names) for a document:
 * each document key the document has, under its attribute's name (a document block always, empty
 * when the document has none); a number given for a string
 * attribute (a guest's memory as bytes) is written as text, as the schema types it.
 */
export function l1Properties(b: BlockDef, doc: Values): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(b.attributes)) {
    if (!a.document) continue;
    const x = doc[documentKey(name, a)];
    if (x === undefined) continue;
    props[camelCase(name)] = a.type === "string" && typeof x === "number" ? String(x) : x;
  }
  for (const [name, nb] of Object.entries(b.blocks ?? {})) {
    if (!nb.document) continue;
    const list = docElements(nb, doc[nb.document]).map((e) => l1Properties(nb.block, e));
    // The bindings type a single block as one object (absent when the document has none).
    if (!nb.single) props[camelCase(name)] = list;
    else if (list[0]) props[camelCase(name)] = list[0];
  }
  return props;
}

/**
 * The document form of construct properties: keys from camelCase to the document's snake_case,
 * lists and objects converted element by element, absent values left out. `value` turns a
 * reference (a PptDevice) or a property's own form (an id given as a number) into the value the
 * document holds; `omit` are properties that are not part of the document (the host).
 */
export function documentOfProps(props: object, opts: { omit?: readonly string[]; value?: (v: unknown, key: string) => unknown } = {}): Record<string, unknown> {
  const convert = (v: unknown, key: string): unknown => {
    const x = opts.value ? opts.value(v, key) : v;
    if (Array.isArray(x)) return x.map((e) => convert(e, key));
    if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) return documentOfProps(x, { ...opts, omit: [] });
    return x;
  };
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || opts.omit?.includes(k)) continue;
    doc[snakeCase(k)] = convert(v, k);
  }
  return doc;
}

/** Every leaf value of a document (for a check that none is a token); any object but a plain one is a leaf. */
export function documentLeaves(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc.flatMap(documentLeaves);
  if (doc !== null && typeof doc === "object" && Object.getPrototypeOf(doc) === Object.prototype) return Object.values(doc).flatMap(documentLeaves);
  return [doc];
}

/**
 * The attribute path (Terraform's `disk[1].path`, as segments) of a document path (`disks[1].path`
 * as segments), through the schema's document keys; undefined when its first key is no attribute
 * or block of the schema. A key below a leaf or unknown to the schema ends the path there.
 */
export function attributePathOf(b: BlockDef, docPath: ReadonlyArray<string | number>): Array<string | number> | undefined {
  const out: Array<string | number> = [];
  let block: BlockDef | undefined = b;
  for (const seg of docPath) {
    if (typeof seg === "number") {
      out.push(seg);
      continue;
    }
    const attr: [string, AttributeDef] | undefined = block && Object.entries(block.attributes).find(([k, a]) => a.document && documentKey(k, a) === seg);
    const nested: [string, NestedBlockDef] | undefined = block && Object.entries(block.blocks ?? {}).find(([, nb]) => nb.document === seg);
    if (attr) {
      out.push(attr[0]);
      block = undefined;
    } else if (nested) {
      out.push(nested[0]);
      // A single block is Terraform's list of one: framebuffer[0].port.
      if (nested[1].single) out.push(0);
      block = nested[1].block;
    } else break;
  }
  return out.length > 0 && typeof out[0] === "string" ? out : undefined;
}
