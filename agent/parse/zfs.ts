/**
 * zfs-get(8) in scripted form (`-H -p -o name,property,value,source`): one line per dataset and
 * property, fields separated by tabs, `-` for a property that does not apply or a user property
 * that is not set, exact numbers; and the "cannot open 'X': dataset does not exist" lines zfs
 * prints for operands that are not there (it goes on with the others and exits 1).
 */

/** A property's value and source as zfs get printed them ("-" as null). */
export interface ZfsProperty {
  readonly value: string | null;
  readonly source: string | null;
}

/**
 * The lines of `zfs get -H -p -o name,property,value,source`, by dataset and property. A value
 * may itself hold tabs (a user property's), so it is what lies between the first two fields and
 * the last; a line break in one would forge a line, so a (dataset, property) seen twice, or one
 * not asked for, makes the reading fail (null, with the line) rather than be guessed.
 */
export function parseZfsGet(text: string, names: readonly string[], properties: readonly string[]): { ok: true; props: Map<string, Map<string, ZfsProperty>> } | { ok: false; line: string } {
  const props = new Map<string, Map<string, ZfsProperty>>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const cells = line.split("\t");
    const [name, property] = cells as [string, string];
    if (cells.length < 4 || !names.includes(name) || !properties.includes(property) || props.get(name)?.has(property)) return { ok: false, line };
    const value = cells.slice(2, -1).join("\t");
    const source = cells.at(-1)!;
    if (!props.has(name)) props.set(name, new Map());
    props.get(name)!.set(property, { value: value === "-" ? null : value, source: source === "-" ? null : source });
  }
  return { ok: true, props };
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
