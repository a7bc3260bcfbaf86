/**
 * Interfaces made at run time on a sandbox host, as ifconfig(8) makes them on FreeBSD: if_bridge(4)
 * bridges, tap(4) interfaces and vlan(4) interfaces, with `create`/`destroy`, `addm`/`deletem`,
 * `up`/`down`, `description`, `mtu`, `vlan`/`vlandev` and, on 15, the bridge's `vlanfilter` with a
 * member's `untagged` and `tagged` VLANs. They live in machine.json (`ifaces`) and vanish at a
 * reboot, as cloned interfaces do. `name` renames a cloned interface (ifconfig then prints the new
 * name, which is how `ifconfig bridge create name vm-public` answers), `group`/`-group` add and
 * remove interface groups (printed after the cloner's own group, in the order they were added).
 * bhyve opens a tap through /dev/tapN: opening a tap that does not
 * exist creates it (devfs cloning, `net.link.tap.devfs_cloning`, default 1), opening one that is
 * open already fails (EBUSY), and the tap goes up on open when `net.link.tap.up_on_open` is 1.
 */
import type { MachineState } from "./machine.js";
import { processAlive } from "./machine.js";
import { STRERROR } from "./tools/tool.js";

/** A cloned interface. */
export interface SandboxIface {
  kind: "bridge" | "tap" | "vlan";
  description: string | null;
  up: boolean;
  mtu: number;
  /** Bridge: member interfaces in the order they were added. */
  members: string[];
  /** Vlan: the tag and the parent interface (null until both are set). */
  vlan: number | null;
  vlandev: string | null;
  /** Tap: the process holding /dev/tapN open. */
  openedBy: number | null;
  /** Bridge (15): VLAN filtering on, with each member's untagged VLAN and tagged VLANs. */
  vlanfilter: boolean;
  untagged: Record<string, number>;
  tagged: Record<string, number[]>;
  /** Groups added with `ifconfig NAME group G`, after the cloner's own (absent: none added). */
  groups?: string[];
}

/** Outcome of one ifconfig run on cloned interfaces. */
export interface IfconfigOutcome {
  status: number;
  out: string;
  err: string;
}

/** Runtime sysctls of the network stack, with their defaults (reset at boot). */
export const NET_SYSCTL_DEFAULTS: Record<string, string> = {
  "net.link.tap.up_on_open": "0",
  "net.link.tap.devfs_cloning": "1",
  "net.link.tap.user_open": "0",
};

/** FreeBSD 15's if_bridge refuses members that carry addresses unless this is 1. */
export const MEMBER_IFADDRS = "net.link.bridge.member_ifaddrs";

/** The value of a runtime sysctl of the network stack. */
export function netSysctl(m: MachineState, name: string): string | undefined {
  return m.sysctl?.[name] ?? NET_SYSCTL_DEFAULTS[name] ?? (name === MEMBER_IFADDRS ? "0" : undefined);
}

const KINDS = ["bridge", "tap", "vlan"] as const;

const blank = (kind: SandboxIface["kind"]): SandboxIface => ({
  kind, description: null, up: false, mtu: 1500, members: [], vlan: null, vlandev: null, openedBy: null, vlanfilter: false, untagged: {}, tagged: {},
});

/** The machine's cloned interfaces. */
export function clonedIfaces(m: MachineState): Record<string, SandboxIface> {
  return (m.ifaces ??= {});
}

/** The host's interfaces that are not cloned: the NICs, lo0 and the management network's. */
export interface StaticView {
  /** Names of the interfaces that exist besides the cloned ones. */
  readonly names: readonly string[];
  /** Those that carry an IPv4 address. */
  readonly addressed: readonly string[];
  /** Members of the management network's own bridge and lagg. */
  readonly busy: readonly string[];
}

function exists(m: MachineState, s: StaticView, name: string): boolean {
  return s.names.includes(name) || name in clonedIfaces(m);
}

/** The first free unit of `kind` (bridge0, bridge1, ...). */
function nextName(m: MachineState, s: StaticView, kind: string): string {
  for (let n = 0; ; n++) if (!exists(m, s, `${kind}${n}`)) return `${kind}${n}`;
}

/** The bridge a member is in, if any. */
function bridgeOf(m: MachineState, member: string): string | null {
  for (const [name, i] of Object.entries(clonedIfaces(m))) if (i.kind === "bridge" && i.members.includes(member)) return name;
  return null;
}

