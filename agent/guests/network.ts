/**
 * Guest networking on the host: one if_bridge(4) per switch of the desired state, with its uplink
 * (the host NIC itself, or a vlan(4) interface NIC.TAG on it) as a member, and one tap(4) per
 * guest NIC on a switch, put on the switch's bridge before bhyve opens it.
 *
 * Ownership: every interface the agent creates carries a description that names it as the
 * agent's (`bhyve-agent:switch:NAME`, `bhyve-agent:guest:GUEST:N`) and is recorded in
 * var/db/bhyve-agent/network.json with its name. The agent changes or destroys only interfaces
 * that are both recorded and described as its own; anything else (an operator's bridge0, a tap
 * vm-bhyve made) is refused by name and left alone. Addresses are never changed.
 *
 * Names are kept across reboots: cloned interfaces vanish at a reboot and are made again under
 * the recorded names, so a guest's argv (which names its tap) stays the same. A tap is (re)made
 * and put on its bridge by `bhyve-agent net-up GUEST`, which the guest's monitor runs before every
 * start (its prestart helper), so a tap taken off its bridge or gone comes back at each restart.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runTool, type ToolResult } from "../host/exec.js";
import { agentDirectory, fileHolds, writeFileAtomic } from "../host/files.js";
import type { HostPaths } from "../host/paths.js";
import { readingChanged } from "../host/snapshot.js";
import { AgentError } from "../model/errors.js";
import { GUEST_NAME } from "../model/decode.js";
import type { DesiredState, Guest, Nic, Switch } from "../model/types.js";
import { parseIfconfig, type IfconfigInterface } from "../parse/network.js";

/** The description that marks a switch's bridge (and its vlan interface) as the agent's. */
export const switchDescription = (name: string): string => `bhyve-agent:switch:${name}`;
/** The description that marks a guest NIC's tap as the agent's. */
export const tapDescription = (guest: string, index: number): string => `bhyve-agent:guest:${guest}:${index}`;

/** What the agent made for one switch. */
export interface SwitchRecord {
  /** The bridge, e.g. bridge2. */
  readonly bridge: string;
  /** The vlan(4) interface the agent made as the uplink member (igb1.20), when the switch has a VLAN. */
  readonly vlanIf?: string;
  /** The interface the agent added to the bridge as its uplink (the NIC, or vlanIf). */
  readonly uplinkMember?: string;
}

/** Everything the agent made for the network: switches by name, taps by guest and NIC index. */
export interface NetworkRecord {
  readonly switches: Readonly<Record<string, SwitchRecord>>;
  readonly taps: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const EMPTY: NetworkRecord = { switches: {}, taps: {} };
const IF_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;

function recordFile(paths: HostPaths): string {
  return join(paths.dbDir, "network.json");
}

/** The record; a missing file is an empty one. A file that is not a record is refused (never reset): nothing is changed until it is repaired. */
export function readNetworkRecord(paths: HostPaths): NetworkRecord {
  const file = recordFile(paths);
  if (!existsSync(file)) return EMPTY;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new AgentError(`${file} is not valid JSON (${(err as Error).message}); the agent changes no network interface until it is repaired or removed`, "E_STATE");
  }
  const r = raw as { switches?: unknown; taps?: unknown };
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const ok =
    isMap(r) && isMap(r.switches) && isMap(r.taps) &&
    Object.values(r.switches).every((s) => isMap(s) && typeof s.bridge === "string" && IF_NAME.test(s.bridge) && [s.vlanIf, s.uplinkMember].every((x) => x === undefined || (typeof x === "string" && IF_NAME.test(x)))) &&
    Object.values(r.taps).every((t) => isMap(t) && Object.values(t).every((x) => typeof x === "string" && /^tap\d+$/.test(x)));
  if (!ok) throw new AgentError(`${file} is not a network record (switches and taps); the agent changes no network interface until it is repaired or removed`, "E_STATE");
  return r as NetworkRecord;
}

