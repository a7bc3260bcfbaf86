/**
 * `pciconf -l` and `pciconf -lv` output, in the FreeBSD 13+ format
 * (`class=… rev=… hdr=… vendor=… device=… subvendor=… subdevice=…`) and the older one
 * (`class=… card=… chip=… rev=… hdr=…`, card = subdevice<<16|subvendor, chip = device<<16|vendor).
 * Copied output often has spaces for the tab after the selector, so fields are split on any white
 * space, which also keeps `subvendor=` from matching `vendor=`.
 */

/** One PCI function as pciconf lists it. */
export interface PciconfEntry {
  /** Driver instance name as printed, e.g. `ppt0`, `vgapci0`, `none3`. */
  readonly name: string;
  /** Attached driver, or null when pciconf says `none`. */
  readonly driver: string | null;
  readonly unit: number;
  readonly domain: number;
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
  /** `pciD:B:S:F`. */
  readonly selector: string;
  /** `B/S/F`, the form pptdevs and bhyve use. */
  readonly device: string;
  readonly classCode: number;
  readonly revision: number;
  /** Header type byte; bit 7 marks a multi-function device. */
  readonly header: number;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly subvendorId: number;
  readonly subdeviceId: number;
  readonly vendorName?: string;
  readonly deviceName?: string;
  readonly className?: string;
  readonly subclassName?: string;
  /** Further indented lines (`-c` capabilities, `-b` BARs), as printed. */
  readonly extra: readonly string[];
}

/** Parsed output: the entries, and lines that fit no known shape (kept so callers can report them). */
export interface PciconfList {
  readonly entries: PciconfEntry[];
  readonly unparsed: string[];
}

// name+unit @ pci [domain:]bus:slot:function: fields. Old releases printed pciB:S:F without a domain.
const ENTRY = /^([A-Za-z_][A-Za-z0-9_.]*?)(\d+)@pci(\d+):(\d+):(\d+)(?::(\d+))?:\s+(.*)$/;
const VERBOSE = /^\s+(vendor|device|class|subclass)\s+=\s+(.*?)\s*$/;

function hex(fields: Map<string, string>, key: string): number | undefined {
  const v = fields.get(key);
  return v !== undefined && /^0x[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : undefined;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith("'") && s.endsWith("'") ? s.slice(1, -1) : s;
}

function parseEntryLine(line: string): Omit<PciconfEntry, "extra"> | undefined {
  const m = ENTRY.exec(line);
  if (!m) return undefined;
  const nums = m[6] === undefined ? [0, Number(m[3]), Number(m[4]), Number(m[5])] : [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  const [domain, bus, slot, fn] = nums as [number, number, number, number];
  const fields = new Map<string, string>();
  for (const token of m[7]!.trim().split(/\s+/)) {
    const eq = token.indexOf("=");
    if (eq > 0) fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  const classCode = hex(fields, "class");
  const revision = hex(fields, "rev");
  const header = hex(fields, "hdr");
  let ids: [number | undefined, number | undefined, number | undefined, number | undefined];
  if (fields.has("chip")) {
    const chip = hex(fields, "chip");
    const card = hex(fields, "card");
    ids = [
      chip === undefined ? undefined : chip & 0xffff,
      chip === undefined ? undefined : chip >>> 16,
      card === undefined ? undefined : card & 0xffff,
      card === undefined ? undefined : card >>> 16,
    ];
  } else {
    ids = [hex(fields, "vendor"), hex(fields, "device"), hex(fields, "subvendor"), hex(fields, "subdevice")];
  }
  if (classCode === undefined || revision === undefined || header === undefined || ids.some((x) => x === undefined)) {
    return undefined;
  }
  const [vendorId, deviceId, subvendorId, subdeviceId] = ids as [number, number, number, number];
  const name = `${m[1]}${m[2]}`;
  return {
    name,
    driver: m[1] === "none" ? null : m[1]!,
    unit: Number(m[2]),
    domain,
    bus,
    slot,
    function: fn,
    selector: `pci${domain}:${bus}:${slot}:${fn}`,
    device: `${bus}/${slot}/${fn}`,
    classCode,
    revision,
    header,
    vendorId,
    deviceId,
    subvendorId,
    subdeviceId,
  };
}

/** Parses `pciconf -l`, `-lv`, `-lvc` or `-lvb` output. */
export function parsePciconf(text: string): PciconfList {
  const entries: PciconfEntry[] = [];
  const unparsed: string[] = [];
  let current: (Omit<PciconfEntry, "extra"> & { extra: string[]; vendorName?: string; deviceName?: string; className?: string; subclassName?: string }) | undefined;
  const flush = (): void => {
    if (current) entries.push(current);
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const entry = parseEntryLine(line);
    if (entry) {
      flush();
      current = { ...entry, extra: [] };
      continue;
    }
    const v = current ? VERBOSE.exec(line) : null;
    if (current && v) {
      const value = v[2]!;
      if (v[1] === "vendor") current.vendorName = unquote(value);
      else if (v[1] === "device") current.deviceName = unquote(value);
      else if (v[1] === "class") current.className = value;
      else current.subclassName = value;
    } else if (current && /^\s/.test(line)) {
      current.extra.push(line.trim());
    } else {
      unparsed.push(line);
    }
  }
  flush();
  return { entries, unparsed };
}

/** True when the function is a PCI-to-PCI or CardBus bridge (header type 1 or 2), which ppt never claims. */
export function isBridge(e: Pick<PciconfEntry, "header">): boolean {
  return (e.header & 0x7f) !== 0;
}

/**
 * Parses `pciconf -r [-b|-h] selector addr[:addr2]` output: hex words (8, 4 or 2 digits, no `0x`)
 * separated by spaces, four per line for 32-bit reads, with a trailing space.
 */
export function parsePciconfRead(text: string): number[] {
  const words = text.trim().split(/\s+/).filter((w) => w !== "");
  return words.map((w) => {
    if (!/^[0-9a-fA-F]{2}$|^[0-9a-fA-F]{4}$|^[0-9a-fA-F]{8}$/.test(w)) {
      throw new Error(`pciconf -r: "${w}" is not a 2, 4 or 8 digit hex word`);
    }
    return parseInt(w, 16);
  });
}
