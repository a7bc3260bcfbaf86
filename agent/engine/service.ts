/**
 * The agent's operations, shared by the RPC methods and the commands: each change edits the stored
 * desired state, checks the whole of it, and converges the host under the host lock.
 */
import { seedPresent, sessionDisks, type DiskView } from "../guests/disks.js";
import { existsSync, readdirSync } from "node:fs";
import { runTool } from "../host/exec.js";
import { parseBhyveTitles } from "../parse/ps.js";
import { readConsoleLog } from "../guests/console.js";
import { storedUuid, storedVncPort, uefiVarsPresent } from "../guests/identity.js";
import { guestNetwork, hostInterfaces, readNetworkRecord, switchesNetwork, type NicNetwork } from "../guests/network.js";
import { formatBsf, parsePciAddress, samePciAddress } from "../model/pci-address.js";
import { framebufferOf, passthruDevicesOf } from "../model/render.js";
import { documentHash, toDocument } from "../model/document.js";
import { checkDocumentData, checkGuestAlone } from "../model/validate.js";
import type { DesiredState, Guest, HostSettings, PptReservation, Switch } from "../model/types.js";
import { switchToDocument } from "../model/canonical.js";
import type { HostFacts } from "../host/facts.js";
import { hostFacts, sessionReading } from "../host/snapshot.js";

/** `ifconfig -a`, read once per session while nothing changes (a plan reads every guest's network). */
const sessionInterfaces = (paths: HostPaths) => sessionReading(paths, "ifconfig", () => hostInterfaces(paths));
import { withHostLock } from "../host/host-lock.js";
import { currentManagedSettings, readLoaderConf, strayLines } from "../host/loader-conf-store.js";
import type { HostPaths } from "../host/paths.js";
import { readAgentState } from "../host/state.js";
import { readAgentConfig } from "../host/config.js";
import { GUEST_NAME, isUnspecifiedAddress } from "../model/decode.js";
import { listGuestNames, readGuest, readGuestEvents, stopGuest, type GuestRuntime } from "../guests/lifecycle.js";
import { converge, managedSettingsFor, rebootReasons, type ConvergeOptions, type ConvergeResult } from "./converge.js";
import { AgentError, problemsError, isProblemsError } from "../model/errors.js";
import { consoleSocket } from "../guests/monitor-spec.js";
import { relativeTo, type PathSegment } from "../model/problems.js";

/** Decodes `data` as a whole desired-state document; SpecError with every problem otherwise. */
export function decodeDesired(data: unknown): DesiredState {
  const r = checkDocumentData(data);
  if (!r.ok) throw problemsError(r.problems);
  return r.state;
}

/**
 * Edits the stored desired state and converges. `focus` names the item the caller sent (its path
 * in the whole state, e.g. `["ppt", 2]`, and the parameter it came as), so that problems with it are
 * reported against what the caller sent.
 */
async function change(paths: HostPaths, edit: (d: DesiredState) => DesiredState, opts?: ConvergeOptions, focus?: (d: DesiredState) => [PathSegment[], string], hostManaged?: boolean): Promise<ConvergeResult> {
  return withHostLock(paths, async (releaseLock) => {
    const next = edit(readAgentState(paths).desired);
    try {
      // The edited state is checked whole, with the host's facts, by the converge.
      return await converge(paths, next, { ...opts, releaseLock }, hostManaged);
    } catch (err) {
      if (!isProblemsError(err) || !focus) throw err;
      const [path, param] = focus(next);
      // The caller's item under the caller's name: guests[3].cpus is guest.cpus to guest.put.
      const mapped = err.problems.map((p) => {
        const r = relativeTo(p, path, param);
        return r === p || r.path === param ? r : { ...r, path: `${param}.${r.path}` };
      });
      // The same refusal (its code: policy, foreign VM, ...), with the caller's paths.
      throw problemsError(mapped, { code: err.code, total: err.total });
    }
  });
}

/** `host.apply`: the whole desired state. */
export function applyDocument(paths: HostPaths, desired: DesiredState, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, () => desired, opts, undefined, true);
}