/** Replaces the record atomically (not when it already holds the same). */
export function writeNetworkRecord(paths: HostPaths, rec: NetworkRecord): void {
  const text = `${JSON.stringify(rec, null, 1)}\n`;
  if (fileHolds(recordFile(paths), text)) return;
  agentDirectory(paths.dbDir, 0o700);
  writeFileAtomic(recordFile(paths), text, 0o600);
}

/** The host's interfaces now (`ifconfig -a`). */
export async function hostInterfaces(paths: HostPaths): Promise<IfconfigInterface[]> {
  const scope = converging.getStore();
  if (!scope || scope.root !== paths.root) return readInterfaces(paths);
  if (scope.reading === null) {
    const reading = readInterfaces(paths);
    reading.catch(() => {
      if (scope.reading === reading) scope.reading = null;
    });
    scope.reading = reading;
  }
  return scope.reading;
}

async function readInterfaces(paths: HostPaths): Promise<IfconfigInterface[]> {
  const r = await runTool(paths.tool("ifconfig"), ["-a"]);
  if (r.status !== 0) throw new AgentError(`ifconfig -a failed: ${r.stderr.trim() || `exit ${r.status}`}`, "E_NETWORK");
  return parseIfconfig(r.stdout);
}

/**
 * One converge's reading of `ifconfig -a`: taken at its first use and again after each change the
 * converge makes to an interface, instead of at every step and guest (a converge of a host with
 * many guests read it dozens of times). What others change meanwhile (a guest's monitor making its
 * own taps) is caught where it matters: a change that fails is checked against a fresh reading.
 */
const converging = new AsyncLocalStorage<{ readonly root: string; reading: Promise<IfconfigInterface[]> | null }>();

/**
 * Drops the converge's reading: a guest was stopped or started (its bhyve opened or closed its taps,
 * and the wait may have been long), so what follows reads the interfaces again.
 */
export function interfacesMayHaveChanged(): void {
  const scope = converging.getStore();
  if (scope) scope.reading = null;
}

/** Runs `fn` (a converge, under the host lock) with one shared reading of the host's interfaces. */
export function withInterfaceReading<T>(paths: HostPaths, fn: () => Promise<T>): Promise<T> {
  return converging.run({ root: paths.root, reading: null }, fn);
}

