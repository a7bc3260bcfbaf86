/**
 * Guests through bhyve-monitor: start (write the spec, start a detached monitor), stop (SIGTERM
 * to the monitor: the guest's power button, then force-poweroff), delete (stop, destroy the VM,
 * remove the monitor's files), and what is really there (the monitor's status and the argv it
 * launched, checked against the processes that exist).
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseMonitorEvents, parseMonitorStatus, type MonitorEvent } from "../parse/monitor-files.js";
import type { DesiredState, Guest } from "../model/types.js";
import { readAgentState } from "../host/state.js";
import { interfacesMayHaveChanged, isTapPlanList, netUpArgv, recordedGuest, releaseGuestTaps, tapPlans, tapsUp } from "./network.js";
import { ensureUefiVars, ensureUuid, ensureVncPort } from "./identity.js";
import { GUEST_NAME } from "../model/decode.js";
import { runTool } from "../host/exec.js";
import { lockedPid, monitorExecutable } from "../host/native.js";
import type { HostPaths } from "../host/paths.js";
import { processAlive } from "../host/pid-lock.js";
import { readAgentConfig } from "../host/config.js";
import { parseArgvFile, renderMonitorSpec, writeMonitorSpec, type MonitorPaths, type MonitorPolicy } from "./monitor-spec.js";
import { AgentError } from "../model/errors.js";

/** A guest as it really is on the host. */
export interface GuestRuntime {
  readonly name: string;
  /** running | starting | backoff | stopping (monitor alive); stopped | crashed (monitor gone); missing (never created or deleted). */
  readonly state: "running" | "starting" | "backoff" | "stopping" | "stopped" | "crashed" | "missing";
  readonly reason: string;
  readonly monitor_pid: number | null;
  readonly pid: number | null;
  readonly restarts: number;
  readonly last_exit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null;
  /** The bhyve argv the monitor launched, or null when no monitor ran. */
  readonly argv: string[] | null;
  /** Whether a VM of this name exists in the kernel (/dev/vmm/NAME). */
  readonly vm_exists: boolean;
  /** A VM of this name exists that the agent did not create (by hand, vm-bhyve, ...): never stopped, destroyed or reinitialised. */
  readonly vm_foreign: boolean;
}

/** The codes of a guest's own start or stop failing (the monitor, its VM): one guest refused, the rest of a converge goes on. */
export const GUEST_FAILURES: ReadonlySet<string> = new Set(["E_NO_MONITOR", "E_FOREIGN_VM", "E_MONITOR_START", "E_STOP_TIMEOUT", "E_DESTROY", "E_NO_VARS_TEMPLATE"]);

/** The monitor file locations of a guest. */
export function monitorPaths(paths: HostPaths, name: string): MonitorPaths {
  return { root: paths.root, specDir: paths.guestSpecDir(name), runDir: paths.guestRunDir(name), logFile: paths.guestLog(name) };
}

/** The monitor policy for a guest: its restart policy with the host's configured timings. */
export function policyFor(paths: HostPaths, guest: Guest): MonitorPolicy {
  return { ...readAgentConfig(paths).monitor, restart: guest.restart };
}

/**
 * A file's text, or null when it is not there. The monitor writes and removes its files while we
 * read them (its pid file goes as its last act), so "exists, then read" would race.
 */