/** `host.configure`: host settings only. */
export function configureHost(paths: HostPaths, host: HostSettings, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, host }), opts, undefined, true);
}

/** `host.release`: the host settings go back to their defaults and, with nothing else managed, the managed block leaves loader.conf. */
export function releaseHost(paths: HostPaths, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, host: decodeDesired({}).host }), opts, undefined, false);
}

/** What `host.document` answers: the whole stored desired state and its content hash. */
export interface DocumentView {
  readonly document: Record<string, unknown>;
  readonly sha256: string;
  /** Whether the host settings are managed (loader.conf has the agent's block). */
  readonly managed: boolean;
}

/** `host.document` (under the host lock, as {@link getHost}). */
export function getDocument(paths: HostPaths): Promise<DocumentView> {
  return withHostLock(paths, async () => {
    const state = readAgentState(paths);
    return { document: toDocument(state.desired), sha256: documentHash(state.desired), managed: state.hostManaged };
  });
}

/** What `host.get` answers: the stored host settings, and whether loader.conf's managed block is what they render to. */
export interface HostView {
  readonly managed: boolean;
  readonly host: Record<string, unknown>;
  /** The block's settings as the file has them now. */
  readonly loader_conf: Array<[string, string]>;
  /** What the block should hold. */
  readonly expected: Array<[string, string]>;
  readonly loader_conf_in_sync: boolean;
}

/**
 * `host.get`. Like every read that compares the stored desired state with the host, it holds the
 * host lock: another session's change writes state.json and loader.conf one after the other, and a
 * read between the two would report drift that is not there.
 */
export function getHost(paths: HostPaths): Promise<HostView> {
  return withHostLock(paths, () => readHost(paths));
}

async function readHost(paths: HostPaths): Promise<HostView> {
  const state = readAgentState(paths);
  const facts = await hostFacts(paths);
  const snap = readLoaderConf(paths);
  const now = currentManagedSettings(snap);
  const expected = managedSettingsFor(state.desired, state.hostManaged, facts.cpu.vendor);
  return {
    managed: state.hostManaged,
    host: toDocument(state.desired).host as Record<string, unknown>,
    loader_conf: now,
    expected,
    loader_conf_in_sync: JSON.stringify(now) === JSON.stringify(expected) && strayLines(snap).length === 0,
  };
}

/** `ppt.put`: adds or replaces one reservation. */
export function putReservation(paths: HostPaths, r: PptReservation, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, ppt: [...d.ppt.filter((p) => !samePciAddress(p.device, r.device)), r] }), opts, (d) => [["ppt", d.ppt.length - 1], "reservation"]);
}

/** `ppt.delete`: releases one reservation (refused while a guest of the desired state uses it). */
export function deleteReservation(paths: HostPaths, device: string, opts?: ConvergeOptions): Promise<ConvergeResult> {
  const addr = parseAddress(device);
  return change(paths, (d) => ({ ...d, ppt: d.ppt.filter((p) => !samePciAddress(p.device, addr)) }), opts);
}

/** `switch.put`: adds or replaces one switch. */
export function putSwitch(paths: HostPaths, w: Switch, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, switches: [...d.switches.filter((x) => x.name !== w.name), w] }), opts, (d) => [["switches", d.switches.length - 1], "switch"]);
}

/** `switch.delete`: removes one switch (refused while a guest of the desired state is on it). */
export function deleteSwitch(paths: HostPaths, name: string, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => {
    const users = d.guests.filter((g) => g.nics.some((n) => n.switch === name)).map((g) => g.name);
    if (users.length) throw problemsError([{ path: "name", message: `switch ${name} cannot go while guests are on it: ${users.join(", ")}; move or delete their NICs first` }]);
    return { ...d, switches: d.switches.filter((x) => x.name !== name) };
  }, opts);
}