/** Whether the tap is open by a live process. */
export function tapOpen(i: SandboxIface): boolean {
  return i.openedBy !== null && processAlive(i.openedBy);
}

/** A cloned interface goes away: out of any bridge, and with its own members released. */
function destroyIface(m: MachineState, name: string): void {
  const all = clonedIfaces(m);
  for (const i of Object.values(all)) {
    if (i.kind !== "bridge") continue;
    i.members = i.members.filter((x) => x !== name);
    delete i.untagged[name];
    delete i.tagged[name];
  }
  delete all[name];
  // vlan interfaces on a destroyed parent go with it.
  for (const [n, i] of Object.entries(all)) if (i.kind === "vlan" && i.vlandev === name) destroyIface(m, n);
}

/** SIOCSIFNAME: the interface takes its new name everywhere it is referred to (bridge membership, vlan parents). */
function renameIface(m: MachineState, from: string, to: string): void {
  const all = clonedIfaces(m);
  all[to] = all[from]!;
  delete all[from];
  for (const i of Object.values(all)) {
    if (i.kind === "bridge") {
      i.members = i.members.map((x) => (x === from ? to : x));
      for (const map of [i.untagged, i.tagged] as Array<Record<string, unknown>>) {
        if (from in map) {
          map[to] = map[from];
          delete map[from];
        }
      }
    }
    if (i.kind === "vlan" && i.vlandev === from) i.vlandev = to;
  }
}

/** `IF.TAG` names a vlan interface over IF (ifconfig's short form). */
function vlanForm(name: string): { parent: string; tag: number } | null {
  const v = /^(.+)\.(\d+)$/.exec(name);
  if (!v) return null;
  const tag = Number(v[2]);
  return tag >= 1 && tag <= 4094 ? { parent: v[1]!, tag } : null;
}

/** Parses `20,30-32` (ifconfig's VLAN set syntax). */
function vlanSet(text: string): number[] | null {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const r = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!r) return null;
    const a = Number(r[1]);
    const b = r[2] === undefined ? a : Number(r[2]);
    if (a < 1 || b > 4094 || b < a) return null;
    for (let v = a; v <= b; v++) out.push(v);
  }
  return out;
}

/**
 * A member's VLANs on a 15 bridge: its untagged VLAN (PVID) or its tagged set; refused while the
 * bridge does not filter VLANs. Returns ifconfig's complaint, or null.
 */
function setVlans(bridge: SandboxIface, member: string, how: string, value: string | null): string | null {
  const op = how.includes("untagged") ? "BRDGSIFPVID" : "BRDGSIFVLANSET";
  if (!bridge.vlanfilter) return `${op} ${member}: ${STRERROR.EINVAL} (extended error VLAN filtering not enabled)`;
  if (how === "-ifuntagged") {
    delete bridge.untagged[member];
    return null;
  }
  if (value === null) return `'${how}' requires argument`;
  if (how === "ifuntagged") {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 4094) return `invalid vlan id: ${value}`;
    bridge.untagged[member] = Number(value);
    return null;
  }
  const set = value === "all" ? Array.from({ length: 4094 }, (_, k) => k + 1) : value === "none" ? [] : vlanSet(value);
  if (set === null) return `invalid vlan set: ${value}`;
  const had = bridge.tagged[member] ?? [];
  const next = how === "+iftagged" ? [...had, ...set] : how === "-iftagged" ? had.filter((v) => !set.includes(v)) : set;
  bridge.tagged[member] = [...new Set(next)].sort((a, b) => a - b);
  return null;
}

/**
 * `ifconfig NAME [create|destroy] [parameters...]` for cloned interfaces and bridge membership,
 * applied in order as ifconfig does: the first failing parameter ends the run (exit 1), with what
 * was done before it kept. `major` is the host's FreeBSD release (vlanfilter needs 15).
 */
