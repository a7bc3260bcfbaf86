/** sysctl(8) output: `name: value` lines (values may run over several lines) and `-n` values. */

/** Parses `sysctl name…` output into a map, in the order printed. Lines that do not start a new
 * `name: value` pair continue the previous value (multi-line string values). When `names` is
 * given, only those names start a new pair, so a continuation line that happens to look like
 * `x: y` stays in its value. */
export function parseSysctl(text: string, names?: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.replace(/\r?\n$/, "").split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_%.-]+): ?(.*)$/.exec(line);
    if (m && (!names || names.includes(m[1]!))) {
      last = m[1]!;
      out.set(last, m[2]!);
    } else if (last !== undefined) {
      out.set(last, `${out.get(last)}\n${line}`);
    } else if (line !== "") {
      throw new Error(`sysctl: unexpected line before any "name: value" pair: ${JSON.stringify(line)}`);
    }
  }
  return out;
}

/** The value `sysctl -n name` prints for one single-line name. */
export function parseSysctlValue(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/** Names sysctl reported as unknown on stderr (`sysctl: unknown oid 'hw.vmm.foo'`, with or without quotes). */
export function parseSysctlUnknown(stderr: string): string[] {
  const out: string[] = [];
  for (const m of stderr.matchAll(/^sysctl: unknown oid '?([^'\s]+?)'?(?:: .*)?$/gm)) out.push(m[1]!);
  return out;
}

/** A sysctl integer value (`vm.max_user_wired`, `hw.vmm.iommu.enable`); undefined when not an integer. */
export function sysctlInt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^0x[0-9a-fA-F]+$/.test(v)) return parseInt(v, 16);
  return undefined;
}