/** Runs ifconfig with `args` (a change); throws E_NETWORK with ifconfig's words when it fails. */
async function ifconfig(paths: HostPaths, args: readonly string[]): Promise<ToolResult> {
  try {
    const r = await runTool(paths.tool("ifconfig"), args);
    if (r.status !== 0) throw new AgentError(`ifconfig ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.status}`}`, "E_NETWORK");
    return r;
  } finally {
    interfacesMayHaveChanged();
    readingChanged(paths, "ifconfig");
  }
}

const byName = (list: readonly IfconfigInterface[]): Map<string, IfconfigInterface> => new Map(list.map((i) => [i.name, i]));

/** The host's interfaces by name (this converge's reading, see {@link hostInterfaces}). */
async function interfacesByName(paths: HostPaths): Promise<Map<string, IfconfigInterface>> {
  return byName(await hostInterfaces(paths));
}

/** The lowest `prefixN` that no interface has and no record holds. */
function freeName(prefix: string, present: ReadonlySet<string>, taken: ReadonlySet<string>): string {
  for (let n = 0; ; n++) if (!present.has(`${prefix}${n}`) && !taken.has(`${prefix}${n}`)) return `${prefix}${n}`;
}

/** Every interface name the record holds. */
function recordedNames(rec: NetworkRecord): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(rec.switches)) for (const n of [s.bridge, s.vlanIf, s.uplinkMember]) if (n) out.add(n);
  for (const t of Object.values(rec.taps)) for (const n of Object.values(t)) out.add(n);
  return out;
}

/** What a network step did: changes made, and what it refused (each with the switch or guest it is about). */
export interface NetworkOutcome {
  readonly changed: Array<{ what: string; detail: string }>;
  readonly refused: Array<{ what: string; detail: string }>;
}

/** The FreeBSD major release from kern.osrelease ("15.0-RELEASE" → 15), or null. */
export function releaseMajor(osrelease: string | null): number | null {
  const m = /^(\d+)\./.exec(osrelease ?? "");
  return m ? Number(m[1]) : null;
}

/**
 * Makes the host's switches what `desired` says: bridges made (or made again after a reboot under
 * their recorded names), described as the agent's and up, with their MTU and uplink member; the
 * ones no longer desired destroyed when they are still the agent's. Refuses, per switch, what is not
 * the agent's or cannot be done (an uplink that does not exist; on 15, an uplink that holds an
 * address). Returns what it did; the record is written as it goes.
 */
export async function convergeSwitches(paths: HostPaths, desired: DesiredState, major: number | null): Promise<NetworkOutcome> {
  const out: NetworkOutcome = { changed: [], refused: [] };
  const rec = readNetworkRecord(paths);
  const managedNics = desired.guests.some((g) => g.nics.some((n) => n.switch !== undefined));
  if (desired.switches.length === 0 && Object.keys(rec.switches).length === 0 && !managedNics) return out;
  let ifaces = await hostInterfaces(paths);
  const switches: Record<string, SwitchRecord> = { ...rec.switches };
  const save = (): void => writeNetworkRecord(paths, { switches, taps: rec.taps });

  for (const w of desired.switches) {
    const what = `switch ${w.name}`;
    try {
      const made = await ensureSwitch(paths, w, switches[w.name], byName(ifaces), recordedNames({ switches, taps: rec.taps }), major, out.changed);
      switches[w.name] = made;
      save();
      ifaces = await hostInterfaces(paths);
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      out.refused.push({ what, detail: err.message });
    }
  }
  for (const [name, s] of Object.entries(switches)) {
    if (desired.switches.some((w) => w.name === name)) continue;
    const now = byName(ifaces);
    for (const n of [s.vlanIf, s.bridge]) {
      if (!n) continue;
      const i = now.get(n);
      if (!i) continue;
      if (i.description !== switchDescription(name)) {
        out.refused.push({ what: `switch ${name}`, detail: `${n} is not described as the agent's any more (${i.description === null ? "no description" : `"${i.description}"`}); left as it is` });
        continue;
      }
      await ifconfig(paths, [n, "destroy"]);
    }
    delete switches[name];
    save();
    out.changed.push({ what: `switch ${name}`, detail: `removed (${[s.bridge, s.vlanIf].filter(Boolean).join(", ")} destroyed)` });
  }
  if (managedNics) await tapsUpOnOpen(paths, out.changed);
  if (out.changed.length) readingChanged(paths, "ifconfig");
  return out;
}

/** net.link.tap.up_on_open=1: a tap comes up when bhyve opens it (FreeBSD leaves it down otherwise). */
async function tapsUpOnOpen(paths: HostPaths, changed: NetworkOutcome["changed"]): Promise<void> {
  const r = await runTool(paths.tool("sysctl"), ["-n", "net.link.tap.up_on_open"]);
  if (r.status === 0 && r.stdout.trim() === "1") return;
  const set = await runTool(paths.tool("sysctl"), ["net.link.tap.up_on_open=1"]);
  if (set.status !== 0) throw new AgentError(`sysctl net.link.tap.up_on_open=1 failed: ${set.stderr.trim() || `exit ${set.status}`}`, "E_NETWORK");
  changed.push({ what: "net.link.tap.up_on_open", detail: "set to 1 (guest taps come up when bhyve opens them)" });
}

