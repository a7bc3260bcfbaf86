/**
 * The cross-field rules of a desired state, as a table: each rule looks at the whole draft (and,
 * on the agent, at what is known about the host) and adds every problem it finds.
 */
import { GUEST_NAME } from "./decode.js";
import { decodeDocument, type DraftState } from "./decode.js";
import { layoutGuest } from "./layout.js";
import { BLANK_DOCUMENT_MESSAGE, isBlankDocument, MAX_DOCUMENT_DEPTH, normalizeHostPath, valueDepthExceeds } from "./limits.js";
import { formatBsf, parsePciAddress, type PciAddress } from "./pci-address.js";
import { ProblemList, at, relativeTo, type Problem } from "./problems.js";
import { packPptdevs, PPTDEVS_VARIABLES, LOADER_VALUE_MAX } from "./render.js";
import { formatSize } from "./size.js";
import type { DesiredState, Guest, HostContext } from "./types.js";

type Rule = (s: DraftState, problems: ProblemList, ctx: HostContext) => void;

const guestPath = (i: number): string => at("guests", i);
const hex = (n: number): string => `0x${n.toString(16).padStart(4, "0")}`;

/*
 * Every rule is linear in the document: items are compared through maps keyed by what must be
 * unique, never pairwise, so that a large hostile document costs no more than its size.
 */

/** Map key of a PCI function. */
const functionKey = (a: PciAddress): string => formatBsf(a);
/** Map key of a PCI device (all its functions). */
const deviceKey = (a: PciAddress): string => `${a.bus}/${a.slot}`;

/** One passthrough entry whose device decoded, and where it sits. */
interface PassthruUse {
  readonly guest: string;
  readonly gi: number;
  readonly pi: number;
  readonly device: PciAddress;
  readonly path: string;
}

/** Passthrough uses in document order, with where they sit. */
function passthruUses(s: DraftState): PassthruUse[] {
  return s.guests.flatMap((g, gi) =>
    (g.passthru ?? []).flatMap((p, pi) =>
      p.device ? [{ guest: g.name ?? `guests[${gi}]`, gi, pi, device: p.device, path: at(at(at(guestPath(gi), "passthru"), pi), "device") }] : [],
    ),
  );
}

const uniqueGuestNames: Rule = (s, problems) => {
  const seen = new Map<string, number>();
  s.guests.forEach((g, i) => {
    if (g.name === undefined) return;
    const first = seen.get(g.name);
    if (first !== undefined) problems.add(at(guestPath(i), "name"), `duplicate guest name "${g.name}" (also guests[${first}])`);
    else seen.set(g.name, i);
  });
};

const uniqueReservations: Rule = (s, problems) => {
  const seen = new Map<string, number>();
  s.ppt.forEach((p, i) => {
    if (!p.device) return;
    const first = seen.get(functionKey(p.device));
    if (first !== undefined) problems.add(at(at("ppt", i), "device"), `${formatBsf(p.device)} is already reserved in ppt[${first}]`);
    else seen.set(functionKey(p.device), i);
  });
};

const reservationsNeedVmm: Rule = (s, problems) => {
  if (s.ppt.length > 0 && !s.host.vmmLoad) {
    problems.add("host.vmm_load", "must be true when devices are reserved: ppt is part of vmm.ko, and pptdevs only " +
      "takes effect when vmm loads from loader.conf");
  }
};

const reservationsFitLoaderConf: Rule = (s, problems) => {
  const devices = s.ppt.flatMap((p) => (p.device ? [p.device] : []));
  const { values, fits } = packPptdevs(devices);
  if (!fits) {
    problems.add("ppt", `${devices.length} devices need ${values.length} loader variables of at most ${LOADER_VALUE_MAX} ` +
      `characters, but the kernel reads only ${PPTDEVS_VARIABLES.join(", ")}; reserve fewer devices on this host`);
  }
};

const passthruReserved: Rule = (s, problems) => {
  // A reservation whose address did not decode may be the one a guest refers to: do not guess.
  if (s.ppt.some((p) => p.device === undefined)) return;
  const reserved = new Set(s.ppt.map((p) => functionKey(p.device!)));
  for (const u of passthruUses(s)) {
    if (!reserved.has(functionKey(u.device))) {
      problems.add(u.path, `${formatBsf(u.device)} is not reserved on this host; add it to ppt`);
    }
  }
};

const passthruOnce: Rule = (s, problems) => {
  const firstUse = new Map<string, PassthruUse>();
  for (const u of passthruUses(s)) {
    const first = firstUse.get(functionKey(u.device));
    if (!first) {
      firstUse.set(functionKey(u.device), u);
      continue;
    }
    problems.add(u.path, first.gi === u.gi
      ? `${formatBsf(u.device)} is already passed to this guest in passthru[${first.pi}]`
      : `${formatBsf(u.device)} is already passed to guest ${first.guest}`);
  }
};

