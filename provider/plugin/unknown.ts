/**
 * Terraform's unknown value ("known after apply") and the value types, apart from the msgpack
 * codec in values.ts, so that code the constructs bundle (the document mapper) can tell unknowns
 * without carrying the codec.
 */

/** An unknown value ("known after apply"). */
export class Unknown {
  toJSON(): string {
    return "<unknown>";
  }
}

/** The one unknown value. */
export const UNKNOWN = new Unknown();

/** A cty value in JavaScript. */
export type Value = null | boolean | number | string | Unknown | Value[] | { [key: string]: Value };

/** A cty type, in Terraform's JSON type notation. */
export type CtyType = "string" | "number" | "bool" | "dynamic" | ["list" | "set" | "map", CtyType] | ["object", { [key: string]: CtyType }];

/** True when `v` is unknown. */
export function isUnknown(v: unknown): v is Unknown {
  return v instanceof Unknown;
}