async function ensureSwitch(
  paths: HostPaths, w: Switch, had: SwitchRecord | undefined, ifaces: Map<string, IfconfigInterface>, taken: Set<string>, major: number | null,
  changed: NetworkOutcome["changed"],
): Promise<SwitchRecord> {
  const what = `switch ${w.name}`;
  const desc = switchDescription(w.name);
  const mine = (name: string): boolean => ifaces.get(name)?.description === desc;
  // The bridge: the recorded one when it is still the agent's; made again under that name after a reboot.
  let bridge = had?.bridge;
  if (bridge && ifaces.has(bridge) && !mine(bridge)) {
    throw new AgentError(`its bridge ${bridge} is not the agent's any more (described as ${ifaces.get(bridge)!.description === null ? "nothing" : `"${ifaces.get(bridge)!.description}"`}); rename or destroy that interface, or remove ${paths.dbDir}/network.json's entry for the switch`, "E_NOT_OURS");
  }
  if (!bridge || !ifaces.has(bridge)) {
    bridge ??= freeName("bridge", new Set(ifaces.keys()), taken);
    await ifconfig(paths, [bridge, "create", "description", desc, "up"]);
    changed.push({ what, detail: `${bridge} created` });
  }
  const cur = ifaces.get(bridge);
  if (cur && !cur.flags.includes("UP")) await ifconfig(paths, [bridge, "up"]);
  if (w.mtu !== undefined && cur?.mtu !== w.mtu) {
    await ifconfig(paths, [bridge, "mtu", String(w.mtu)]);
    if (cur) changed.push({ what, detail: `${bridge} mtu ${w.mtu} (was ${cur.mtu})` });
  }
  const members = new Set(cur?.bridgeMembers ?? []);
  // The uplink: the NIC itself, or the agent's vlan interface on it.
  let vlanIf: string | undefined;
  let member: string | undefined;
  if (w.uplink !== undefined) {
    const nic = ifaces.get(w.uplink);
    if (!nic) throw new AgentError(`its uplink ${w.uplink} does not exist on this host (ifconfig -a does not list it)`, "E_NO_UPLINK");
    if (w.vlan !== undefined) {
      vlanIf = `${w.uplink}.${w.vlan}`;
      const v = ifaces.get(vlanIf);
      if (v && v.description !== desc) throw new AgentError(`${vlanIf} exists and is not the agent's (described as ${v.description === null ? "nothing" : `"${v.description}"`}); the switch cannot use VLAN ${w.vlan} on ${w.uplink} while it is there`, "E_NOT_OURS");
      if (!v) {
        await ifconfig(paths, [vlanIf, "create", "description", desc, "up"]);
        changed.push({ what, detail: `${vlanIf} (VLAN ${w.vlan} on ${w.uplink}) created` });
      }
      member = vlanIf;
    } else {
      // FreeBSD 15 refuses addresses on bridge members (net.link.bridge.member_ifaddrs=0).
      if ((major ?? 0) >= 15 && (nic.inet.length > 0 || nic.inet6.some((a) => !a.toLowerCase().startsWith("fe80")))) {
        throw new AgentError(`its uplink ${w.uplink} holds an address (${[...nic.inet, ...nic.inet6].join(", ")}); FreeBSD 15 does not let a bridge member carry addresses. Move the address to a bridge (or use another NIC) and apply again; the agent never changes addresses`, "E_UPLINK_ADDRESS");
      }
      member = w.uplink;
    }
    if (!members.has(member)) {
      await ifconfig(paths, [bridge, "addm", member]);
      changed.push({ what, detail: `${member} added to ${bridge}` });
    }
  }
  // A recorded uplink the switch no longer has: out of the bridge; the agent's vlan interface destroyed.
  if (had?.uplinkMember && had.uplinkMember !== member && members.has(had.uplinkMember)) {
    await ifconfig(paths, [bridge, "deletem", had.uplinkMember]);
    changed.push({ what, detail: `${had.uplinkMember} removed from ${bridge}` });
  }
  if (had?.vlanIf && had.vlanIf !== vlanIf && ifaces.get(had.vlanIf)?.description === desc) {
    await ifconfig(paths, [had.vlanIf, "destroy"]);
    changed.push({ what, detail: `${had.vlanIf} destroyed` });
  }
  return { bridge, ...(vlanIf ? { vlanIf } : {}), ...(member ? { uplinkMember: member } : {}) };
}

