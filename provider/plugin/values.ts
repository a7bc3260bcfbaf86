/**
 * Terraform values as they cross the protocol: cty values in msgpack (DynamicValue.msgpack), with
 * unknown values as msgpack extension type 0. Terraform also sends refined unknowns (extension
 * type 12, with refinements we do not need): every extension type decodes as unknown.
 */
import { decode, encode, ExtData, ExtensionCodec } from "@msgpack/msgpack";

import { isUnknown, Unknown, UNKNOWN, type CtyType, type Value } from "./unknown.js";

export { isUnknown, Unknown, UNKNOWN, type CtyType, type Value } from "./unknown.js";

/** True when `v`, or anything inside it, is unknown. */
export function containsUnknown(v: Value): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  encode: (input: unknown) => (input instanceof Unknown ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});

/** A value that does not have the type the schema says. */
export class ValueError extends Error {
  constructor(message: string, readonly path: Array<string | number>) {
    super(path.length ? `${path.join(".")}: ${message}` : message);
    this.name = "ValueError";
  }
}

/**
 * Makes a decoded or provider-built value conform to `type`: every object attribute present
 * (null when absent), numbers as numbers, extension data as unknown. Throws ValueError on a
 * value of another kind and on an object attribute the type does not have.
 */
export function conform(type: CtyType, v: unknown, path: Array<string | number> = []): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof ExtData || v instanceof Unknown) return UNKNOWN;
  if (type === "dynamic") return v as Value;
  if (type === "string") {
    if (typeof v !== "string") throw new ValueError(`expected a string, got ${typeof v}`, path);
    return v;
  }
  if (type === "number") {
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
    throw new ValueError(`expected a number, got ${typeof v}`, path);
  }
  if (type === "bool") {
    if (typeof v !== "boolean") throw new ValueError(`expected a bool, got ${typeof v}`, path);
    return v;
  }
  const [kind, inner] = type;
  if (kind === "list" || kind === "set") {
    if (!Array.isArray(v)) throw new ValueError(`expected a ${kind}`, path);
    return v.map((x, i) => conform(inner as CtyType, x, [...path, i]));
  }
  if (typeof v !== "object" || Array.isArray(v)) throw new ValueError(`expected a ${kind}`, path);
  const obj = v as Record<string, unknown>;
  if (kind === "map") {
    return Object.fromEntries(Object.entries(obj).map(([k, x]) => [k, conform(inner as CtyType, x, [...path, k])]));
  }
  const attrs = inner as Record<string, CtyType>;
  for (const k of Object.keys(obj)) if (!(k in attrs)) throw new ValueError(`unexpected attribute "${k}"`, path);
  return Object.fromEntries(Object.entries(attrs).map(([k, t]) => [k, conform(t, obj[k], [...path, k])]));
}

/** Decodes DynamicValue.msgpack (an empty buffer is null) against `type`. */
export function decodeValue(type: CtyType, bytes: Uint8Array | undefined | null): Value {
  if (!bytes || bytes.length === 0) return null;
  return conform(type, decode(bytes, { extensionCodec: codec }));
}

/** Decodes DynamicValue.json (used by UpgradeResourceState's raw state) against `type`. */
export function decodeJsonValue(type: CtyType, bytes: Uint8Array | undefined | null): Value {
  if (!bytes || bytes.length === 0) return null;
  return conform(type, JSON.parse(Buffer.from(bytes).toString("utf8")));
}

/** Encodes a value of `type` as msgpack (conforming it first). */
export function encodeValue(type: CtyType, v: Value): Uint8Array {
  return encode(conform(type, v), { extensionCodec: codec, ignoreUndefined: false });
}