export function ifconfigChange(m: MachineState, s: StaticView, name: string, params: readonly string[], major: number): IfconfigOutcome {
  const out: string[] = [];
  const fail = (msg: string): IfconfigOutcome => ({ status: 1, out: out.join(""), err: `ifconfig: ${msg}\n` });
  // 15's err(3) adds the kernel's extended error text after strerror.
  const ext = (text: string): string => (major >= 15 ? ` (extended error ${text})` : "");
  const all = clonedIfaces(m);
  let target = name;
  let rest = [...params];
  if (rest[0] === "create") {
    rest = rest.slice(1);
    const kind = KINDS.find((k) => name === k || new RegExp(`^${k}\\d+$`).test(name));
    const vf = kind ? null : vlanForm(name);
    // ifconfig.c main(): a name that exists with `create` alone is refused; with more parameters
    // the `create` is dropped and the rest applies to the existing interface.
    if (exists(m, s, name) && !(kind && name === kind)) {
      if (rest.length === 0) return fail(`interface ${name} already exists`);
      return ifconfigChange(m, s, name, rest, major);
    }
    if (!kind && !vf) return fail(`SIOCIFCREATE2 (${name}): ${STRERROR.EINVAL}`);
    if (vf && !exists(m, s, vf.parent)) return fail(`SIOCIFCREATE2 (${name}): ${STRERROR.ENXIO}`);
    target = kind && name === kind ? nextName(m, s, kind) : name;
    const made = blank(kind ?? "vlan");
    if (vf) {
      made.vlan = vf.tag;
      made.vlandev = vf.parent;
    }
    // `ifconfig vlan create vlan 20 vlandev igb1`: the vlan parameters belong to the creation.
    if (kind === "vlan") {
      for (let i = 0; i + 1 < rest.length; i++) {
        if (rest[i] === "vlan") made.vlan = Number(rest[i + 1]);
        if (rest[i] === "vlandev") made.vlandev = rest[i + 1]!;
      }
      if (made.vlandev !== null && !exists(m, s, made.vlandev)) return fail(`SIOCIFCREATE2 (${name}): ${STRERROR.ENXIO}`);
    }
    all[target] = made;
    if (target !== name) out.push(`${target}\n`);
  } else if (!exists(m, s, name)) {
    return fail(`interface ${name} does not exist`);
  }
  if (rest[0] === "destroy") {
    if (!(target in all)) return fail(`SIOCIFDESTROY: ${STRERROR.EINVAL}`);
    destroyIface(m, target);
    return { status: 0, out: out.join(""), err: "" };
  }
  let self = all[target];
  for (let i = 0; i < rest.length; i++) {
    const p = rest[i]!;
    const arg = (): string | null => (i + 1 < rest.length ? rest[++i]! : null);
    switch (p) {
      case "up":
        if (self) self.up = true;
        break;
      case "down":
        if (self) self.up = false;
        break;
      case "description":
      case "descr": {
        const d = arg();
        if (d === null) return fail(`'${p}' requires argument`);
        if (self) self.description = d === "" ? null : d;
        break;
      }
      case "-description":
      case "-descr":
        if (self) self.description = null;
        break;
      case "name": {
        // setifname(): SIOCSIFNAME, then ifconfig prints the interface's new name (once, at the end).
        const v = arg();
        if (v === null) return fail("'name' requires argument");
        if (!self) return fail(`the sandbox renames only interfaces cloned at run time, not ${target}`);
        if (v !== target && exists(m, s, v)) return fail(`ioctl SIOCSIFNAME (set name): ${STRERROR.EEXIST}`);
        renameIface(m, target, v);
        const printed = out.indexOf(`${target}\n`);
        if (printed >= 0) out.splice(printed, 1);
        out.push(`${v}\n`);
        target = v;
        self = all[v];
        break;
      }
      case "group":
      case "-group": {
        // setifgroup()/unsetifgroup(): an existing group (or a missing one, for -group) is not an error.
        const g = arg();
        if (g === null) return fail(`'${p}' requires argument`);
        if (g.length >= 16) return fail(`${p === "group" ? "setifgroup" : "unsetifgroup"}: group name too long`);
        if (p === "group" && /\d$/.test(g)) return fail("setifgroup: group names may not end in a digit");
        if (!self) return fail(`the sandbox sets groups only on interfaces cloned at run time, not ${target}`);
        const groups = self.groups ?? [];
        self.groups = p === "group" ? (groups.includes(g) || g === self.kind ? groups : [...groups, g]) : groups.filter((x) => x !== g);
        break;
      }
      case "mtu": {
        const v = arg();
        if (v === null) return fail("'mtu' requires argument");
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 72 || n > 65535) return fail(`ioctl SIOCSIFMTU (set mtu): ${STRERROR.EINVAL}`);
        if (self) self.mtu = n;
        break;
      }
      case "vlan":
      case "vlandev": {
        const v = arg();
        if (v === null) return fail(`'${p}' requires argument`);
        if (!self || self.kind !== "vlan") return fail(`SIOCGETVLAN: ${STRERROR.EINVAL}`);
        if (p === "vlan") {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 4094) return fail(`value for vlan out of range: ${v}`);
          self.vlan = Number(v);
        } else {
          if (!exists(m, s, v)) return fail(`SIOCSETVLAN: ${STRERROR.ENOENT}`);
          self.vlandev = v;
        }
        break;
      }
      case "addm":
      case "deletem":
      case "ifuntagged":
      case "-ifuntagged":
      case "iftagged":
      case "+iftagged":
      case "-iftagged":
      case "vlanfilter":
      case "-vlanfilter": {
        const vlanKeyword = p !== "addm" && p !== "deletem";
        if (vlanKeyword && major < 15) return fail(`unknown parameter: ${p}`);
        if (!self || self.kind !== "bridge") return fail(`${p === "addm" ? "BRDGADD" : p === "deletem" ? "BRDGDEL" : "BRDGSFLAGS"}: ${STRERROR.EINVAL}`);
        if (p === "vlanfilter" || p === "-vlanfilter") {
          self.vlanfilter = p === "vlanfilter";
          break;
        }
        const member = arg();
        if (member === null) return fail(`'${p}' requires argument`);
        if (p === "addm") {
          if (!exists(m, s, member)) return fail(`BRDGADD ${member}: ${STRERROR.ENOENT}${ext("No such interface")}`);
          if (self.members.includes(member)) return fail(`BRDGADD ${member}: ${STRERROR.EEXIST}${ext("Interface is already a member of this bridge")}`);
          if (bridgeOf(m, member) !== null || s.busy.includes(member)) return fail(`BRDGADD ${member}: ${STRERROR.EBUSY}${ext("Interface is already a member of another bridge")}`);
          if (major >= 15 && netSysctl(m, MEMBER_IFADDRS) !== "1" && s.addressed.includes(member)) return fail(`BRDGADD ${member}: ${STRERROR.EINVAL}${ext("Member interface may not have an IP address assigned")}`);
          self.members.push(member);
          // 15: `addm IF [untagged VID] [tagged SET]` (the member stays added if these fail).
          if (major >= 15) {
            while (rest[i + 1] === "untagged" || rest[i + 1] === "tagged") {
              const which = rest[++i]!;
              const r = setVlans(self, member, which === "untagged" ? "ifuntagged" : "iftagged", i + 1 < rest.length ? rest[++i]! : null);
              if (r) return fail(r);
            }
          }
        } else if (p === "deletem") {
          if (!self.members.includes(member)) return fail(`BRDGDEL ${member}: ${STRERROR.ENOENT}${ext("Interface is not a bridge member")}`);
          self.members = self.members.filter((x) => x !== member);
          delete self.untagged[member];
          delete self.tagged[member];
        } else {
          if (!self.members.includes(member)) return fail(`${p.includes("untagged") ? "BRDGSIFPVID" : "BRDGSIFVLANSET"} ${member}: ${STRERROR.ENOENT}${ext("Interface is not a bridge member")}`);
          const r = setVlans(self, member, p, p === "-ifuntagged" ? "" : arg());
          if (r) return fail(r);
        }
        break;
      }
      default:
        return fail(`unknown parameter: ${p}`);
    }
  }
  return { status: 0, out: out.join(""), err: "" };
}