/**
 * The guest with a tap for each NIC on a switch: the recorded one, or the lowest free tapN
 * (recorded at once). The guest's unmanaged taps and every other guest's are never chosen.
 */
export async function withAllocatedTaps(paths: HostPaths, guest: Guest, desired: DesiredState): Promise<Guest> {
  if (!guest.nics.some((n) => n.switch !== undefined)) return guest;
  const rec = readNetworkRecord(paths);
  const mine: Record<string, string> = { ...(rec.taps[guest.name] ?? {}) };
  const present = new Set((await hostInterfaces(paths)).map((i) => i.name));
  const taken = recordedNames(rec);
  for (const g of desired.guests) for (const n of g.nics) if (n.tap !== undefined && n.switch === undefined) taken.add(n.tap);
  let changed = false;
  const nics: Nic[] = guest.nics.map((n, i) => {
    if (n.switch === undefined) return n;
    let tap = mine[String(i)];
    if (!tap) {
      // The taps this guest had are its own: reuse is fine; anything else present or recorded is not.
      tap = freeName("tap", present, taken);
      taken.add(tap);
      mine[String(i)] = tap;
      changed = true;
    }
    return { ...n, tap };
  });
  // Taps of NICs the guest no longer has on a switch stay recorded until releaseStaleTaps destroys them.
  if (changed) writeNetworkRecord(paths, { switches: rec.switches, taps: { ...rec.taps, [guest.name]: mine } });
  return { ...guest, nics };
}

/** Whether `v` (a spec's net.json, parsed) is a list of taps on bridges with names the agent makes. */
export function isTapPlanList(v: unknown): v is TapPlan[] {
  return Array.isArray(v) && v.every((p: Partial<TapPlan> | null) => /^tap\d+$/.test(String(p?.tap)) && /^bridge\d+$/.test(String(p?.bridge)) && GUEST_NAME.test(String(p?.switch)));
}

/** One tap of a guest as its monitor's prestart helper makes it ready (spec file net.json). */
export interface TapPlan {
  readonly tap: string;
  readonly bridge: string;
  readonly switch: string;
  readonly description: string;
  readonly mtu?: number;
}

/** The taps of a guest (its taps allocated) on their switches' bridges; a switch without a recorded bridge is left out (its converge refused it). */
export function tapPlans(paths: HostPaths, guest: Guest, desired: DesiredState): TapPlan[] {
  const rec = readNetworkRecord(paths);
  return guest.nics.flatMap((n, i) => {
    if (n.switch === undefined || n.tap === undefined) return [];
    const s = rec.switches[n.switch];
    const w = desired.switches.find((x) => x.name === n.switch);
    return s ? [{ tap: n.tap, bridge: s.bridge, switch: n.switch, description: tapDescription(guest.name, i), ...(w?.mtu !== undefined ? { mtu: w.mtu } : {}) }] : [];
  });
}

/**
 * The argv that runs `bhyve-agent net-up GUEST` for the monitor: the installed command
 * (/usr/local/bin/bhyve-agent, which follows the current version across upgrades) when there is
 * one, else node and this agent's bundle.
 */
export function netUpArgv(paths: HostPaths, guest: string): string[] {
  const installed = paths.at("/usr/local/bin/bhyve-agent");
  const tail = ["net-up", guest, "--root", paths.root];
  if (existsSync(installed)) return [installed, ...tail];
  const here = dirname(fileURLToPath(import.meta.url));
  // Bundled: dist/bhyve-agent.mjs is this file; from the sources (tests): the package's dist/.
  const bundle = [join(here, "bhyve-agent.mjs"), resolve(here, "../../dist/bhyve-agent.mjs")].find((f) => existsSync(f)) ?? join(here, "bhyve-agent.mjs");
  return [process.execPath, bundle, ...tail];
}

