/**
 * `acpidump -t` output: every table is printed as a header inside a C comment, by
 * acpi_print_sdt(): `  SIG: Length=N, Revision=N, Checksum=N[ (Incorrect)],` then
 * `\tOEMID=…, OEM Table ID=…, OEM Revision=0x…,` and `\tCreator ID=…, Creator Revision=0x…`.
 * The RSDP is printed first as `  RSD PTR: OEM=…, ACPI_Rev=…`.
 */

/** One ACPI table header. */
export interface AcpiTable {
  readonly signature: string;
  readonly length: number;
  readonly revision: number;
  readonly checksum: number;
  /** False when acpidump marked the checksum `(Incorrect)` (newer acpidump only). */
  readonly checksumOk: boolean;
  readonly oemId?: string;
  readonly oemTableId?: string;
  readonly oemRevision?: number;
  readonly creatorId?: string;
  readonly creatorRevision?: number;
}

/** The tables and the RSDP's OEM and ACPI revision, when printed. */
export interface AcpiDump {
  readonly rsdp?: { readonly oem: string; readonly acpiRevision: string };
  readonly tables: AcpiTable[];
}

const HEADER = /^\s{0,4}(\S.{3}): Length=(\d+), Revision=(\d+), Checksum=(\d+)( \(Incorrect\))?,?\s*$/;
const OEM = /^\s+OEMID=(.*?), OEM Table ID=(.*?), OEM Revision=0x([0-9a-fA-F]+),?\s*$/;
const CREATOR = /^\s+Creator ID=(.*?), Creator Revision=0x([0-9a-fA-F]+)\s*$/;
const RSDP = /^\s*RSD PTR: OEM=(.*?), ACPI_Rev=(.*?)\s*$/;

/** Parses `acpidump -t` (table bodies after the headers are skipped). */
export function parseAcpidump(text: string): AcpiDump {
  const tables: AcpiTable[] = [];
  let rsdp: AcpiDump["rsdp"];
  let last: { -readonly [K in keyof AcpiTable]: AcpiTable[K] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    const r = RSDP.exec(line);
    if (r) {
      rsdp = { oem: r[1]!, acpiRevision: r[2]! };
      continue;
    }
    const h = HEADER.exec(line);
    if (h) {
      last = {
        signature: h[1]!,
        length: Number(h[2]),
        revision: Number(h[3]),
        checksum: Number(h[4]),
        checksumOk: h[5] === undefined,
      };
      tables.push(last);
      continue;
    }
    const o = last ? OEM.exec(line) : null;
    if (last && o) {
      last.oemId = o[1]!;
      last.oemTableId = o[2]!;
      last.oemRevision = parseInt(o[3]!, 16);
      continue;
    }
    const c = last ? CREATOR.exec(line) : null;
    if (last && c) {
      last.creatorId = c[1]!;
      last.creatorRevision = parseInt(c[2]!, 16);
      last = undefined;
    }
  }
  return { ...(rsdp ? { rsdp } : {}), tables };
}

/** True when a table with this signature was dumped (e.g. `DMAR` for Intel VT-d, `IVRS` for AMD-Vi). */
export function hasAcpiTable(dump: AcpiDump, signature: string): boolean {
  return dump.tables.some((t) => t.signature === signature);
}