/** What `switch.get` answers: the switch as stored (null when the desired state has none of that name) and as the host has it. */
export interface SwitchView {
  readonly desired: Record<string, unknown> | null;
  readonly bridge: string | null;
  readonly present: boolean;
  readonly uplink_member: string | null;
  readonly uplink_attached: boolean;
  /** Guests (of the desired state) with a NIC on it. */
  readonly guests: string[];
}

/** `switch.get` (under the host lock, as {@link getHost}). */
export function getSwitch(paths: HostPaths, name: string): Promise<SwitchView> {
  return withHostLock(paths, async () => {
    const desired = readAgentState(paths).desired;
    const w = desired.switches.find((x) => x.name === name);
    if (!w) return { desired: null, bridge: null, present: false, uplink_member: null, uplink_attached: false, guests: [] };
    const [seen] = switchesNetwork(readNetworkRecord(paths), { ...desired, switches: [w] }, await sessionInterfaces(paths));
    return { desired: switchToDocument(w), bridge: seen!.bridge, present: seen!.present, uplink_member: seen!.uplink_member, uplink_attached: seen!.uplink_attached, guests: desired.guests.filter((g) => g.nics.some((n) => n.switch === name)).map((g) => g.name) };
  });
}

/** `guest.put`: adds or replaces one guest. */
export function putGuest(paths: HostPaths, g: Guest, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, guests: [...d.guests.filter((x) => x.name !== g.name), g] }), opts, (d) => [["guests", d.guests.length - 1], "guest"]);
}

/** `guest.delete`: stops and deletes one guest of the desired state. */
export function deleteGuestByName(paths: HostPaths, name: string, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => ({ ...d, guests: d.guests.filter((x) => x.name !== name) }), opts);
}

/** `guest.start` / `guest.stop`: the desired state of one guest. */
export function setGuestState(paths: HostPaths, name: string, state: Guest["state"], opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => {
    if (!d.guests.some((g) => g.name === name)) throw problemsError([{ path: "name", message: `there is no guest ${name} in the agent's desired state` }]);
    return { ...d, guests: d.guests.map((g) => (g.name === name ? { ...g, state } : g)) };
  }, opts);
}

/** `autostart`: converge to the stored desired state (at boot, guests start in start_order). */
export function autostart(paths: HostPaths, opts?: ConvergeOptions): Promise<ConvergeResult> {
  return change(paths, (d) => d, opts);
}

/** `shutdown`: stops every running guest in reverse start order, leaving the desired state as it is. */
export function shutdownGuests(paths: HostPaths): Promise<ConvergeResult> {
  return withHostLock(paths, async () => {
    const result: ConvergeResult = { changed: [], reboot_required: false, pending: [], refused: [], warnings: [] };
    const order = [...readAgentState(paths).desired.guests].sort((a, b) => b.startOrder - a.startOrder || b.name.localeCompare(a.name)).map((g) => g.name);
    for (const name of [...new Set([...order, ...listGuestNames(paths)])]) {
      if (readGuest(paths, name).monitor_pid === null) continue;
      await stopGuest(paths, name);
      result.changed.push({ what: `guest ${name}`, detail: "stopped for shutdown" });
    }
    return result;
  });
}

/** Parses a device address parameter; SpecError naming `device` otherwise. */
export function parseAddress(device: string) {
  const r = parsePciAddress(device);
  if (!r.ok) throw problemsError([{ path: "device", message: r.reason }]);
  return r.address;
}

/** What `ppt.get` answers. */
export interface ReservationView {
  readonly device: string;
  readonly reserved: boolean;
  readonly bind: "live" | "boot" | null;
  readonly vendor_id: number | null;
  readonly device_id: number | null;
  /** Bound to ppt now. */
  readonly bound: boolean;
  /** Driver now, e.g. `ppt0`, `igb1`, or null. */
  readonly driver: string | null;
  readonly in_loader_conf: boolean;
  readonly reboot_required: boolean;
  readonly used_by: string | null;
  readonly hardware: { readonly vendor_id: string; readonly device_id: string; readonly name: string | null } | null;
}

