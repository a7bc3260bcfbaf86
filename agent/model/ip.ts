/**
 * Numeric IP addresses as inet_pton(3) reads them (what bhyve's rfb_init() takes with
 * AI_NUMERICHOST): pure code, for the model, which does no I/O.
 */

/** Dotted-quad IPv4: four decimal parts 0-255, no leading zeros (inet_pton refuses octal-looking ones). */
export function isIPv4Literal(a: string): boolean {
  const parts = a.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** IPv6 text form (RFC 4291 2.2): eight groups of 1-4 hex digits, one `::` for a run of zeros, an IPv4 tail allowed; no zone. */
export function isIPv6Literal(a: string): boolean {
  if (a.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(a)) return false;
  const halves = a.split("::");
  if (halves.length > 2) return false;
  const groups = (s: string): string[] | null => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = all.length;
  // An IPv4 tail counts as two groups, and only as the last one.
  const last = all[all.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4Literal(last)) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}
