/**
 * The host policy: what a deploy key may ask of this host, from the `policy:` section of
 * /usr/local/etc/bhyve-agent.conf (root's file; the agent never writes it). Pure code: decoding
 * with defaults, and the check of a desired state against it, each problem naming the rule and the
 * value at fault.
 *
 *   policy:
 *     disk_prefixes: [/dev/zvol/, /vm/]                           # guest disks must be under one
 *     zvol_parents: []                # datasets under which the agent may make (and clone into) guest volumes; none by default
 *     bootrom_prefixes: [/usr/local/share/uefi-firmware/, /vm/]   # bootroms and passthru ROM files
 *     taps: ["tap*", "vmnet*"]                                     # guest NIC backends
 *     switch_uplinks: [igb1, "ix*"]   # interfaces a switch may use as its uplink; absent: any that is not protected
 *     framebuffer_listen: []          # addresses off loopback a guest's VNC server may listen on (none: loopback only)
 *     framebuffer_ports: [5900, 5999] # the ports a guest's VNC server may have (and guest.vnc may reach)
 *     ppt:
 *       allow: []            # when set, only these may be reserved: B/S/F, or vendor:device (10de:*)
 *       deny: []             # never reserved
 *       take_protected: []   # protected devices (management NIC, root disk controller) that may be reserved anyway, by B/S/F
 *     max_guests: 64
 *     max_wired_percent: 80  # share of physical memory that guests may wire
 *     agent_upgrade: false   # whether agent.upgrade may install a new agent over the deploy key
 */
import { isIPv4Literal as isIPv4, isIPv6Literal as isIPv6 } from "./ip.js";
import { formatBsf, parsePciAddress } from "./pci-address.js";
import type { Problem } from "./problems.js";
import { datasetProblem, isLoopbackAddress } from "./decode.js";
import type { DesiredState } from "./types.js";

/** The policy in force. */
export interface Policy {
  readonly diskPrefixes: readonly string[];
  /** Datasets under which the agent may create guest volumes, and clone them from snapshots; empty: no managed volumes. */
  readonly zvolParents: readonly string[];
  readonly bootromPrefixes: readonly string[];
  readonly taps: readonly string[];
  /** Interfaces (globs) a switch may have as uplink; null: any interface the host does not depend on. A protected one only when named exactly. */
  readonly switchUplinks: readonly string[] | null;
  /** Addresses off loopback a framebuffer's VNC server may listen on; loopback is always allowed. */
  readonly framebufferListen: readonly string[];
  /** The first and last TCP port a framebuffer may have: the agent allocates from them, and relays guest.vnc to no other. */
  readonly framebufferPorts: readonly [number, number];
  readonly ppt: { readonly allow: readonly string[]; readonly deny: readonly string[]; readonly takeProtected: readonly string[] };
  readonly maxGuests: number;
  readonly maxWiredPercent: number;
  readonly agentUpgrade: boolean;
}

/** The defaults: zvols and /vm for disks, the edk2-bhyve firmware directory and /vm for ROMs, tap and vmnet interfaces, no device lists. */
export const DEFAULT_POLICY: Policy = {
  diskPrefixes: ["/dev/zvol/", "/vm/"],
  zvolParents: [],
  bootromPrefixes: ["/usr/local/share/uefi-firmware/", "/vm/"],
  taps: ["tap*", "vmnet*"],
  switchUplinks: null,
  framebufferListen: [],
  framebufferPorts: [5900, 5999],
  ppt: { allow: [], deny: [], takeProtected: [] },
  maxGuests: 64,
  maxWiredPercent: 80,
  agentUpgrade: false,
};

/** Where the policy lives, for messages. */
export const POLICY_FILE = "/usr/local/etc/bhyve-agent.conf";

const DEVICE_SELECTOR = /^(?:[0-9a-fA-F]{4}:(?:[0-9a-fA-F]{4}|\*))$/;

function strings(v: unknown, path: string, problems: Problem[], check?: (s: string) => string | null): string[] | undefined {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === "")) {
    problems.push({ path, message: "expected a list of non-empty strings" });
    return undefined;
  }
  for (const [i, s] of (v as string[]).entries()) {
    const why = check?.(s);
    if (why) problems.push({ path: `${path}[${i}]`, message: why });
  }
  return v as string[];
}