function reservationView(device: string, desired: DesiredState, facts: HostFacts, pptdevs: string[], runtimes: GuestRuntime[]): ReservationView {
  const addr = parseAddress(device);
  const r = desired.ppt.find((p) => samePciAddress(p.device, addr));
  const dev = formatBsf(addr);
  const hw = facts.pci.find((p) => p.device === dev);
  const user = runtimes.find((g) => (g.pid !== null || g.vm_exists) && g.argv !== null && passthruDevicesOf(g.argv).includes(dev));
  return {
    device: dev,
    reserved: !!r,
    bind: r?.bind ?? null,
    vendor_id: r?.vendorId ?? null,
    device_id: r?.deviceId ?? null,
    bound: hw?.driver === "ppt",
    driver: hw?.driver ? `${hw.driver}${hw.unit}` : null,
    in_loader_conf: pptdevs.includes(dev),
    reboot_required: rebootReasons(desired, facts).some((x) => x.what === `ppt ${dev}`),
    used_by: user?.name ?? null,
    hardware: hw ? { vendor_id: hw.vendor_id, device_id: hw.device_id, name: hw.device_name ?? null } : null,
  };
}

function managedPptdevs(paths: HostPaths): string[] {
  return currentManagedSettings(readLoaderConf(paths)).filter(([k]) => /^pptdevs[23]?$/.test(k)).flatMap(([, v]) => v.split(" "));
}

/** `ppt.get`: the reservation as stored and as the host has it (under the host lock, as {@link getHost}). */
export function getReservation(paths: HostPaths, device: string): Promise<ReservationView> {
  return withHostLock(paths, async () => {
    const facts = await hostFacts(paths);
    const runtimes = listGuestNames(paths).map((n) => readGuest(paths, n));
    return reservationView(device, readAgentState(paths).desired, facts, managedPptdevs(paths), runtimes);
  });
}

/** What `guest.get` answers: the runtime, the desired configuration, recent events. */
export interface GuestView extends GuestRuntime {
  readonly desired: Record<string, unknown> | null;
  readonly created_by_agent: boolean;
  readonly events: ReturnType<typeof readGuestEvents>;
  /** Each NIC on a switch: its tap, its bridge, and whether the tap is on it now (drift when not). */
  readonly network: NicNetwork[];
  /** The SMBIOS UUID the guest runs with: the document's, or the one the agent made and keeps (null before the first converge). */
  readonly uuid: string | null;
  /** Whether the guest's UEFI variables file is there (null: it keeps none); false once made is drift the next apply heals. */
  readonly uefi_vars_present: boolean | null;
  /** Where the guest's framebuffer serves VNC on the host (null: it has none; port null before the agent allocated one). */
  readonly vnc: { readonly listen: string; readonly port: number | null } | null;
  /** The disks the agent makes for the guest, as the host has them (each with its drift). */
  readonly disks: DiskView[];
  /** Whether the cloud-init seed the guest would start with is built (null: it has none). */
  readonly seed_present: boolean | null;
}

/** `guest.get`. */
export async function getGuest(paths: HostPaths, name: string): Promise<GuestView> {
  const desired = readAgentState(paths).desired;
  const g = desired.guests.find((x) => x.name === name);
  const doc = g ? (toDocument({ ...desired, guests: [g] }).guests as Array<Record<string, unknown>>)[0]! : null;
  const network = g && g.nics.some((n) => n.switch !== undefined) ? guestNetwork(readNetworkRecord(paths), g, await sessionInterfaces(paths)) : [];
  const disks = g ? (await sessionDisks(paths, desired)).filter((v) => v.guest === name) : [];
  return { ...readGuest(paths, name), desired: doc, created_by_agent: listGuestNames(paths).includes(name), events: readGuestEvents(paths, name).slice(-20), network, uuid: g?.uuid ?? storedUuid(paths, name), uefi_vars_present: g ? uefiVarsPresent(paths, g) : null, vnc: g?.framebuffer ? { listen: g.framebuffer.listen, port: g.framebuffer.port ?? storedVncPort(paths, name) } : null, disks, seed_present: g ? seedPresent(paths, g) : null };
}