const multiFunctionTogether: Rule = (s, problems) => {
  const functionsSeen = new Set<string>();
  // Per device: its first use, and the first use by a guest other than that one. The earliest use
  // by a guest other than u's is then one of the two.
  const byDevice = new Map<string, { first: PassthruUse; otherGuest?: PassthruUse }>();
  for (const u of passthruUses(s)) {
    const fk = functionKey(u.device);
    const known = functionsSeen.has(fk);
    functionsSeen.add(fk);
    const dk = deviceKey(u.device);
    const uses = byDevice.get(dk);
    if (!uses) byDevice.set(dk, { first: u });
    else if (!uses.otherGuest && uses.first.gi !== u.gi) uses.otherGuest = u;
    if (known || !uses) continue; // passthruOnce reports a function used twice
    const other = uses.first.gi !== u.gi ? uses.first : uses.otherGuest !== u ? uses.otherGuest : undefined;
    if (!other) continue;
    problems.add(u.path, `${formatBsf(u.device)} is a function of the device at ${u.device.bus}/${u.device.slot}, ` +
      `whose function ${formatBsf(other.device)} is passed to guest ${other.guest}; pass all functions of a device ` +
      "to the same guest (FreeBSD assigns functions one by one, and functions of one device are not isolated from each other)");
  }
};

const guestSlots: Rule = (s, problems) => {
  s.guests.forEach((g, i) => layoutGuest(g, guestPath(i), problems));
};

const wiredForPassthru: Rule = (s, problems) => {
  s.guests.forEach((g, i) => {
    if ((g.passthru ?? []).length > 0 && g.wired === false) {
      problems.add(at(guestPath(i), "wired"), "must be true for a guest with passthrough: bhyve refuses passthrough " +
        "unless guest memory is wired (-S)");
    }
  });
};

const bootable: Rule = (s, problems) => {
  s.guests.forEach((g, i) => {
    if (g.bootrom === undefined && g.disks !== undefined && g.disks.length === 0) {
      problems.add(at(guestPath(i), "disks"), "a guest without a bootrom boots with bhyveload, which needs a disk to " +
        "load from; add a disk or set bootrom");
    }
  });
};

const uniqueNicSettings: Rule = (s, problems) => {
  for (const key of ["tap", "mac"] as const) {
    const seen = new Map<string, number>();
    s.guests.forEach((g, gi) => {
      (g.nics ?? []).forEach((n, ni) => {
        const value = n[key];
        if (value === undefined) return;
        const first = seen.get(value);
        if (first === undefined) {
          seen.set(value, gi);
          return;
        }
        const owner = first === gi ? "another NIC of this guest" : `guest ${s.guests[first]!.name ?? guestPath(first)}`;
        problems.add(at(at(at(guestPath(gi), "nics"), ni), key), `${value} is already used by ${owner}`);
      });
    });
  }
};

/** Switch names are unique; one switch per (uplink, VLAN); every switch NIC names a switch of the document. */
const switchesHold: Rule = (s, problems) => {
  const names = new Map<string, number>();
  const carriers = new Map<string, number>();
  s.switches.forEach((w, i) => {
    if (w.name !== undefined) {
      const first = names.get(w.name);
      if (first !== undefined) problems.add(at(at("switches", i), "name"), `switch ${w.name} is already switches[${first}]`);
      else names.set(w.name, i);
    }
    if (w.uplink !== undefined) {
      const key = `${w.uplink}/${w.vlan ?? "untagged"}`;
      const first = carriers.get(key);
      if (first !== undefined) {
        problems.add(at(at("switches", i), "uplink"), `${w.uplink}${w.vlan !== undefined ? ` with VLAN ${w.vlan}` : " untagged"} is already the uplink of switch ${s.switches[first]!.name ?? `switches[${first}]`}; an interface can be a member of one bridge only, so one switch per uplink and VLAN`);
      } else carriers.set(key, i);
    }
  });
  // A switch whose name did not decode may be the one a NIC names: no second problem for it.
  const unnamed = s.switches.some((w) => w.name === undefined);
  s.guests.forEach((g, gi) => {
    (g.nics ?? []).forEach((n, ni) => {
      if (n.switch !== undefined && !names.has(n.switch) && !unnamed) {
        const known = [...names.keys()];
        problems.add(at(at(at(guestPath(gi), "nics"), ni), "switch"), `there is no switch ${n.switch} in this document (${known.length ? `switches: ${known.join(", ")}` : "it declares no switches"})`);
      }
    });
  });
};

