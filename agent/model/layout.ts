/**
 * Guest PCI slot plan. Passthrough functions and explicitly placed disks and NICs keep the slots
 * the document gives; the rest are placed deterministically: disks from slot 4 and NICs from
 * slot 15 (vm-bhyve's plan), each taking the lowest free slot at or above its start and wrapping
 * to slot 1 when it runs out. Separate starting points keep NIC slots (and so guest interface
 * names such as enp0s15) stable when a disk is added.
 */
import type { Draft } from "./decode.js";
import { FIRST_DEVICE_SLOT, FRAMEBUFFER_SLOT, LAST_DEVICE_SLOT, TABLET_SLOT } from "./decode.js";
import { formatBsf } from "./pci-address.js";
import { at, type ProblemList } from "./problems.js";
import { seedPath } from "./cloud-init.js";
import type { Disk, Framebuffer, Guest, Nic, Passthru } from "./types.js";

/** First slot tried for disks without a slot. */
export const DISK_SLOT_START = 4;
/** First slot tried for NICs without a slot. */
export const NIC_SLOT_START = 15;

/** One occupied guest slot/function. */
export type SlotEntry =
  | { readonly kind: "passthru"; readonly slot: number; readonly function: number; readonly index: number; readonly item: Passthru }
  | { readonly kind: "disk"; readonly slot: number; readonly function: number; readonly index: number; readonly item: Disk }
  | { readonly kind: "nic"; readonly slot: number; readonly function: number; readonly index: number; readonly item: Nic }
  | { readonly kind: "framebuffer"; readonly slot: number; readonly function: 0; readonly index: 0; readonly item: Framebuffer }
  | { readonly kind: "tablet"; readonly slot: number; readonly function: 0; readonly index: 0; readonly item: Framebuffer }
  /** The cloud-init seed (an ISO image in the guest's directory), a CD placed after the disks. */
  | { readonly kind: "seed"; readonly slot: number; readonly function: 0; readonly index: 0; readonly item: Disk };

function label(e: SlotEntry): string {
  if (e.kind === "framebuffer") return "the framebuffer";
  if (e.kind === "tablet") return "the framebuffer's USB tablet";
  if (e.kind === "seed") return "the cloud-init seed";
  if (e.kind === "passthru") return `passthru[${e.index}] (${formatBsf(e.item.device)})`;
  if (e.kind === "disk") return `disks[${e.index}] (${e.item.path})`;
  return `nics[${e.index}] (${e.item.switch !== undefined ? `switch ${e.item.switch}` : e.item.tap})`;
}

/**
 * Places every device of a guest. Items whose own fields failed to decode are skipped (their
 * problems are already recorded). Collisions and exhausted slots are added to `problems`.
 * The result is ordered by slot and function.
 */