const prefixCheck = (s: string): string | null => (!s.startsWith("/") ? "must be an absolute path" : !s.endsWith("/") ? 'must end with "/" (a directory)' : s.split("/").includes("..") ? 'must not hold ".."' : null);
const deviceCheck = (s: string): string | null => (parsePciAddress(s).ok || DEVICE_SELECTOR.test(s) ? null : "expected B/S/F (3/0/0), pci0:B:S:F, or vendor:device in hex (10de:1e07, 10de:*)");

/** Decodes the `policy:` section (absent: the defaults). */
export function decodePolicy(data: unknown): { ok: true; policy: Policy } | { ok: false; problems: Problem[] } {
  if (data === undefined || data === null) return { ok: true, policy: DEFAULT_POLICY };
  const problems: Problem[] = [];
  if (typeof data !== "object" || Array.isArray(data)) return { ok: false, problems: [{ path: "policy", message: "expected a mapping" }] };
  const d = data as Record<string, unknown>;
  const known = ["disk_prefixes", "zvol_parents", "bootrom_prefixes", "taps", "switch_uplinks", "framebuffer_listen", "framebuffer_ports", "ppt", "max_guests", "max_wired_percent", "agent_upgrade"];
  for (const k of Object.keys(d)) if (!known.includes(k)) problems.push({ path: `policy.${k}`, message: `unknown key; expected one of ${known.join(", ")}` });
  const p = { ...DEFAULT_POLICY, ppt: { ...DEFAULT_POLICY.ppt } } as { -readonly [K in keyof Policy]: Policy[K] } & { ppt: { allow: readonly string[]; deny: readonly string[]; takeProtected: readonly string[] } };
  if (d.disk_prefixes !== undefined) p.diskPrefixes = strings(d.disk_prefixes, "policy.disk_prefixes", problems, prefixCheck) ?? [];
  if (d.zvol_parents !== undefined) p.zvolParents = strings(d.zvol_parents, "policy.zvol_parents", problems, (s) => datasetProblem(s.includes("/") ? s : `${s}/x`) ?? null) ?? [];
  if (d.bootrom_prefixes !== undefined) p.bootromPrefixes = strings(d.bootrom_prefixes, "policy.bootrom_prefixes", problems, prefixCheck) ?? [];
  if (d.taps !== undefined) p.taps = strings(d.taps, "policy.taps", problems, (s) => (/^[A-Za-z0-9_.*-]+$/.test(s) ? null : "expected an interface name, * matching any characters")) ?? [];
  if (d.switch_uplinks !== undefined && d.switch_uplinks !== null) {
    p.switchUplinks = strings(d.switch_uplinks, "policy.switch_uplinks", problems, (s) => (/^[A-Za-z0-9_.*]+$/.test(s) ? null : "expected an interface name, * matching any characters")) ?? [];
  }
  if (d.framebuffer_listen !== undefined) {
    p.framebufferListen = strings(d.framebuffer_listen, "policy.framebuffer_listen", problems, (s) => (isIPv4(s) || isIPv6(s) ? null : "expected a numeric IPv4 or IPv6 address")) ?? [];
  }
  if (d.framebuffer_ports !== undefined) {
    const v = d.framebuffer_ports;
    const ok = Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 1024 && x <= 65535) && (v[0] as number) <= (v[1] as number);
    if (!ok) problems.push({ path: "policy.framebuffer_ports", message: "expected [FIRST, LAST]: two ports from 1024 to 65535, FIRST not above LAST" });
    else p.framebufferPorts = [v[0] as number, v[1] as number];
  }
  if (d.ppt !== undefined) {
    if (typeof d.ppt !== "object" || d.ppt === null || Array.isArray(d.ppt)) problems.push({ path: "policy.ppt", message: "expected a mapping with allow, deny, take_protected" });
    else {
      const ppt = d.ppt as Record<string, unknown>;
      for (const k of Object.keys(ppt)) if (!["allow", "deny", "take_protected"].includes(k)) problems.push({ path: `policy.ppt.${k}`, message: "unknown key; expected allow, deny, take_protected" });
      if (ppt.allow !== undefined) p.ppt.allow = strings(ppt.allow, "policy.ppt.allow", problems, deviceCheck) ?? [];
      if (ppt.deny !== undefined) p.ppt.deny = strings(ppt.deny, "policy.ppt.deny", problems, deviceCheck) ?? [];
      if (ppt.take_protected !== undefined) {
        p.ppt.takeProtected = strings(ppt.take_protected, "policy.ppt.take_protected", problems, (s) => (parsePciAddress(s).ok ? null : "name the device by its address (B/S/F): a protected device is taken only when named explicitly")) ?? [];
      }
    }
  }
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = d[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push({ path: `policy.${k}`, message: `expected a whole number from ${min} to ${max}` });
      return undefined;
    }
    return v;
  };
  p.maxGuests = int("max_guests", 0, 100_000) ?? p.maxGuests;
  p.maxWiredPercent = int("max_wired_percent", 0, 100) ?? p.maxWiredPercent;
  if (d.agent_upgrade !== undefined) {
    if (typeof d.agent_upgrade !== "boolean") problems.push({ path: "policy.agent_upgrade", message: "expected true or false" });
    else p.agentUpgrade = d.agent_upgrade;
  }
  return problems.length ? { ok: false, problems } : { ok: true, policy: p };
}

