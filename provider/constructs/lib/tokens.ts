/** Helpers the constructs share for values that may be tokens (known only at apply). */
import { Token } from "cdktf";

/** A vendor or device id as the document spells it: a number becomes 0x and four hex digits. */
export const idString = (v: string | number | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === "number" ? `0x${v.toString(16).padStart(4, "0")}` : v;

/** A value known at synth (not an unresolved token). */
export const concrete = (v: unknown): boolean => !(typeof v === "string" || typeof v === "number") || !Token.isUnresolved(v);