export function readIfPresent(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function readArgv(path: string): string[] | null {
  const text = readIfPresent(path);
  return text === null ? null : parseArgvFile(text);
}

/** The argv with its program path as the host names it (the agent root taken off). */
export function hostArgv(paths: HostPaths, argv: string[] | null): string[] | null {
  const program = argv?.[0] !== undefined ? paths.hostPath(argv[0]) : null;
  return !argv || program === null ? argv : [program, ...argv.slice(1)];
}

/**
 * The guest's monitor, or null when none runs. monitor.pid counts only while it is locked (the
 * monitor holds its flock for its whole life): a stale file's PID may name an unrelated process.
 */
function monitorPid(mp: MonitorPaths): number | null {
  return lockedPid(join(mp.runDir, "monitor.pid"), "bhyve-monitor");
}

/**
 * Whether the VM named `name` (if one exists) is the agent's own: its monitor wrote the owner
 * file (guests/NAME/vm.owned in the run directory) before it first ran bhyveload or bhyve, and
 * removes it once the VM is destroyed for good; /var/run is emptied at boot as /dev/vmm is, so the
 * file lives exactly as long as the VM can. A guest whose monitor runs now (started by an agent
 * from before the owner file) is the agent's too. Anything else is foreign.
 */
export function vmOwned(paths: HostPaths, name: string): boolean {
  return existsSync(paths.guestOwnerFile(name)) || monitorPid(monitorPaths(paths, name)) !== null;
}

/** What is really there for a guest. */
export function readGuest(paths: HostPaths, name: string): GuestRuntime {
  const mp = monitorPaths(paths, name);
  const vmExists = existsSync(join(paths.devVmm, name));
  // The monitor's pid is read once: it answers both "is the VM ours" (see vmOwned) and the state.
  const mon = monitorPid(mp);
  const vmForeign = vmExists && !existsSync(paths.guestOwnerFile(name)) && mon === null;
  // Missing: no monitor ever had a spec for it (the directory may hold only what the agent keeps, its UUID).
  const specless = !existsSync(mp.specDir) || readdirSync(mp.specDir).every((f) => f.startsWith(".") || GUEST_KEPT_FILES.has(f));
  if (specless && !existsSync(mp.runDir)) {
    return { name, state: "missing", reason: "", monitor_pid: null, pid: null, restarts: 0, last_exit: null, argv: null, vm_exists: vmExists, vm_foreign: vmForeign };
  }
  const statusText = readIfPresent(join(mp.runDir, "status"));
  const s = statusText === null ? {} : parseMonitorStatus(statusText);
  const bhyve = Number(s.bhyve_pid ?? 0);
  let state = (s.state ?? "stopped") as GuestRuntime["state"];
  let reason = s.reason ?? "";
  if (mon === null && !["stopped", "crashed"].includes(state)) {
    // The monitor died without finishing (killed): whatever the file says, nothing supervises the guest.
    state = "stopped";
    reason = "monitor-died";
  }
  const lastCode = s.last_exit_code ? Number(s.last_exit_code) : null;
  const lastSignal = s.last_exit_signal || null;
  return {
    name,
    state,
    reason,
    monitor_pid: mon,
    pid: bhyve > 0 && processAlive(bhyve) ? bhyve : null,
    restarts: Number(s.restarts ?? 0),
    last_exit: s.last_exit_at ? { code: lastCode, signal: lastSignal, at: s.last_exit_at } : null,
    argv: hostArgv(paths, readArgv(join(mp.runDir, "bhyve.argv"))),
    vm_exists: vmExists,
    vm_foreign: vmForeign,
  };
}

/** The monitor's event history of a guest. */
export function readGuestEvents(paths: HostPaths, name: string): MonitorEvent[] {
  const text = readIfPresent(join(monitorPaths(paths, name).runDir, "events"));
  return text === null ? [] : parseMonitorEvents(text);
}

/** Names of the guests that have monitor files on this host. */
export function listGuestNames(paths: HostPaths): string[] {
  const dir = join(paths.dbDir, "guests");
  // Only entries that are guest names: anything else in the directory is not the agent's to touch.
  return existsSync(dir) ? readdirSync(dir).filter((n) => GUEST_NAME.test(n)).sort() : [];
}

/** The spec files the monitor would get now; compare with {@link specOnDisk} to see a change. */
export function specFor(paths: HostPaths, guest: Guest, desired: DesiredState = readAgentState(paths).desired): Record<string, Buffer> {
  // The UUID is made here too when a guest from before UUIDs is started outside a converge (autostart).
  // What the guest's bhyve runs with now (its identity when the kept files were lost meanwhile),
  // read only when a kept file is missing.
  const mp = monitorPaths(paths, guest.name);
  let runningArgv: string[] | null | undefined;
  const running = (): string[] | null => (runningArgv ??= monitorPid(mp) !== null ? readArgv(join(mp.runDir, "bhyve.argv")) : null);
  const fb = guest.framebuffer ? ensureVncPort(paths, guest, desired, listGuestNames(paths), running, readAgentConfig(paths).policy.framebufferPorts) : undefined;
  const g = { ...recordedGuest(paths, guest), uuid: ensureUuid(paths, guest, running), ...(fb ? { framebuffer: fb } : {}) };
  return renderMonitorSpec(g, mp, policyFor(paths, guest), { prestart: netUpArgv(paths, guest.name), plans: tapPlans(paths, g, desired) });
}

/**
 * Spec files compare byte for byte, except monitor.conf's `owner_file` and `log_file` lines: they
 * follow from the guest's name alone and say where the monitor keeps its files, not how the guest
 * runs, so a spec written by an agent from before the guest directories must not restart a running
 * guest at the first converge after an upgrade (its running monitor counts as the owner; the next
 * start writes the whole spec anew).
 */
function sameSpecFile(file: string, onDisk: Buffer, wanted: Buffer): boolean {
  if (onDisk.equals(wanted)) return true;
  if (file !== "monitor.conf") return false;
  const strip = (b: Buffer): string => b.toString("utf8").split("\n").filter((l) => !l.startsWith("owner_file=") && !l.startsWith("log_file=")).join("\n");
  return strip(onDisk) === strip(wanted);
}

/** Files the agent keeps in a guest's directory beside its monitor spec (its identity): not part of the spec. */
export const GUEST_KEPT_FILES: ReadonlySet<string> = new Set(["uuid", "uefi-vars.fd", "vnc-port", "seed.iso", "seed.iid", "managed-disks.json"]);

/** True when the spec on disk is `files` (see {@link sameSpecFile}). */
export function specOnDisk(paths: HostPaths, name: string, files: Record<string, Buffer>): boolean {
  const dir = paths.guestSpecDir(name);
  if (!existsSync(dir)) return false;
  const present = readdirSync(dir).filter((f) => !f.startsWith(".") && !GUEST_KEPT_FILES.has(f));
  if (present.length !== Object.keys(files).length) return false;
  return Object.entries(files).every(([f, data]) => existsSync(join(dir, f)) && sameSpecFile(f, readFileSync(join(dir, f)), data));
}

/** The monitor executable; E_NO_MONITOR when it is not built. */
export function requireMonitor(): string {
  const exe = monitorExecutable();
  if (!exe) throw new AgentError("bhyve-monitor is not built (native/build/Release/bhyve-monitor is missing; npm install builds it)", "E_NO_MONITOR");
  return exe;
}

/** Runs bhyve-monitor with `args` (its options, then the spec directory) until it has detached or failed. */
function runMonitor(exe: string, args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(exe, args, { encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      resolve({ status: code, stderr });
    });
  });
}