export function layoutGuest(guest: Draft<Guest>, path: string, problems: ProblemList): SlotEntry[] {
  const entries: SlotEntry[] = [];
  const bySlot = new Map<number, SlotEntry[]>();
  const place = (e: SlotEntry): void => {
    entries.push(e);
    bySlot.set(e.slot, [...(bySlot.get(e.slot) ?? []), e]);
  };

  // A framebuffer takes slots 29 (the display) and 30 (its tablet), vm-bhyve's places for them.
  if (guest.framebuffer !== undefined) {
    place({ kind: "framebuffer", slot: FRAMEBUFFER_SLOT, function: 0, index: 0, item: guest.framebuffer });
    place({ kind: "tablet", slot: TABLET_SLOT, function: 0, index: 0, item: guest.framebuffer });
  }

  (guest.passthru ?? []).forEach((p, index) => {
    if (p.device === undefined || p.slot === undefined || p.function === undefined) return;
    const clash = bySlot.get(p.slot)?.find((e) => e.function === p.function);
    if (clash) {
      problems.add(at(at(at(path, "passthru"), index), "slot"),
        `slot ${p.slot} function ${p.function} is already taken by ${label(clash)}`);
      return;
    }
    place({ kind: "passthru", slot: p.slot, function: p.function, index, item: p as Passthru });
  });

  // Disks and NICs whose own fields decoded; explicit slots are honoured first, then the rest are placed.
  type Emulated =
    | { kind: "disk"; key: "disks"; index: number; item: Disk; start: number }
    | { kind: "seed"; key: "cloud_init"; index: 0; item: Disk; start: number }
    | { kind: "nic"; key: "nics"; index: number; item: Nic; start: number };
  const emulated: Emulated[] = [
    ...(guest.disks ?? []).flatMap((d, index) =>
      d.path !== undefined && d.type !== undefined ? [{ kind: "disk" as const, key: "disks" as const, index, item: d as Disk, start: DISK_SLOT_START }] : []),
    ...(guest.cloudInit !== undefined && guest.name !== undefined
      ? [{ kind: "seed" as const, key: "cloud_init" as const, index: 0 as const, item: { path: seedPath(guest.name), type: "ahci-cd" as const }, start: DISK_SLOT_START }]
      : []),
    ...(guest.nics ?? []).flatMap((n, index) =>
      (n.tap !== undefined || n.switch !== undefined) && n.model !== undefined ? [{ kind: "nic" as const, key: "nics" as const, index, item: n as Nic, start: NIC_SLOT_START }] : []),
  ];
  const entryAt = (e: Emulated, slot: number, fn: number): SlotEntry =>
    e.kind === "disk"
      ? { kind: "disk", slot, function: fn, index: e.index, item: e.item }
      : e.kind === "seed"
        ? { kind: "seed", slot, function: 0, index: 0, item: e.item }
        : { kind: "nic", slot, function: fn, index: e.index, item: e.item };

  for (const e of emulated) {
    if (e.item.slot === undefined) continue;
    const fn = e.kind === "seed" ? 0 : (e.item.function ?? 0);
    const clash = bySlot.get(e.item.slot)?.find((x) => x.function === fn);
    if (clash) {
      problems.add(at(at(at(path, e.key), e.index), "slot"), `slot ${e.item.slot}${fn ? ` function ${fn}` : ""} is already taken by ${label(clash)}`);
      continue;
    }
    place(entryAt(e, e.item.slot, fn));
  }
  for (const e of emulated) {
    if (e.item.slot !== undefined) continue;
    const slot = freeSlot(bySlot, e.start);
    if (slot === undefined) {
      problems.add(e.kind === "seed" ? at(path, e.key) : at(at(path, e.key), e.index),
        `no free guest PCI slot left (slots ${FIRST_DEVICE_SLOT}-${LAST_DEVICE_SLOT} are all in use)`);
      continue;
    }
    place(entryAt(e, slot, 0));
  }

  // With a passthru entry that did not decode, a slot may look empty only because of it: skip the check.
  const allDecoded = (guest.passthru ?? []).every((p) => p.device !== undefined && p.slot !== undefined && p.function !== undefined) &&
    (guest.disks ?? []).every((d) => d.path !== undefined && d.type !== undefined) &&
    (guest.nics ?? []).every((n) => (n.tap !== undefined || n.switch !== undefined) && n.model !== undefined);
  for (const [slot, list] of allDecoded ? bySlot : []) {
    if (!list.some((e) => e.function === 0)) {
      const first = list[0]!;
      const key = first.kind === "disk" ? "disks" : first.kind === "nic" ? "nics" : "passthru";
      problems.add(at(at(at(path, key), first.index), "function"),
        `slot ${slot} has no function 0, so the guest will not see ${list.map(label).join(", ")}; ` +
        "give one device of the slot function 0");
    }
  }

  return entries.sort((a, b) => a.slot - b.slot || a.function - b.function);
}

function freeSlot(bySlot: ReadonlyMap<number, unknown>, start: number): number | undefined {
  for (let s = start; s <= LAST_DEVICE_SLOT; s++) if (!bySlot.has(s)) return s;
  for (let s = FIRST_DEVICE_SLOT; s < start; s++) if (!bySlot.has(s)) return s;
  return undefined;
}