/** The guest with the taps recorded for its switch NICs (the converge allocates them first). */
export function recordedGuest(paths: HostPaths, guest: Guest): Guest {
  if (!guest.nics.some((n) => n.switch !== undefined)) return guest;
  const mine = readNetworkRecord(paths).taps[guest.name] ?? {};
  return {
    ...guest,
    nics: guest.nics.map((n, i) => {
      if (n.switch === undefined) return n;
      const tap = mine[String(i)];
      if (!tap) throw new AgentError(`guest ${guest.name}'s NIC ${i} on switch ${n.switch} has no tap yet; apply the desired state (the converge allocates it)`, "E_NO_TAP");
      return { ...n, tap };
    }),
  };
}

/**
 * Makes a guest's taps ready before its bhyve starts: each one there (made when missing),
 * described as the guest's, with its switch's MTU, and on its switch's bridge; a bridge that is not
 * the agent's, a tap that is someone else's or on another bridge, is refused (nothing changed).
 * Idempotent: run at every start by the guest's monitor, and by the converge to heal drift.
 */
export async function tapsUp(paths: HostPaths, plans: readonly TapPlan[]): Promise<string[]> {
  const done: string[] = [];
  if (plans.length === 0) return done;
  const ifaces = await interfacesByName(paths);
  for (const p of plans) {
    const br = ifaces.get(p.bridge);
    if (!br) throw new AgentError(`switch ${p.switch}'s bridge ${p.bridge} does not exist (the host rebooted, or it was destroyed); apply the desired state again to make it`, "E_NO_BRIDGE");
    if (br.description !== switchDescription(p.switch)) throw new AgentError(`${p.bridge} is not switch ${p.switch}'s bridge (described as ${br.description === null ? "nothing" : `"${br.description}"`}); not touching it`, "E_NOT_OURS");
    const tap = ifaces.get(p.tap);
    if (tap && tap.description !== p.description) throw new AgentError(`${p.tap} exists and is not this guest's (described as ${tap.description === null ? "nothing" : `"${tap.description}"`}); not touching it`, "E_NOT_OURS");
    if (!tap) {
      // The converge (healing a running guest) and the guest's monitor (starting it) may make the
      // same tap at the same moment: made by the other one, described as this guest's, is done.
      const made = await settled(paths, [p.tap, "create", "description", p.description], (now) => now.get(p.tap)?.description === p.description);
      if (made) done.push(`${p.tap} created`);
    }
    if (p.mtu !== undefined && tap?.mtu !== p.mtu) await ifconfig(paths, [p.tap, "mtu", String(p.mtu)]);
    if (!br.bridgeMembers.includes(p.tap)) {
      const other = [...ifaces.values()].find((i) => i.bridgeMembers.includes(p.tap));
      if (other) throw new AgentError(`${p.tap} is a member of ${other.name}, not of switch ${p.switch}'s ${p.bridge}; take it out of ${other.name} first`, "E_NOT_OURS");
      const added = await settled(paths, [p.bridge, "addm", p.tap], (now) => now.get(p.bridge)?.bridgeMembers.includes(p.tap) ?? false);
      if (added) done.push(`${p.tap} put on ${p.bridge} (switch ${p.switch})`);
    }
  }
  if (done.length) readingChanged(paths, "ifconfig");
  return done;
}

/**
 * Runs `ifconfig ARGS`; when it fails, reads the interfaces again and takes the failure as done
 * when `reached` holds (another run of the same idempotent step got there first). Returns whether
 * this run made the change; throws the failure otherwise.
 */
