/** Byte sizes as bhyve's `-m` and the document's `memory` field write them (binary units). */
import { quote } from "./limits.js";

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Result of parsing a size: bytes, or why the value is not a size. */
export type SizeResult = { ok: true; bytes: number } | { ok: false; reason: string };

/** Parses a byte count or a number with a K/M/G/T suffix (powers of 1024, either case). */
export function parseSize(value: string | number): SizeResult {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      return { ok: false, reason: `${value} is not a whole number of bytes` };
    }
    return { ok: true, bytes: value };
  }
  const m = /^(\d{1,15})([KMGTkmgt])?$/.exec(value);
  if (!m) {
    return { ok: false, reason: `${quote(value)} is not a size; write bytes or a whole number with K, M, G or T (e.g. 32G)` };
  }
  const bytes = Number(m[1]) * (m[2] ? UNITS[m[2].toUpperCase()]! : 1);
  if (!Number.isSafeInteger(bytes)) return { ok: false, reason: `${quote(value)} is too large` };
  return { ok: true, bytes };
}

/** Writes bytes with the largest binary unit that divides them exactly (`34359738368` → `32G`). */
export function formatSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"] as const) {
    const scale = UNITS[unit]!;
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}