/** `guest.list`: every guest of the desired state and every guest with monitor files. */
export function listGuests(paths: HostPaths): GuestRuntime[] {
  const names = new Set([...readAgentState(paths).desired.guests.map((g) => g.name), ...listGuestNames(paths)]);
  return [...names].sort().map((n) => readGuest(paths, n));
}

/** What `status` answers. */
export interface StatusView {
  /** Each guest; `argv` is the command line a running guest's bhyve was started with (null when none runs). */
  readonly guests: Array<Pick<GuestRuntime, "name" | "state" | "pid" | "restarts" | "last_exit" | "argv">>;
  readonly ppt: Array<{ device: string; bound: boolean; driver: string | null }>;
  readonly reboot_required: boolean;
  readonly reboot_reasons: Array<{ what: string; detail: string }>;
  /** The desired switches as the host has them (bridge there and the agent's, uplink attached). */
  readonly switches: ReturnType<typeof switchesNetwork>;
  /** Guest NICs whose tap is not on its switch's bridge (drift the next apply heals). */
  readonly detached_nics: Array<{ guest: string } & NicNetwork>;
  /** Managed disks that differ from what their guest asks (missing, smaller, a property changed, not the agent's). */
  readonly disk_drift: Array<{ guest: string; path: string; drift: readonly string[] }>;
  /**
   * VMs on the host the agent did not create (started by hand or another tool): it never stops,
   * destroys or changes them. `pid`: their bhyve's, found by the title bhyve gives itself (ps shows
   * `bhyve: NAME`; bhyve replaces its arguments with it, so its command line cannot be read); null
   * when no bhyve runs for it (a VM created and left, or one whose bhyve exited).
   */
  readonly foreign_vms: Array<{ name: string; pid: number | null }>;
}

/** `status`: guests, reservations, and whether a reboot is pending (under the host lock, as {@link getHost}). */
export function status(paths: HostPaths): Promise<StatusView> {
  return withHostLock(paths, () => readStatus(paths));
}

async function readStatus(paths: HostPaths): Promise<StatusView> {
  const desired = readAgentState(paths).desired;
  const facts = await hostFacts(paths);
  const reasons = rebootReasons(desired, facts);
  return {
    guests: listGuests(paths).map(({ name, state, pid, restarts, last_exit, argv }) => ({ name, state, pid, restarts, last_exit, argv: pid !== null ? argv : null })),
    ppt: desired.ppt.map((r) => {
      const hw = facts.pci.find((p) => p.device === formatBsf(r.device));
      return { device: formatBsf(r.device), bound: hw?.driver === "ppt", driver: hw?.driver ? `${hw.driver}${hw.unit}` : null };
    }),
    reboot_required: reasons.length > 0,
    reboot_reasons: reasons,
    ...(await networkStatus(paths, desired)),
    disk_drift: (await sessionDisks(paths, desired)).filter((v) => v.drift.length > 0).map((v) => ({ guest: v.guest, path: v.path, drift: v.drift })),
    foreign_vms: await foreignVms(paths),
  };
}

/** The VMs in /dev/vmm that are not the agent's, each with its bhyve's pid (one ps run, only when there is one). */
async function foreignVms(paths: HostPaths): Promise<StatusView["foreign_vms"]> {
  const names = existsSync(paths.devVmm) ? readdirSync(paths.devVmm).filter((n) => GUEST_NAME.test(n) && readGuest(paths, n).vm_foreign).sort() : [];
  if (names.length === 0) return [];
  const r = await runTool(paths.tool("ps"), ["-ax", "-o", "pid=", "-o", "command="]);
  const pids = r.status === 0 ? parseBhyveTitles(r.stdout) : new Map<string, number>();
  return names.map((name) => ({ name, pid: pids.get(name) ?? null }));
}