/** One backing store per writable disk; a CD image (ahci-cd, read only) may be shared. */
const uniqueDiskPaths: Rule = (s, problems) => {
  const seen = new Map<string, { path: string; raw: string; cd: boolean }>();
  s.guests.forEach((g, gi) => {
    (g.disks ?? []).forEach((d, di) => {
      if (d.path === undefined) return;
      const key = normalizeHostPath(d.path);
      const field = at(at(at(guestPath(gi), "disks"), di), "path");
      const cd = d.type === "ahci-cd";
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { path: field, raw: d.path, cd });
        return;
      }
      if (first.cd && cd) return;
      problems.add(field, `${d.path} is also ${first.path}${first.raw !== d.path ? ` (${first.raw})` : ""}; ` +
        "two disks on one backing store would corrupt it");
    });
  });
};

/**
 * No managed volume inside another: zfs create -p of zroot/vm/a/b would make zroot/vm/a a file
 * system (not the other guest's volume), and a volume cannot hold another.
 */
const nestedVolumes: Rule = (s, problems) => {
  const volumes: Array<{ dataset: string; field: string }> = [];
  s.guests.forEach((g, gi) => (g.disks ?? []).forEach((d, di) => {
    if (d.managed?.kind === "zvol" && d.managed.dataset !== undefined) volumes.push({ dataset: d.managed.dataset, field: at(at(at(guestPath(gi), "disks"), di), "zvol") });
  }));
  for (const v of volumes) {
    const outer = volumes.find((o) => v.dataset.startsWith(`${o.dataset}/`));
    if (outer) problems.add(v.field, `${v.dataset} is inside ${outer.dataset}, the volume of ${outer.field}: a volume cannot hold another; put them side by side`);
  }
};

/** One VNC server per port: two framebuffers on one port, the second bhyve could not bind it. */
const uniqueFramebufferPorts: Rule = (s, problems) => {
  const seen = new Map<number, string>();
  s.guests.forEach((g, gi) => {
    const port = g.framebuffer?.port;
    if (port === undefined) return;
    const field = at(at(guestPath(gi), "framebuffer"), "port");
    const first = seen.get(port);
    if (first !== undefined) problems.add(field, `port ${port} is also ${first}; each framebuffer needs a port of its own (leave port out and the agent allocates one)`);
    else seen.set(port, field);
  });
};

const matchesHostInventory: Rule = (s, problems, ctx) => {
  if (!ctx.pci) return;
  const inventory = new Map(ctx.pci.map((f) => [functionKey(f.address), f] as const));
  s.ppt.forEach((p, i) => {
    if (!p.device) return;
    const path = at("ppt", i);
    const hw = inventory.get(functionKey(p.device));
    if (!hw) {
      problems.add(at(path, "device"), `there is no PCI device at ${formatBsf(p.device)} on this host`);
      return;
    }
    if (hw.headerType !== 0) {
      problems.add(at(path, "device"), `${formatBsf(p.device)} is a bridge (header type ${hw.headerType}); ` +
        "only endpoints can be bound to ppt");
    }
    if (p.vendorId !== undefined && p.vendorId !== hw.vendorId) {
      problems.add(at(path, "vendor_id"), `expected ${hex(p.vendorId)}, but the device at ${formatBsf(p.device)} has ${hex(hw.vendorId)}`);
    }
    if (p.deviceId !== undefined && p.deviceId !== hw.deviceId) {
      problems.add(at(path, "device_id"), `expected ${hex(p.deviceId)}, but the device at ${formatBsf(p.device)} has ${hex(hw.deviceId)}`);
    }
  });
};

const wiredWithinLimit: Rule = (s, problems, ctx) => {
  if (ctx.maxUserWired === undefined) return;
  let total = 0;
  const order = s.guests
    .map((g, i) => ({ g, i }))
    .filter(({ g }) => g.wired === true && g.state === "running" && g.memory !== undefined)
    .sort((a, b) => (a.g.startOrder ?? 0) - (b.g.startOrder ?? 0) || (a.g.name ?? "").localeCompare(b.g.name ?? ""));
  for (const { g, i } of order) {
    total += g.memory!;
    if (total > ctx.maxUserWired) {
      problems.add(at(guestPath(i), "memory"), `wired memory of the running guests reaches ${formatSize(total)} with ` +
        `this guest, over the host's vm.max_user_wired of ${formatSize(ctx.maxUserWired)}; raise vm.max_user_wired ` +
        "or give the wired guests less memory");
      return;
    }
  }
};

/** Every rule, in the order their problems are reported. */
const RULES: readonly Rule[] = [
  uniqueGuestNames,
  uniqueReservations,
  reservationsNeedVmm,
  reservationsFitLoaderConf,
  matchesHostInventory,
  passthruReserved,
  passthruOnce,
  multiFunctionTogether,
  guestSlots,
  wiredForPassthru,
  bootable,
  uniqueNicSettings,
  switchesHold,
  uniqueDiskPaths,
  nestedVolumes,
  uniqueFramebufferPorts,
  wiredWithinLimit,
];