/** Writes the guest's spec and starts its monitor (which detaches); no-op when a monitor runs. */
export async function startGuest(paths: HostPaths, guest: Guest): Promise<void> {
  const exe = requireMonitor();
  const mp = monitorPaths(paths, guest.name);
  if (monitorPid(mp) !== null) return;
  // The guest's UEFI variables: copied from the firmware's template at its first start, then kept.
  ensureUefiVars(paths, guest);
  const files = specFor(paths, guest);
  writeMonitorSpec(mp, files);
  // The taps made ready here, as the monitor's prestart (bhyve-agent net-up) would before the first
  // start: a node process less per guest started. The monitor runs prestart at every later start.
  // When it cannot be done here, the monitor's prestart tries, and its failure is reported as before.
  const netReady = files["net.json"] !== undefined && (await tapsReady(paths, files["net.json"]));
  let r = await runMonitor(exe, [...(netReady ? ["-n"] : []), mp.specDir]);
  // A monitor from before -n (an agent upgraded without its native part) refuses it: start it as before.
  if (netReady && r.status === 64) r = await runMonitor(exe, [mp.specDir]);
  interfacesMayHaveChanged();
  if (r.status === 75) return; // another agent started it a moment ago
  if (r.status === MONITOR_FOREIGN_VM) throw new AgentError(r.stderr.trim().replace(/^bhyve-monitor: /, "") || `a VM named ${guest.name} exists that the agent did not create; not touching it`, "E_FOREIGN_VM");
  if (r.status !== 0) throw new AgentError(`could not start the monitor of guest ${guest.name}: ${r.stderr.trim() || `exit ${r.status}`}`, "E_MONITOR_START");
}

/**
 * Writes the guest's spec and starts its monitor on a bhyve that already runs (`bhyve-monitor -a
 * PID`): the monitor marks the VM as the agent's and supervises that process as its own, without a
 * restart. The caller has checked that `pid` is the VM's bhyve and that it runs what the spec says.
 */
export async function adoptRunningVm(paths: HostPaths, name: string, files: Record<string, Buffer>, pid: number): Promise<void> {
  const exe = requireMonitor();
  const mp = monitorPaths(paths, name);
  writeMonitorSpec(mp, files);
  const r = await runMonitor(exe, ["-a", String(pid), mp.specDir]);
  interfacesMayHaveChanged();
  const said = r.stderr.trim().replace(/^bhyve-monitor: /, "");
  if (r.status === 0) return;
  // A monitor that failed without undoing its claim (killed at the deadline, say) leaves an owner
  // file naming this bhyve while no monitor runs: the VM would read as the agent's and its next
  // start would destroy it as a stale VM under its starter. Nothing took it over: the mark goes.
  if (monitorPid(mp) === null && (readIfPresent(paths.guestOwnerFile(name)) ?? "").split("\n").includes(`adopted_pid=${pid}`)) {
    rmSync(paths.guestOwnerFile(name), { force: true });
  }
  if (r.status === 66) throw new AgentError(`VM ${name} could not be adopted: ${said || `its bhyve (pid ${pid}) or its VM is gone`}`, "E_ADOPT_GONE");
  if (r.status === 75) throw new AgentError(`VM ${name} is already monitored: ${said}`, "E_MONITOR_START");
  throw new AgentError(`could not start the monitor of guest ${name} on its running bhyve (pid ${pid}): ${said || `exit ${r.status}`}`, "E_MONITOR_START");
}