/** The policy as the configuration file writes it (every key, defaults included). */
export function policyDocument(p: Policy): Record<string, unknown> {
  return {
    disk_prefixes: [...p.diskPrefixes],
    zvol_parents: [...p.zvolParents],
    bootrom_prefixes: [...p.bootromPrefixes],
    taps: [...p.taps],
    switch_uplinks: p.switchUplinks === null ? null : [...p.switchUplinks],
    framebuffer_listen: [...p.framebufferListen],
    framebuffer_ports: [...p.framebufferPorts],
    ppt: { allow: [...p.ppt.allow], deny: [...p.ppt.deny], take_protected: [...p.ppt.takeProtected] },
    max_guests: p.maxGuests,
    max_wired_percent: p.maxWiredPercent,
    agent_upgrade: p.agentUpgrade,
  };
}

/**
 * A kind of device the host depends on but could not find: an interface or disk that could not be
 * mapped to a PCI function. The agent then fails closed: no device of that PCI base class is
 * reserved unless ppt.take_protected names it.
 */
export interface UnmappedDependency {
  /** PCI base class: 0x02 network, 0x01 mass storage, 0x0c serial bus (the USB controller of a USB root disk). */
  readonly baseClass: number;
  /** "network", "storage" or "serial bus". */
  readonly className: string;
  /** What could not be mapped: an interface (wg0), a disk (ada0), or the management connection. */
  readonly subject: string;
  /** Why the host depends on it and why it could not be mapped. */
  readonly why: string;
}

/** What the check needs to know about the host. */
export interface PolicyContext {
  /** Devices the host depends on (B/S/F), with who they are and why. */
  readonly protected: ReadonlyArray<{ readonly device: string; readonly name: string; readonly why: string }>;
  /** Dependencies that could not be mapped to a PCI function (absent: none). */
  readonly unmapped?: readonly UnmappedDependency[];
  /** Vendor and device id (4 hex digits each), and when known the class code and the host's name for it, by B/S/F. */
  readonly hardware: ReadonlyMap<string, { readonly vendor: string; readonly device: string; readonly classCode?: number; readonly name?: string }>;
  /** hw.physmem in bytes, when known. */
  readonly physicalMemory: number | null;
}

/** Whether a path is under one of the prefixes, with no `.` or `..` segment to climb out. */
export function underPrefix(path: string, prefixes: readonly string[]): boolean {
  if (path.split("/").some((s) => s === ".." || s === ".")) return false;
  return prefixes.some((p) => path.startsWith(p) && path.length > p.length);
}

/** Whether a dataset is strictly below one of `parents`, component by component (zroot/vm holds zroot/vm/a, not zroot/vmx). */
export function underDataset(dataset: string, parents: readonly string[]): boolean {
  return parents.some((p) => dataset.startsWith(`${p.replace(/\/+$/, "")}/`));
}