/** Switches and detached guest NICs, read with one `ifconfig -a` (none when the host has no switches). */
async function networkStatus(paths: HostPaths, desired: DesiredState): Promise<Pick<StatusView, "switches" | "detached_nics">> {
  const rec = readNetworkRecord(paths);
  if (desired.switches.length === 0 && Object.keys(rec.switches).length === 0) return { switches: [], detached_nics: [] };
  const ifaces = await sessionInterfaces(paths);
  const detached = desired.guests.flatMap((g) => (readGuest(paths, g.name).monitor_pid === null ? [] : guestNetwork(rec, g, ifaces).filter((n) => !n.on_bridge).map((n) => ({ guest: g.name, ...n }))));
  return { switches: switchesNetwork(rec, desired, ifaces), detached_nics: detached };
}

/** Checks a guest parameter: a single guest document, validated alone (the whole state is checked again before any change). */
export function decodeGuest(data: unknown): Guest {
  const r = checkGuestAlone(data);
  if (!r.ok) throw problemsError(r.problems);
  return r.guest;
}

/**
 * The console socket of a guest that has one now (a guest of the desired state, with a console,
 * whose monitor serves it); refuses by name otherwise (E_NO_CONSOLE).
 */
export function consoleSocketOf(paths: HostPaths, name: string): string {
  const g = readAgentState(paths).desired.guests.find((x) => x.name === name);
  if (!g) throw new AgentError(`there is no guest ${name} in the desired state`, "E_NO_GUEST");
  if (!g.console) throw new AgentError(`guest ${name} has no console (console: false)`, "E_NO_CONSOLE");
  const socket = consoleSocket({ runDir: paths.guestRunDir(name) });
  if (readGuest(paths, name).monitor_pid === null || !existsSync(socket)) throw new AgentError(`guest ${name}'s console is not served: its monitor does not run`, "E_NO_CONSOLE");
  return socket;
}

/**
 * Where a guest's VNC server is: the rfb= address of the bhyve its monitor runs now, and only that
 * (never a port found elsewhere, which could be another program's). Refuses by name when the guest
 * has no framebuffer or it is not running.
 */
export function vncTargetOf(paths: HostPaths, name: string): { host: string; port: number } {
  const g = readAgentState(paths).desired.guests.find((x) => x.name === name);
  if (!g) throw new AgentError(`there is no guest ${name} in the desired state`, "E_NO_GUEST");
  if (!g.framebuffer) throw new AgentError(`guest ${name} has no framebuffer (set framebuffer on a UEFI guest)`, "E_NO_FRAMEBUFFER");
  const rt = readGuest(paths, name);
  const target = rt.monitor_pid !== null && rt.pid !== null && rt.state === "running" && rt.argv ? framebufferOf(rt.argv) : null;
  if (!target) throw new AgentError(`guest ${name}'s framebuffer is not served: its bhyve does not run${rt.pid !== null ? " with a framebuffer (apply to restart it with one)" : ""}`, "E_NO_FRAMEBUFFER");
  // Fail closed: only a port of the policy's framebuffer range (a host service's could sit on
  // another, where a bhyve that failed to bind would leave it), and only the address it was given.
  const [first, last] = readAgentConfig(paths).policy.framebufferPorts;
  if (target.port < first || target.port > last) throw new AgentError(`guest ${name}'s framebuffer port ${target.port} is outside policy framebuffer_ports (${first}-${last}); not relaying to it`, "E_NO_FRAMEBUFFER");
  if (isUnspecifiedAddress(target.host)) throw new AgentError(`guest ${name}'s framebuffer listens on every address (${target.host}); connect to the host directly, guest.vnc relays only to a framebuffer on one address`, "E_NO_FRAMEBUFFER");
  return target;
}

/** The guest's console log (the rotated part first); refuses by name when there is none. */
export function consoleLog(paths: HostPaths, name: string): string {
  const text = readConsoleLog(paths.guestLogDir(name));
  if (text === null && !readAgentState(paths).desired.guests.some((x) => x.name === name)) throw new AgentError(`there is no guest ${name} in the desired state`, "E_NO_GUEST");
  if (text === null) throw new AgentError(`guest ${name} has no console log (it never ran with a console)`, "E_NO_CONSOLE");
  return text.toString("latin1");
}