/**
 * Makes the taps of a spec's net.json ready (see tapsUp), read afresh; false when that cannot be
 * done, whatever the reason: the monitor's prestart then tries, and its failure is the guest's own.
 */
async function tapsReady(paths: HostPaths, netJson: Buffer): Promise<boolean> {
  interfacesMayHaveChanged();
  try {
    const plans: unknown = JSON.parse(netJson.toString("utf8"));
    if (!isTapPlanList(plans)) return false;
    await tapsUp(paths, plans);
    return true;
  } catch {
    return false;
  }
}

/** The monitor's exit status when the guest's VM exists and is not the agent's (EX_CONFIG). */
export const MONITOR_FOREIGN_VM = 78;

/** How long a stop may take: the guest's power-off time, force-poweroff, and the helpers. */
export function stopDeadlineMs(policy: Omit<MonitorPolicy, "restart">): number {
  return policy.stopTimeoutMs + policy.killTimeoutMs + 2 * policy.helperTimeoutMs + 5_000;
}

/** Stops the guest's monitor (graceful, then forced, then the VM is destroyed) and waits for it. */
export async function stopGuest(paths: HostPaths, name: string, deadlineMs = stopDeadlineMs(readAgentConfig(paths).monitor)): Promise<void> {
  const mp = monitorPaths(paths, name);
  const pid = monitorPid(mp);
  // The guest's bhyve lets go of its taps: the converge's next reading of them is taken afresh.
  interfacesMayHaveChanged();
  if (pid === null) {
    await reapOrphan(paths, name);
    return;
  }
  process.kill(pid, "SIGTERM");
  const until = Date.now() + deadlineMs;
  // The monitor removes its pid file as its last act; after that it may linger as a zombie until
  // init reaps it, which does not matter here.
  while (monitorPid(mp) === pid) {
    if (Date.now() > until) throw new AgentError(`guest ${name}'s monitor (pid ${pid}) did not stop within ${deadlineMs} ms`, "E_STOP_TIMEOUT");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A guest whose monitor was killed may leave its bhyve running and its VM in the kernel: power it
 * off the way the monitor would have, then destroy the VM. Only the agent's own VM: a foreign VM
 * of the same name, and a pid from the status file whose VM is gone (the pid may be another
 * process's by now), are left alone.
 */
async function reapOrphan(paths: HostPaths, name: string): Promise<void> {
  const g = readGuest(paths, name);
  if (!g.vm_exists || g.vm_foreign) return;
  if (g.pid !== null) {
    process.kill(g.pid, "SIGTERM");
    const until = Date.now() + readAgentConfig(paths).monitor.stopTimeoutMs;
    while (processAlive(g.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (processAlive(g.pid)) await runTool(paths.tool("bhyvectl"), ["--force-poweroff", `--vm=${name}`]);
  }
  if (existsSync(join(paths.devVmm, name))) await runTool(paths.tool("bhyvectl"), ["--destroy", `--vm=${name}`]);
}

/**
 * Stops the guest, destroys its VM (only the agent's own) and removes the guest's directories.
 * A VM of the agent's that cannot be destroyed keeps its files (its owner file above all), so that
 * the next run still knows it as the agent's.
 */
export async function deleteGuest(paths: HostPaths, name: string): Promise<void> {
  await stopGuest(paths, name);
  const foreign = readGuest(paths, name).vm_foreign;
  if (!foreign && existsSync(join(paths.devVmm, name))) {
    const r = await runTool(paths.tool("bhyvectl"), ["--destroy", `--vm=${name}`]);
    if (existsSync(join(paths.devVmm, name))) throw new AgentError(`guest ${name}'s VM could not be destroyed: ${r.stderr.trim() || `bhyvectl exit ${r.status}`}`, "E_DESTROY");
  }
  // The spec directory goes last: it is what lists the guest as the agent's (listGuestNames), so an
  // agent killed half way leaves a guest that the next run deletes again, never stray run files.
  // Its taps go with it (only those described as its own); then its files.
  await releaseGuestTaps(paths, name);
  rmSync(paths.guestRunDir(name), { recursive: true, force: true });
  rmSync(paths.guestLogDir(name), { recursive: true, force: true });
  rmSync(paths.guestSpecDir(name), { recursive: true, force: true });
}
