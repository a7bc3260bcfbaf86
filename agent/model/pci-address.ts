/**
 * PCI addresses as bhyve and the kernel spell them. pptdevs and `-s …,passthru,B/S/F` use decimal
 * bus/slot/function with no domain (vmm_is_pptdev() does sscanf("%d/%d/%d")), and bhyve refuses
 * devices outside domain 0, so the model holds domain-0 addresses only.
 */
import { quote } from "./limits.js";

export interface PciAddress {
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
}

/** Result of parsing an address: the address, or why the text is not one. */
export type PciAddressResult = { ok: true; address: PciAddress } | { ok: false; reason: string };

const BSF = /^(\d{1,3})\/(\d{1,2})\/(\d{1,3})$/;
const SELECTOR = /^pci(\d{1,5}):(\d{1,3}):(\d{1,2}):(\d{1,3})$/;

/**
 * Parses `B/S/F` (decimal) or `pciD:B:S:F`. Functions above 7 exist only with ARI, where the
 * device number is always 0, so `function > 7` is accepted only together with `slot == 0`.
 */
export function parsePciAddress(text: string): PciAddressResult {
  const bsf = BSF.exec(text);
  const sel = bsf ? null : SELECTOR.exec(text);
  const parts = bsf ? ["0", bsf[1], bsf[2], bsf[3]] : sel ? [sel[1], sel[2], sel[3], sel[4]] : null;
  if (!parts) {
    return {
      ok: false,
      reason: `${quote(text)} is not a PCI address; write bus/slot/function in decimal (e.g. 3/0/0) or pci0:B:S:F`,
    };
  }
  const [domain, bus, slot, fn] = parts.map(Number) as [number, number, number, number];
  if (domain !== 0) {
    return { ok: false, reason: `${quote(text)} is in PCI domain ${domain}; bhyve passes through devices in domain 0 only` };
  }
  if (bus > 255) return { ok: false, reason: `${quote(text)}: bus ${bus} is out of range (0-255)` };
  if (slot > 31) return { ok: false, reason: `${quote(text)}: slot ${slot} is out of range (0-31)` };
  if (fn > 255) return { ok: false, reason: `${quote(text)}: function ${fn} is out of range (0-7, or 0-255 with ARI)` };
  if (fn > 7 && slot !== 0) {
    return { ok: false, reason: `${quote(text)}: function ${fn} is above 7, which only an ARI device at slot 0 can have` };
  }
  return { ok: true, address: { bus, slot, function: fn } };
}

/** The `B/S/F` form used in pptdevs and bhyve's passthru option. */
export function formatBsf(a: PciAddress): string {
  return `${a.bus}/${a.slot}/${a.function}`;
}

/** The `pci0:B:S:F` selector form used by pciconf and devctl. */
export function formatSelector(a: PciAddress): string {
  return `pci0:${a.bus}:${a.slot}:${a.function}`;
}

/** Orders addresses by bus, slot, function. */
export function comparePciAddress(a: PciAddress, b: PciAddress): number {
  return a.bus - b.bus || a.slot - b.slot || a.function - b.function;
}

/** True when both name the same function. */
export function samePciAddress(a: PciAddress, b: PciAddress): boolean {
  return comparePciAddress(a, b) === 0;
}

/** True when both are functions of one physical device (same bus and slot). */
export function sameDevice(a: PciAddress, b: PciAddress): boolean {
  return a.bus === b.bus && a.slot === b.slot;
}