async function settled(paths: HostPaths, args: readonly string[], reached: (now: Map<string, IfconfigInterface>) => boolean): Promise<boolean> {
  try {
    await ifconfig(paths, args);
    return true;
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    const now = byName(await readInterfaces(paths));
    if (reached(now)) return false;
    throw err;
  }
}

/**
 * Destroys the taps recorded for a guest's NICs that are no longer on a switch (a NIC dropped or
 * moved to an unmanaged tap), once bhyve has let go of them; forgets them.
 */
export async function releaseStaleTaps(paths: HostPaths, guest: Guest): Promise<string[]> {
  const rec = readNetworkRecord(paths);
  const mine = { ...(rec.taps[guest.name] ?? {}) };
  const stale = Object.entries(mine).filter(([k]) => guest.nics[Number(k)]?.switch === undefined);
  if (stale.length === 0) return [];
  const ifaces = await interfacesByName(paths);
  const done: string[] = [];
  for (const [k, tap] of stale) {
    const i = ifaces.get(tap);
    if (i?.openedBy != null) continue;
    if (i && i.description === tapDescription(guest.name, Number(k))) {
      await ifconfig(paths, [tap, "destroy"]);
      done.push(`${tap} destroyed (its NIC is no longer on a switch)`);
    }
    delete mine[k];
  }
  writeNetworkRecord(paths, { switches: rec.switches, taps: { ...rec.taps, [guest.name]: mine } });
  return done;
}

/** Destroys the taps the agent made for a guest (described as its own) and forgets them. */
export async function releaseGuestTaps(paths: HostPaths, guest: string): Promise<void> {
  const rec = readNetworkRecord(paths);
  const mine = rec.taps[guest];
  if (!mine) return;
  const ifaces = await interfacesByName(paths);
  for (const [k, tap] of Object.entries(mine)) {
    const i = ifaces.get(tap);
    if (i && i.description === tapDescription(guest, Number(k))) await ifconfig(paths, [tap, "destroy"]);
  }
  const taps = { ...rec.taps };
  delete taps[guest];
  writeNetworkRecord(paths, { switches: rec.switches, taps });
}

/** A guest NIC's place on the network as the host has it now: its tap, the bridge it should be on, and whether it is. */
export interface NicNetwork {
  readonly switch: string;
  readonly tap: string | null;
  readonly bridge: string | null;
  readonly on_bridge: boolean;
}

/** The network of each switch NIC of a guest (for guest.get and status): drift shows as on_bridge false. */
export function guestNetwork(rec: NetworkRecord, guest: Guest, ifaces: readonly IfconfigInterface[]): NicNetwork[] {
  const byName = new Map(ifaces.map((i) => [i.name, i]));
  return guest.nics.flatMap((n, i) => {
    if (n.switch === undefined) return [];
    const tap = rec.taps[guest.name]?.[String(i)] ?? null;
    const bridge = rec.switches[n.switch]?.bridge ?? null;
    const on = tap !== null && bridge !== null && (byName.get(bridge)?.bridgeMembers.includes(tap) ?? false);
    return [{ switch: n.switch, tap, bridge, on_bridge: on }];
  });
}

/** Each switch as the host has it now: its bridge there and the agent's, its uplink a member. */
export function switchesNetwork(rec: NetworkRecord, desired: DesiredState, ifaces: readonly IfconfigInterface[]): Array<{ name: string; bridge: string | null; present: boolean; uplink_member: string | null; uplink_attached: boolean }> {
  const byName = new Map(ifaces.map((i) => [i.name, i]));
  return desired.switches.map((w) => {
    const s = rec.switches[w.name];
    const br = s ? byName.get(s.bridge) : undefined;
    const present = !!br && br.description === switchDescription(w.name);
    const member = w.uplink === undefined ? null : w.vlan !== undefined ? `${w.uplink}.${w.vlan}` : w.uplink;
    return { name: w.name, bridge: s?.bridge ?? null, present, uplink_member: member, uplink_attached: member === null || (present && br!.bridgeMembers.includes(member)) };
  });
}