/** A VLAN set as ifconfig prints it: ranges joined with commas. */
function vlanRanges(vs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < vs.length; i++) {
    let j = i;
    while (j + 1 < vs.length && vs[j + 1] === vs[j]! + 1) j++;
    parts.push(j > i ? `${vs[i]}-${vs[j]}` : `${vs[i]}`);
    i = j;
  }
  return parts.join(",");
}

/** A locally administered MAC for a cloned interface, from its name. */
function etherOf(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `58:9c:fc:${[16, 8, 0].map((s) => ((h >>> s) & 255).toString(16).padStart(2, "0")).join(":")}`;
}

/** The `groups:` of a cloned interface: its cloner's group, then the ones added. */
function groupsOf(i: SandboxIface): string {
  return [i.kind, ...(i.groups ?? [])].join(" ");
}

/** The cloned interfaces in a group (what `ifconfig -g GROUP` lists), in creation order. */
export function groupMembers(m: MachineState, group: string): string[] {
  return Object.entries(clonedIfaces(m)).filter(([, i]) => i.kind === group || (i.groups ?? []).includes(group)).map(([n]) => n);
}

/** The ifconfig(8) block of a cloned interface. */
export function clonedBlock(m: MachineState, name: string, i: SandboxIface, major: number): string {
  const open = i.kind === "tap" && tapOpen(i);
  const running = i.kind !== "tap" || open;
  const promisc = bridgeOf(m, name) !== null;
  const live = running && i.up;
  const flags: Array<[number, string, boolean]> = [[0x1, "UP", i.up], [0x2, "BROADCAST", true], [0x40, "RUNNING", live], [0x100, "PROMISC", promisc], [0x800, "SIMPLEX", true], [0x8000, "MULTICAST", true], [0x1000000, "LOWER_UP", live]];
  const on = flags.filter(([, , set]) => set);
  const bits = on.reduce((n, [bit]) => n | bit, 0);
  const flagNames = on.map(([, n]) => n);
  let b = `${name}: flags=${bits.toString(16)}<${flagNames.join(",")}> metric 0 mtu ${i.mtu}\n`;
  if (i.description !== null) b += `\tdescription: ${i.description}\n`;
  if (i.kind === "bridge") {
    b += `\toptions=0\n\tether ${etherOf(name)}\n\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n`;
    // 15 adds the bridge's flags, and on each member its VLAN protocol, untagged VLAN and tagged set
    // (ifmaxaddr only when set); 14 always prints ifmaxaddr.
    if (major >= 15) b += i.vlanfilter ? "\tbridge flags=1<VLANFILTER>\n" : "\tbridge flags=0<>\n";
    i.members.forEach((member, k) => {
      b += `\tmember: ${member} flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n`;
      if (major < 15) b += `\t        ifmaxaddr 0 port ${k + 1} priority 128 path cost 2000000\n`;
      else {
        const untagged = i.untagged[member] !== undefined ? ` untagged ${i.untagged[member]}` : "";
        const tagged = i.tagged[member]?.length ? ` tagged ${vlanRanges(i.tagged[member]!)}` : "";
        b += `\t        port ${k + 1} priority 128 path cost 2000000 vlan protocol 802.1q${untagged}${tagged}\n`;
      }
    });
    b += `\tgroups: ${groupsOf(i)}\n\tnd6 options=9<PERFORMNUD,IFDISABLED>\n`;
  } else if (i.kind === "tap") {
    b += `\toptions=80000<LINKSTATE>\n\tether ${etherOf(name)}\n\tgroups: ${groupsOf(i)}\n\tmedia: Ethernet autoselect\n\tstatus: ${open ? "active" : "no carrier"}\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n`;
    if (open) b += `\tOpened by PID ${i.openedBy}\n`;
  } else {
    b += `\toptions=0\n\tether ${etherOf(name)}\n\tgroups: ${groupsOf(i)}\n`;
    if (i.vlan !== null && i.vlandev !== null) b += `\tvlan: ${i.vlan} vlanproto: 802.1q vlanpcp: 0 parent interface: ${i.vlandev}\n`;
    b += "\tmedia: Ethernet autoselect\n\tstatus: active\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n";
  }
  return b;
}

/**
 * bhyve's tap backend opening /dev/NAME: returns the errno name on failure. A tap that does not
 * exist is created by devfs cloning (when enabled), one open already is busy; the tap goes up on
 * open when up_on_open is set.
 */
export function openTap(m: MachineState, name: string, pid: number): "ENOENT" | "EBUSY" | null {
  const all = clonedIfaces(m);
  let tap = all[name];
  if (!tap) {
    if (!/^tap\d+$/.test(name) || netSysctl(m, "net.link.tap.devfs_cloning") !== "1") return "ENOENT";
    tap = all[name] = blank("tap");
  }
  if (tap.kind !== "tap") return "ENOENT";
  if (tapOpen(tap)) return "EBUSY";
  tap.openedBy = pid;
  if (netSysctl(m, "net.link.tap.up_on_open") === "1") tap.up = true;
  return null;
}

/** bhyve exited: its taps are closed, which brings them down (tundtor); the interfaces stay. */
export function closeTaps(m: MachineState, pid: number): void {
  for (const i of Object.values(clonedIfaces(m))) {
    if (i.kind !== "tap" || i.openedBy !== pid) continue;
    i.openedBy = null;
    i.up = false;
  }
}
