/**
 * zfs-list(8) in scripted form (`-H -p -o COLUMNS`): one line per dataset, columns separated by
 * single tabs, `-` for a property that does not apply or a user property that is not set, exact
 * numbers; and the "cannot open 'X': dataset does not exist" lines it prints for operands that
 * are not there (it goes on with the others and exits 1).
 */

/** Rows of `zfs list -H -p -o COLUMNS`, each as a column-name → value map ("-" kept as null). */
export function parseZfsList(text: string, columns: readonly string[]): Array<Record<string, string | null>> {
  const rows: Array<Record<string, string | null>> = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const cells = line.split("\t");
    if (cells.length !== columns.length) throw new Error(`zfs list printed ${cells.length} columns where ${columns.length} were asked for: ${JSON.stringify(line.slice(0, 200))}`);
    rows.push(Object.fromEntries(columns.map((c, i) => [c, cells[i] === "-" ? null : cells[i]!])));
  }
  return rows;
}

/** The datasets zfs reported missing, and every other complaint on its standard error. */
export function zfsMissing(stderr: string): { missing: string[]; other: string[] } {
  const missing: string[] = [];
  const other: string[] = [];
  for (const line of stderr.split("\n")) {
    if (line === "") continue;
    const m = /^cannot open '(.+)': dataset does not exist$/.exec(line);
    if (m) missing.push(m[1]!);
    else other.push(line);
  }
  return { missing, other };
}

/** A byte count zfs printed with -p, or null for `-` or anything that is not a whole number. */
export function zfsBytes(v: string | null | undefined): number | null {
  return v !== null && v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}