const globToRegExp = (g: string): RegExp => new RegExp(`^${g.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);

/** Whether a device matches one selector (an address or vendor:device). */
function matches(selector: string, bsf: string, hw: { vendor: string; device: string } | undefined): boolean {
  const a = parsePciAddress(selector);
  if (a.ok) return formatBsf(a.address) === bsf;
  if (!hw) return false;
  const [v, d] = selector.toLowerCase().split(":");
  return v === hw.vendor.toLowerCase() && (d === "*" || d === hw.device.toLowerCase());
}

/** Every way `desired` breaks the policy; empty when it keeps it. */
export function checkPolicy(desired: DesiredState, policy: Policy, ctx: PolicyContext): Problem[] {
  const out: Problem[] = [];
  const rule = (name: string, value: unknown): string => `policy ${name}${value === undefined ? "" : `: ${Array.isArray(value) ? value.join(", ") || "(none)" : String(value)}`} in ${POLICY_FILE}`;
  desired.guests.forEach((g, i) => {
    g.disks.forEach((d, j) => {
      const m = d.managed;
      if (m?.kind === "zvol" && !underDataset(m.dataset!, policy.zvolParents)) {
        out.push({ path: `guests[${i}].disks[${j}].zvol`, message: `${m.dataset} is outside the datasets the agent may create volumes in (${rule("zvol_parents", policy.zvolParents)}; the default is none: name the parent, e.g. zroot/vm, to let the agent make volumes under it)` });
      } else if (!underPrefix(d.path, policy.diskPrefixes)) {
        out.push({ path: `guests[${i}].disks[${j}].${m?.kind ?? "path"}`, message: `${d.path} is outside the allowed disk paths (${rule("disk_prefixes", policy.diskPrefixes)})` });
      }
      if (m?.clone !== undefined && !underDataset(m.clone.slice(0, m.clone.indexOf("@")), policy.zvolParents)) {
        out.push({ path: `guests[${i}].disks[${j}].clone`, message: `${m.clone} is outside the datasets the agent may clone from (${rule("zvol_parents", policy.zvolParents)})` });
      }
    });
    if (g.bootrom !== undefined && !underPrefix(g.bootrom, policy.bootromPrefixes)) out.push({ path: `guests[${i}].bootrom`, message: `${g.bootrom} is outside the allowed firmware paths (${rule("bootrom_prefixes", policy.bootromPrefixes)})` });
    g.passthru.forEach((p, k) => {
      if (p.rom !== undefined && !underPrefix(p.rom, policy.bootromPrefixes)) out.push({ path: `guests[${i}].passthru[${k}].rom`, message: `${p.rom} is outside the allowed firmware paths (${rule("bootrom_prefixes", policy.bootromPrefixes)})` });
    });
    g.nics.forEach((n, j) => {
      // A switch NIC's tap is the agent's own (allocated as tapN); the rule is for the taps an operator names.
      if (n.switch !== undefined || n.tap === undefined) return;
      const tap = n.tap;
      if (!policy.taps.some((t) => globToRegExp(t).test(tap))) out.push({ path: `guests[${i}].nics[${j}].tap`, message: `${tap} is not an allowed guest interface (${rule("taps", policy.taps)})` });
    });
    // A VNC server has no authentication bhyve can enforce well (a DES challenge, 8 characters): off
    // loopback only where root's policy says so.
    const listen = g.framebuffer?.listen;
    if (listen !== undefined && !isLoopbackAddress(listen) && !policy.framebufferListen.some((a) => a.toLowerCase() === listen)) {
      out.push({ path: `guests[${i}].framebuffer.listen`, message: `${listen} is not on loopback, and this host lets a guest's VNC server listen off loopback only where its policy says so (${rule("framebuffer_listen", policy.framebufferListen)}); leave listen out and reach the screen with cdktf-bhyve vnc through the deploy key` });
    }
    // A port outside the range could be a host service's: guest.vnc would relay to it.
    const port = g.framebuffer?.port;
    const [first, last] = policy.framebufferPorts;
    if (port !== undefined && (port < first || port > last)) {
      out.push({ path: `guests[${i}].framebuffer.port`, message: `${port} is outside the ports this host gives framebuffers (${rule("framebuffer_ports", `${first}-${last}`)}); leave port out and the agent allocates one` });
    }
  });
  desired.switches.forEach((w, i) => {
    if (w.uplink === undefined) return;
    const uplink = w.uplink;
    const prot = ctx.protected.find((p) => p.name === uplink);
    const listed = policy.switchUplinks;
    if (prot && !(listed ?? []).includes(uplink)) {
      out.push({ path: `switches[${i}].uplink`, message: `${uplink} is protected: ${prot.why}. A bridge over it could cut the host off (FreeBSD moves a member's traffic through the bridge); to use it anyway, name "${uplink}" in policy switch_uplinks in ${POLICY_FILE}` });
    } else if (!prot && listed !== null && !listed.some((t) => globToRegExp(t).test(uplink))) {
      out.push({ path: `switches[${i}].uplink`, message: `${uplink} is not an allowed switch uplink (${rule("switch_uplinks", listed)})` });
    }
  });
  desired.ppt.forEach((r, i) => {
    const bsf = formatBsf(r.device);
    const hw = ctx.hardware.get(bsf);
    const ids = hw ? ` (${hw.vendor}:${hw.device})` : "";
    const denied = policy.ppt.deny.find((s) => matches(s, bsf, hw));
    if (denied) out.push({ path: `ppt[${i}].device`, message: `${bsf}${ids} may not be reserved on this host (${rule("ppt.deny", denied)})` });
    else if (policy.ppt.allow.length > 0 && !policy.ppt.allow.some((s) => matches(s, bsf, hw))) {
      out.push({ path: `ppt[${i}].device`, message: `${bsf}${ids} is not among the devices this host allows to reserve (${rule("ppt.allow", policy.ppt.allow)})` });
    }
    const taken = policy.ppt.takeProtected.some((s) => matches(s, bsf, undefined));
    const prot = ctx.protected.find((p) => p.device === bsf);
    if (prot && !taken) {
      out.push({ path: `ppt[${i}].device`, message: `${bsf} (${prot.name}) is protected: ${prot.why}. Taking it from the host could cut it off or stop it; to reserve it anyway, add "${bsf}" to policy ppt.take_protected in ${POLICY_FILE}` });
    } else if (!prot && !taken) {
      // Fail closed: a device of a class the host depends on but could not map (an unknown class counts as every class).
      const base = hw?.classCode === undefined ? undefined : (hw.classCode >> 16) & 0xff;
      const blocked = (ctx.unmapped ?? []).filter((u) => base === undefined || u.baseClass === base);
      if (blocked.length) {
        const cls = blocked[0]!;
        const what = base === undefined ? "a device of unknown class" : `a ${cls.className} controller (PCI class 0x${cls.baseClass.toString(16).padStart(2, "0")})`;
        const why = [...new Set(blocked.map((u) => u.why))].join("; ");
        out.push({ path: `ppt[${i}].device`, message: `${bsf}${hw?.name ? ` (${hw.name})` : ""} is ${what}, and this host cannot tell which ${cls.className} controller it depends on: ${why}. Until it can, no such device is taken from the host, as it could be that one; to reserve ${bsf} anyway, add "${bsf}" to policy ppt.take_protected in ${POLICY_FILE}` });
      }
    }
  });
  if (desired.guests.length > policy.maxGuests) out.push({ path: "guests", message: `${desired.guests.length} guests are more than this host allows (${rule("max_guests", policy.maxGuests)})` });
  const wired = desired.guests.filter((g) => g.wired).reduce((s, g) => s + g.memory, 0);
  if (ctx.physicalMemory !== null && wired > 0) {
    const limit = Math.floor((ctx.physicalMemory * policy.maxWiredPercent) / 100);
    const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
    if (wired > limit) out.push({ path: "guests", message: `the guests wire ${gib(wired)}, more than ${policy.maxWiredPercent}% of this host's ${gib(ctx.physicalMemory)} of memory (${gib(limit)}; ${rule("max_wired_percent", policy.maxWiredPercent)})` });
  }
  return out;
}