/**
 * Result of checking a document: the decoded state, or every problem (the whole list: front-ends
 * print it with formatProblems, which shows the first 50 and the count of the rest). `code` is the
 * stable error code for the refusal, `E_SPEC_INVALID` when absent.
 */
export type CheckResult = { ok: true; state: DesiredState } | { ok: false; problems: readonly Problem[]; code?: string };

/** Decodes and validates plain document data; `ctx` adds the checks that need host facts. */
export function checkDocumentData(data: unknown, ctx: HostContext = {}): CheckResult {
  const problems = new ProblemList();
  const draft = decodeDocument(data, problems);
  for (const rule of RULES) rule(draft, problems, ctx);
  if (!problems.empty) return { ok: false, problems: problems.items };
  // With no problem recorded, every field decoded, so the draft is complete.
  return { ok: true, state: draft as DesiredState };
}

/**
 * Checks a state already in the model's types (an edited stored state, one decoded earlier) with
 * the same rules, without going through the document again; `ctx` adds the host-dependent checks.
 */
export function checkState(state: DesiredState, ctx: HostContext = {}): CheckResult {
  const problems = new ProblemList();
  // A complete state is a draft with every field present; the rules only read it.
  for (const rule of RULES) rule(state as unknown as DraftState, problems, ctx);
  return problems.empty ? { ok: true, state } : { ok: false, problems: problems.items };
}

/**
 * Checks a whole document that arrived from outside (a file, standard input, `host.apply`), as
 * plain data: like {@link checkDocumentData}, but a blank document (no data, `null`, `{}`, or
 * known keys that are all null) is refused with `E_EMPTY_DOCUMENT` rather than read as "no
 * guests and no reservations", and data nested more than {@link MAX_DOCUMENT_DEPTH} deep with
 * `E_TOO_DEEP`. Parts of a document built by the agent itself (`{ ppt: [...] }`, `{ host }`)
 * go through checkDocumentData.
 */
export function checkWholeDocument(data: unknown, ctx: HostContext = {}): CheckResult {
  if (isBlankDocument(data)) return { ok: false, code: "E_EMPTY_DOCUMENT", problems: [{ path: "document", message: BLANK_DOCUMENT_MESSAGE }] };
  if (valueDepthExceeds(data, MAX_DOCUMENT_DEPTH)) return { ok: false, code: "E_TOO_DEEP", problems: [{ path: "document", message: `nests deeper than ${MAX_DOCUMENT_DEPTH} levels` }] };
  return checkDocumentData(data, ctx);
}

/** Result of checking one guest alone: the decoded guest, or its problems with paths relative to the guest. */
export type GuestCheckResult = { ok: true; guest: Guest } | { ok: false; problems: readonly Problem[] };

/**
 * Checks one guest document alone, as if each passthrough device it names were reserved on its
 * host: what can be known of a guest without the rest of the host's state (guest.put, a
 * bhyve_guest at plan). The whole state is checked again with {@link checkDocumentData} before any
 * change. Problem paths are relative to the guest (`passthru[1].slot`; `guest` for the guest itself).
 */
export function checkGuestAlone(data: unknown): GuestCheckResult {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, problems: [{ path: "guest", message: "expected a mapping" }] };
  const passthru = (data as { passthru?: unknown }).passthru;
  const reserved = new Map<string, string>();
  for (const p of Array.isArray(passthru) ? passthru : []) {
    const device = p && typeof p === "object" ? (p as { device?: unknown }).device : undefined;
    if (typeof device !== "string") continue;
    const a = parsePciAddress(device);
    const key = a.ok ? formatBsf(a.address) : device;
    if (!reserved.has(key)) reserved.set(key, device);
  }
  // Its switches are taken as declared, as its devices as reserved: the whole state is checked again before any change.
  const nics = (data as { nics?: unknown }).nics;
  const switches = new Set<string>();
  for (const n of Array.isArray(nics) ? nics : []) {
    const sw = n && typeof n === "object" ? (n as { switch?: unknown }).switch : undefined;
    if (typeof sw === "string" && GUEST_NAME.test(sw)) switches.add(sw);
  }
  const r = checkDocumentData({ ppt: [...reserved.values()].map((device) => ({ device })), switches: [...switches].map((name) => ({ name })), guests: [data] });
  if (r.ok) return { ok: true, guest: r.state.guests[0]! };
  return { ok: false, problems: r.problems.filter((p) => p.at?.[0] !== "ppt" && p.at?.[0] !== "switches").map((p) => relativeTo(p, ["guests", 0], "guest")) };
}
