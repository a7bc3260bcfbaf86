/**
 * Converging a host to a desired state, in the order that keeps the host safe: check everything
 * first (the document, against the host's facts), then loader.conf, then guests that must stop
 * (they may hold devices), then devices released, then devices bound live, then guests started in
 * start order. Each step reports what it changed; what waits on a reboot is `pending`, what cannot
 * be done is `refused`, with the reason. The caller holds the host lock.
 */
import { formatBsf, formatSelector, type PciAddress } from "../model/pci-address.js";
import { passthruDevicesOf, renderLoaderConf } from "../model/render.js";
import { checkState } from "../model/validate.js";
import type { DesiredState, Guest, RestartPolicy } from "../model/types.js";
import { runTool } from "../host/exec.js";
import { bootCpuRunning } from "../parse/bhyvectl.js";
import { readAgentConfig } from "../host/config.js";
import { gatherFacts, hostContext, type HostFacts } from "../host/facts.js";
import { hostFacts, hostFactsChanged } from "../host/snapshot.js";
import { currentManagedSettings, overridingLines, readLoaderConf, strayLines, writeManagedSettings } from "../host/loader-conf-store.js";
import { policyProblems } from "./policy-gate.js";
import type { HostPaths } from "../host/paths.js";
import { readAgentState, writeAgentState } from "../host/state.js";
import { destroyDisks, diskProblems, disksMayHaveChanged, ensureDisks, ensureSeed, readDisks, recordGuestDisks } from "../guests/disks.js";
import { deleteGuest, GUEST_FAILURES, hostArgv, listGuestNames, readIfPresent, monitorPaths, readGuest, readGuestEvents, specFor, specOnDisk, startGuest, stopGuest } from "../guests/lifecycle.js";
import { parseArgvFile, writeMonitorSpec } from "../guests/monitor-spec.js";
import type { MonitorEvent } from "../parse/monitor-files.js";
import { ensureUefiVars, uefiVarsPresent } from "../guests/identity.js";
import { convergeSwitches, withInterfaceReading, recordedGuest, releaseMajor, releaseStaleTaps, tapPlans, tapsUp, withAllocatedTaps } from "../guests/network.js";
import { AgentError, problemsError } from "../model/errors.js";
import { adoptGuest, checkAdoptions, type Adoption } from "../guests/adopt.js";

/** One thing done, waiting, or refused. */
export interface ChangeItem {
  readonly what: string;
  readonly detail: string;
}

/** What a converge did. */
export interface ConvergeResult {
  changed: ChangeItem[];
  /** Something in the desired state takes effect only after the host reboots. */
  reboot_required: boolean;
  /** Waiting on that reboot. */
  pending: ChangeItem[];
  /** Could not be done, with why; the rest was done. */
  refused: ChangeItem[];
  warnings: string[];
}

/** What one converge did so far that others must know of. */
interface ConvergeRun {
  /** It changed what the facts say (loader.conf, vmm.ko, a device's driver) and has not yet told the sessions' snapshots. */
  touched: boolean;
  /** Records the state and gives up the host lock: everything is done but watching the guests it started. */
  beforeWatch: () => void;
}

/** Options of a converge. */
export interface ConvergeOptions {
  /** How long a freshly started guest is watched for an early bhyve failure. Default: the agent config's monitor.start_watch_ms (1500 ms). */
  readonly settleMs?: number;
  /**
   * Gives up the host lock the converge runs under (service.ts passes it): called once every
   * change is made and recorded, before the new guests are watched, so that the next change on
   * the host need not wait for the watch.
   */
  readonly releaseLock?: () => void;
}

const deviceOf = (bsf: string): PciAddress => {
  const [bus, slot, fn] = bsf.split("/").map(Number) as [number, number, number];
  return { bus, slot, function: fn };
};

const gib = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;

/** Guests that this host could never run, whatever else happens: more vCPUs than vmm allows, more memory than the host has. */
export function hostLimitProblems(desired: DesiredState, facts: HostFacts): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const major = releaseMajor(facts.os.release);
  desired.guests.forEach((g, i) => {
    const max = facts.cpu.max_vcpus;
    if (max !== null && g.cpus > max) {
      out.push({ path: `guests[${i}].cpus`, message: `${g.cpus} vCPUs is more than this host allows one guest: ${max} (${facts.vmm.loaded ? "hw.vmm.maxcpu" : "hw.ncpu, the default of hw.vmm.maxcpu"}); bhyve would fail in vm_set_topology` });
    }
    // bootindex: bhyve reads it from 14.0 on; before, it is taken as an unknown option and ignored.
    if (major !== null && major < 14) {
      const uses = [...g.disks.map((d, k) => [`disks[${k}]`, d.bootindex] as const), ...g.passthru.map((p, k) => [`passthru[${k}]`, p.bootindex] as const)];
      for (const [where, n] of uses) {
        if (n !== undefined) out.push({ path: `guests[${i}].${where}.bootindex`, message: `a boot order needs FreeBSD 14.0 or later (bhyve before it ignores bootindex); this host runs ${facts.os.release}` });
      }
    }
    const ncpu = facts.cpu.ncpu;
    g.cpuPinning.forEach((p, k) => {
      if (ncpu !== null && p.hostCpu >= ncpu) {
        out.push({ path: `guests[${i}].cpu_pinning[${k}].host_cpu`, message: `host CPU ${p.hostCpu} does not exist: this host has ${ncpu} (0-${ncpu - 1}, hw.ncpu); bhyve would abort when it pins vCPU ${p.vcpu}` });
      }
    });
    const phys = facts.memory.physical;
    if (phys !== null && g.memory > phys) {
      out.push({ path: `guests[${i}].memory`, message: `${gib(g.memory)} is more than this host's physical memory, ${gib(phys)} (hw.physmem)` });
    }
  });
  return out;
}

/** Reasons the host needs a reboot for the desired state, from facts alone (no change made). */
export function rebootReasons(desired: DesiredState, facts: HostFacts): ChangeItem[] {
  const out: ChangeItem[] = [];
  for (const r of desired.ppt) {
    const hw = facts.pci.find((p) => p.device === formatBsf(r.device));
    if (hw && hw.driver !== "ppt" && r.bind === "boot") {
      out.push({ what: `ppt ${formatBsf(r.device)}`, detail: `bound to ppt at the next boot (loader.conf pptdevs); now ${hw.driver ? `${hw.driver}${hw.unit}` : "unattached"}` });
    }
  }
  const amdviWanted = desired.host.amdviEnable === true || (desired.host.amdviEnable === "auto" && facts.cpu.vendor === "amd");
  if (amdviWanted && facts.iommu.kind === "amd-vi" && facts.vmm.loaded && !facts.iommu.enabled) {
    out.push({ what: "host amdvi_enable", detail: "hw.vmm.amdvi.enable=1 is in loader.conf; AMD-Vi turns on at the next boot" });
  }
  return out;
}

/** Why the host cannot run `guest` now: a reason for `pending` (a reboot fixes it) or `refused`. */
function blockers(guest: Guest, desired: DesiredState, facts: HostFacts, pendingReboot: ChangeItem[]): { pending: string[]; refused: string[] } {
  const pending: string[] = [];
  const refused: string[] = [];
  const problem = (code: string): string | undefined => facts.problems.find((p) => p.code === code)?.message;
  if (desired.host.requireNestedPaging && !facts.nested_paging.ok) {
    refused.push(problem("E_NO_NESTED_PAGING") ?? problem("E_VMX_DISABLED") ?? problem("E_SVM_DISABLED") ?? problem("E_UNSUPPORTED_CPU") ?? "the host has no usable nested paging");
  }
  if (guest.bootrom && facts.nested_paging.unrestricted_guest === false) {
    refused.push("a UEFI bootrom needs VT-x unrestricted guest, which this CPU lacks (bhyve: ROM boot failed)");
  }
  if (guest.passthru.length > 0) {
    if (!facts.iommu.kind || facts.problems.some((p) => p.code === "E_IOMMU_DISABLED")) {
      if (desired.host.requireIommu) refused.push(`passthrough needs an IOMMU: ${problem("E_NO_IOMMU") ?? problem("E_IOMMU_DISABLED")}`);
    } else if (!facts.iommu.enabled) {
      const amdvi = pendingReboot.find((p) => p.what === "host amdvi_enable");
      if (amdvi) pending.push(`passthrough waits for AMD-Vi: ${amdvi.detail}`);
      else refused.push(`passthrough needs the IOMMU enabled: ${problem("E_AMDVI_DISABLED") ?? "it is not"}`);
    }
    for (const p of guest.passthru) {
      const hw = facts.pci.find((f) => f.device === formatBsf(p.device));
      if (hw?.driver === "ppt") continue;
      const waiting = pendingReboot.find((x) => x.what === `ppt ${formatBsf(p.device)}`);
      if (waiting) pending.push(`${formatBsf(p.device)} is ${waiting.detail}`);
      else refused.push(`${formatBsf(p.device)} is not bound to ppt (${hw ? (hw.driver ? `${hw.driver}${hw.unit}` : "unattached") : "absent"})`);
    }
  }
  return { pending, refused };
}

/**
 * A guest event that ends a run in failure: bhyve exited, or bhyveload failed before it. Exit 0 is
 * the guest rebooting (bhyve(8)): not a failure when the monitor starts it again (any restart
 * policy but `never`), only when it leaves the guest stopped.
 */
const failed = (e: MonitorEvent, restart: RestartPolicy): boolean =>
  (e.event === "exit" && !(e.fields.code === "0" && restart !== "never")) || ((e.event === "bhyveload" || e.event === "prestart") && e.fields.code !== "0");

/** How long a converge waits for a new guest's monitor to start bhyve before its watch window opens. */
const START_WAIT_MS = 30_000;

/**
 * How long a guest is still watched once its boot vCPU runs (bhyve is then in its event loop): a
 * first guest entry that fails (vm_run) ends bhyve at once.
 */
const READY_GRACE_MS = 150;

/** How often the watch asks whether the guest's boot vCPU runs. */
const READY_POLL_MS = 40;

const isBhyveStart = (e: MonitorEvent): boolean => e.event === "start" && e.fields.pid !== undefined;

/** How many times the monitor started bhyve in `events`. */
const bhyveStarts = (events: readonly MonitorEvent[]): number => events.filter(isBhyveStart).length;

/** Whether the bhyve of the latest start in `events` has not exited. */
const latestRuns = (events: readonly MonitorEvent[]): boolean => {
  const at = events.findLastIndex(isBhyveStart);
  return at >= 0 && !events.slice(at + 1).some((e) => e.event === "exit");
};

/** Whether the VM `name` has its boot vCPU running: its bhyve is through its start (agent/parse/bhyvectl.ts). */
async function bootCpuRuns(paths: HostPaths, name: string): Promise<boolean> {
  const r = await runTool(paths.tool("bhyvectl"), [`--vm=${name}`, "--get-active-cpus", "--get-debug-cpus"]);
  return r.status === 0 && bootCpuRunning(r.stdout);
}

/**
 * Watches a just-started guest after its bhyve started: resolves with bhyve's (or bhyveload's)
 * failure and its last log lines, or null when it still runs once bhyve is through its start (its
 * boot vCPU running, and READY_GRACE_MS more), or `settleMs` after it started at the latest (a
 * framebuffer with `wait` holds the vCPUs until a viewer connects). Only the bhyve of the latest
 * start counts: one that exited (a reboot) leaves its VM's vCPUs behind until the monitor starts the
 * next. Events before the first `skip` belong to earlier runs.
 */
async function earlyFailure(paths: HostPaths, name: string, restart: RestartPolicy, skip: number, settleMs: number): Promise<string | null> {
  // The window opens when the monitor has started bhyve (its "start" event), not when the monitor
  // was spawned: on a busy host, getting there (bhyveload included) must not eat the window. A
  // monitor that never gets there within START_WAIT_MS is left to its own restart policy.
  const startBy = Date.now() + Math.max(settleMs, START_WAIT_MS);
  /** When the window ends (settleMs after bhyve first started), and when the grace after the boot vCPU was seen running ends. */
  let windowEnd: number | null = null;
  let graceEnd = Infinity;
  let nextPoll = 0;
  /** The number of bhyve starts seen when the boot vCPU was seen running (null: not yet). */
  let readyAtStarts: number | null = null;
  for (;;) {
    const all = readGuestEvents(paths, name);
    // Another change (the lock is not held while watching) deleted the guest, or stopped it on purpose.
    if (all.length < skip) return null;
    const events = all.slice(skip);
    const exitAt = events.findIndex((e) => failed(e, restart));
    const stoppedAt = events.findIndex((e) => e.event === "stop");
    if (stoppedAt >= 0 && (exitAt < 0 || stoppedAt < exitAt)) return null;
    const exit = events[exitAt];
    if (exit) {
      const log = readIfPresent(paths.guestLog(name)) ?? "";
      const said = log.split("\n").filter((l) => l.trim() !== "" && !l.includes(" bhyve-monitor: ")).slice(-3).join(" / ");
      const how = exit.fields.signal ? `was killed by ${exit.fields.signal}` : exit.fields.code === "0" ? "exited 0 (the guest rebooted, and its restart policy never leaves it stopped)" : `exited ${exit.fields.code}`;
      const who = exit.event === "bhyveload" ? "bhyveload" : exit.event === "prestart" ? "the network set-up before bhyve (bhyve-agent net-up)" : "bhyve";
      return `${who} ${how}${said ? `: ${said}` : ""}`;
    }
    const starts = bhyveStarts(events);
    if (windowEnd === null && starts > 0) windowEnd = Date.now() + settleMs;
    // A later start (the guest rebooted): what was seen running was the bhyve before it.
    if (readyAtStarts !== null && readyAtStarts !== starts) {
      readyAtStarts = null;
      graceEnd = Infinity;
    }
    if (windowEnd !== null ? Date.now() >= Math.min(windowEnd, graceEnd) : Date.now() >= startBy || events.some((e) => e.event === "monitor-exit")) return null;
    if (windowEnd !== null && readyAtStarts === null && latestRuns(events) && Date.now() >= nextPoll) {
      nextPoll = Date.now() + READY_POLL_MS;
      if (await bootCpuRuns(paths, name)) {
        // Checked again: the bhyve that was asked about must still be the latest one, and running.
        const again = readGuestEvents(paths, name).slice(skip);
        if (bhyveStarts(again) === starts && latestRuns(again)) {
          readyAtStarts = starts;
          // The grace ends the window; the loop still sees an exit that comes before it.
          graceEnd = Date.now() + READY_GRACE_MS;
        }
        continue;
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The argv in a spec's bhyve.argv file. */
function specArgv(files: Record<string, Buffer>): string[] {
  return parseArgvFile(files["bhyve.argv"]!.toString("utf8"));
}

/**
 * The managed block's settings for a desired state: none at all when the agent manages nothing on
 * the host (so that a host given back is left as it was), else vmm_load, pptdevs*, amdvi.
 */
export function managedSettingsFor(desired: DesiredState, hostManaged: boolean, cpuVendor: HostFacts["cpu"]["vendor"]): Array<[string, string]> {
  if (!hostManaged && desired.ppt.length === 0 && desired.guests.length === 0) return [];
  return renderLoaderConf(desired, { cpuVendor });
}

/** Converges the host under `paths` to `desired`. Throws SpecError (nothing changed) when the document does not fit the host. */
export async function converge(paths: HostPaths, desired: DesiredState, opts: ConvergeOptions = {}, hostManaged?: boolean): Promise<ConvergeResult> {
  const result: ConvergeResult = { changed: [], reboot_required: false, pending: [], refused: [], warnings: [] };
  const stored = readAgentState(paths);
  const facts = await hostFacts(paths);

  // 1. The whole document against this host: device ids, bridges, wired memory. Nothing changes on failure.
  const check = checkState(desired, hostContext(facts));
  if (!check.ok) throw problemsError(check.problems);
  const overLimits = hostLimitProblems(desired, facts);
  if (overLimits.length) throw problemsError(overLimits);
  // 2. The host's policy: paths, interfaces, devices (the ones the host depends on above all), limits.
  const refusedByPolicy = await policyProblems(paths, desired, facts);
  if (refusedByPolicy.length) throw problemsError(refusedByPolicy, { code: "E_POLICY" });
  // 3. Only the agent's own VMs: a desired guest whose name a foreign VM holds is refused whole,
  // unless it says adopt and the VM runs exactly what the guest renders to (taken over below).
  const adoption = await checkAdoptions(paths, desired, facts.os.release);
  if (adoption.problems.length) throw problemsError(adoption.problems.map(({ path, message }) => ({ path, message })), { code: adoption.problems[0]!.code });
  const adopting = new Set(adoption.adoptions.map((a) => a.guest.name));
  const foreign = desired.guests.flatMap((g, i) => (!adopting.has(g.name) && readGuest(paths, g.name).vm_foreign ? [{
    path: `guests[${i}].name`,
    message: `a VM named ${g.name} already runs on this host and the agent did not create it (started by hand or by another tool); the agent never stops, destroys or reinitialises it. Rename the guest, stop and destroy that VM yourself (bhyvectl --destroy --vm=${g.name}) if it is not needed, or set adopt on the guest to take it over as it runs (cdktf-bhyve adopt writes such guests)`,
  }] : []));
  if (foreign.length) throw problemsError(foreign, { code: "E_FOREIGN_VM" });
  // 4. Disks the agent makes: none that exists and is not its own for the guest, none to shrink.
  // A guest whose disks this document asks anew is refused whole, before anything changes; one
  // whose disks were accepted before and changed on the host since (grown, marked or replaced
  // behind the agent's back) is not started, and the rest of the host converges.
  const disks = await readDisks(paths, desired.guests);
  const diskIssues = diskProblems(paths, desired, disks.views, disks.datasets);
  const asked = (name: string): boolean => {
    const before = stored.desired.guests.find((g) => g.name === name);
    const now = desired.guests.find((g) => g.name === name);
    return !before || JSON.stringify(before.disks) !== JSON.stringify(now?.disks);
  };
  const refusedDisks = diskIssues.filter((p) => asked(p.guest));
  if (refusedDisks.length) throw problemsError(refusedDisks.map(({ path, message }) => ({ path, message })), { code: refusedDisks[0]!.code });
  const diskRefusals = diskIssues.map((p) => ({ guest: p.guest, detail: `${p.code}: ${p.path}: ${p.message}` }));
  const hostDrivers: Record<string, string> = { ...stored.hostDrivers };
  for (const p of facts.pci) if (p.driver && p.driver !== "ppt") hostDrivers[p.device] = p.driver;
  // Devices to give back: those the last desired state reserved and this one does not, and those
  // an earlier run could not give back yet.
  const releasing = new Set([...stored.releasing, ...stored.desired.ppt.map((p) => formatBsf(p.device))]);
  for (const p of desired.ppt) releasing.delete(formatBsf(p.device));
  const managed = hostManaged ?? stored.hostManaged;
  // Recorded before the first change as well: an agent killed half way (SIGKILL, power loss) must
  // leave a state from which the next run finds what it may have changed, e.g. a device it bound.
  const save = (): void => writeAgentState(paths, { desired, hostDrivers, releasing: [...releasing].sort(), hostManaged: managed });
  save();
  // Each guest's managed disks recorded beside it with the state that names them, before any step:
  // what a later delete destroys is what this accepted document says.
  for (const g of desired.guests) recordGuestDisks(paths, g);
  let recorded = false;
  const record = (): void => {
    if (recorded) return;
    recorded = true;
    save();
    // A step that changed the host's facts and failed before it said so: no session may go on with the old ones.
    if (run.touched) hostFactsChanged(paths);
    run.touched = false;
  };
  const run: ConvergeRun = {
    touched: false,
    beforeWatch: () => {
      record();
      // Watching the started guests needs no lock: other changes may go ahead meanwhile.
      opts.releaseLock?.();
    },
  };
  try {
    await withInterfaceReading(paths, () => convergeChecked(paths, desired, stored.desired, managed, releasing, hostDrivers, facts, result, opts, run, diskRefusals, adoption.adoptions));
  } finally {
    // What was asked is recorded even when a step failed half way: the next run converges from it.
    record();
  }
  return result;
}

/** What the steps of one converge share: the host, what is wanted, what is known of it now, and what was done. */
interface ConvergeContext {
  readonly paths: HostPaths;
  readonly desired: DesiredState;
  /** The desired state before this converge: what a deleted guest was (its disks' on_delete). */
  readonly previous: DesiredState;
  readonly hostManaged: boolean;
  /** Devices to give back to their host driver; a step removes those it gave back. */
  readonly releasing: Set<string>;
  readonly hostDrivers: Record<string, string>;
  /** The host's facts as they are now: a step that changes them gathers them again. */
  facts: HostFacts;
  readonly result: ConvergeResult;
  readonly opts: ConvergeOptions;
  readonly run: ConvergeRun;
  /** loader.conf's managed settings for the desired state (set by the loader.conf step). */
  settings: Array<[string, string]>;
  /** The desired guests in start order. */
  readonly byStartOrder: Guest[];
  /** Guests whose disks or seed could not be made: not started. */
  readonly unready: Set<string>;
  /** Disk problems of guests accepted before, found on the host now: those guests are not started. */
  readonly diskRefusals: ReadonlyArray<{ guest: string; detail: string }>;
  /** Foreign VMs to take over as they run (checked before any change). */
  readonly adoptions: readonly Adoption[];
}

/** The steps of a converge, in order; each reads and updates the context. */
const STEPS: ReadonlyArray<(c: ConvergeContext) => Promise<void>> = [adoptForeignVms, writeLoaderConf, loadVmm, allocateTaps, stopGuestsFirst, switches, releaseDevices, bindLiveDevices, prepareDisks, startGuests];

async function convergeChecked(
  paths: HostPaths,
  desired: DesiredState,
  previous: DesiredState,
  hostManaged: boolean,
  releasing: Set<string>,
  hostDrivers: Record<string, string>,
  initialFacts: HostFacts,
  result: ConvergeResult,
  opts: ConvergeOptions,
  run: ConvergeRun,
  diskRefusals: ReadonlyArray<{ guest: string; detail: string }>,
  adoptions: readonly Adoption[],
): Promise<void> {
  const byStartOrder = [...desired.guests].sort((a, b) => a.startOrder - b.startOrder || a.name.localeCompare(b.name));
  const c: ConvergeContext = { paths, desired, previous, hostManaged, releasing, hostDrivers, facts: initialFacts, result, opts, run, settings: [], byStartOrder, unready: new Set(), diskRefusals, adoptions };
  for (const step of STEPS) await step(c);
}

/**
 * 1. Foreign VMs the document adopts, taken over as they run (checked in step 3 of converge): the
 * guest's monitor supervises the running bhyve from now on. One that cannot be taken over after all
 * (its bhyve ended meanwhile) is refused and not started: its VM is still not the agent's.
 */
async function adoptForeignVms(c: ConvergeContext): Promise<void> {
  for (const a of c.adoptions) {
    try {
      c.result.changed.push({ what: `guest ${a.guest.name}`, detail: await adoptGuest(c.paths, a, c.desired, c.facts.os.release) });
      for (const n of a.vm.notes) c.result.warnings.push(`guest ${a.guest.name}: ${n}`);
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      c.result.refused.push({ what: `guest ${a.guest.name}`, detail: `${err.code}: ${err.message}` });
      c.unready.add(a.guest.name);
    }
  }
}

/** 2. loader.conf: the managed block written when it differs; hand edits inside it and lines overriding it reported. */
async function writeLoaderConf(c: ConvergeContext): Promise<void> {
  const snap = readLoaderConf(c.paths);
  c.settings = managedSettingsFor(c.desired, c.hostManaged, c.facts.cpu.vendor);
  const before = currentManagedSettings(snap);
  if (writeManagedSettings(c.paths, snap, c.settings)) {
    c.run.touched = true;
    const show = (s: Array<[string, string]>): string => s.map(([k, v]) => `${k}="${v}"`).join(" ");
    c.result.changed.push({ what: "loader.conf", detail: c.settings.length ? `managed block: ${show(c.settings)}${before.length ? ` (was ${show(before)})` : ""}` : `managed block removed (was ${show(before)})` });
  }
  const stray = strayLines(snap);
  if (stray.length) c.result.warnings.push(`loader.conf: lines edited by hand inside the managed block were replaced: ${stray.join(" | ")}`);
  const overriding = overridingLines(readLoaderConf(c.paths), c.settings.map(([k]) => k));
  if (overriding.length) {
    c.result.warnings.push(`loader.conf: lines after the managed block override it at boot (the loader keeps the last value): ${overriding.join(" | ")}; remove them`);
  }
}

/** vmm.ko: loaded now when wanted (bhyve and live binding need it); the loader loads it at boot. */
async function loadVmm(c: ConvergeContext): Promise<void> {
  if (c.settings.length > 0 && c.desired.host.vmmLoad && !c.facts.vmm.loaded && c.facts.nested_paging.ok) {
    const r = await runTool(c.paths.tool("kldload"), ["vmm"]);
    c.run.touched = true;
    if (r.status === 0) c.result.changed.push({ what: "vmm.ko", detail: "loaded (kldload vmm)" });
    else {
      // dmesg.boot's "(disabled in BIOS)" was a warning while vmm might still load; the failed load
      // says the firmware also locked VT-x off (vmx_init: VMX operation disabled by BIOS).
      const bios = c.facts.problems.some((p) => p.code === "W_VMX_DISABLED_IN_BIOS");
      const why = bios ? "; E_VMX_DISABLED: VT-x is disabled in the firmware (dmesg.boot: \"(disabled in BIOS)\") and locked, so vmm cannot turn it on; enable Intel Virtualization Technology in the BIOS setup" : "";
      c.result.refused.push({ what: "vmm.ko", detail: `kldload vmm failed: ${r.stderr.trim()}${why}` });
    }
    await refreshFacts(c);
  }
}

/**
 * The facts gathered again after a change to them (vmm.ko loaded, a device's driver changed), and
 * every session told: this one keeps the fresh facts, the others gather anew. Once per change, not
 * again at the next step.
 */
async function refreshFacts(c: ConvergeContext): Promise<void> {
  c.facts = await gatherFacts(c.paths);
  hostFactsChanged(c.paths, c.facts);
  c.run.touched = false;
}

/**
 * Each guest NIC on a switch gets its tap name (kept across runs and reboots) before any spec is
 * compared or written. (A guest's UUID is made by specFor, the first time its spec is rendered.)
 */
async function allocateTaps(c: ConvergeContext): Promise<void> {
  for (const g of c.desired.guests) await withAllocatedTaps(c.paths, g, c.desired);
}

/**
 * 3b. Switches (after the guests that go away have released their taps): bridges, uplinks and
 * VLANs made or healed, the ones no longer desired removed; the taps of running guests put back on
 * their bridges when something took them off.
 */
async function switches(c: ConvergeContext): Promise<void> {
  const net = await convergeSwitches(c.paths, c.desired, releaseMajor(c.facts.os.release));
  c.result.changed.push(...net.changed);
  c.result.refused.push(...net.refused);
  for (const g of c.byStartOrder) {
    const released = await releaseStaleTaps(c.paths, g);
    if (released.length) c.result.changed.push({ what: `guest ${g.name}`, detail: released.join("; ") });
    if (!g.nics.some((n) => n.switch !== undefined) || readGuest(c.paths, g.name).monitor_pid === null) continue;
    try {
      const done = await tapsUp(c.paths, tapPlans(c.paths, recordedGuest(c.paths, g), c.desired));
      if (done.length) c.result.changed.push({ what: `guest ${g.name}`, detail: done.join("; ") });
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      c.result.refused.push({ what: `guest ${g.name}`, detail: err.message });
    }
  }
}

/** 3. Guests that stop or go away first: they may hold devices about to be released. */
async function stopGuestsFirst(c: ConvergeContext): Promise<void> {
  const desiredNames = new Set(c.desired.guests.map((g) => g.name));
  for (const name of listGuestNames(c.paths).filter((n) => !desiredNames.has(n)).reverse()) {
    // Stopped first; its disks go (only those that say on_delete: destroy, and only what the agent
    // made for it) while its directory still records them; the directory last.
    await stopGuest(c.paths, name);
    const d = await destroyDisks(c.paths, name, c.previous.guests.find((g) => g.name === name), c.desired);
    if (d.changed.length) disksMayHaveChanged(c.paths);
    await deleteGuest(c.paths, name);
    c.result.changed.push({ what: `guest ${name}`, detail: "stopped and deleted (no longer in the desired state)" }, ...d.changed);
    c.result.refused.push(...d.refused);
  }
  for (const g of [...c.byStartOrder].reverse()) {
    const rt = readGuest(c.paths, g.name);
    const files = specFor(c.paths, g, c.desired);
    // The spec on disk, and the argv the monitor really launched, must both be what is desired now.
    const same = specOnDisk(c.paths, g.name, files) && JSON.stringify(rt.argv) === JSON.stringify(hostArgv(c.paths, specArgv(files)));
    if (rt.monitor_pid !== null && (g.state === "stopped" || !same)) {
      await stopGuest(c.paths, g.name);
      c.result.changed.push({ what: `guest ${g.name}`, detail: g.state === "stopped" ? "stopped" : "stopped to apply a changed configuration" });
    } else if (rt.monitor_pid !== null && rt.state === "stopping") {
      // An earlier change asked it to stop and was interrupted (killed): let it finish, then it starts again below.
      await stopGuest(c.paths, g.name);
    }
  }
}

/** 4. Devices released: back to their host driver, refused while a guest still uses them. */
async function releaseDevices(c: ConvergeContext): Promise<void> {
  for (const dev of [...c.releasing].sort()) {
    const address = deviceOf(dev);
    const hw = c.facts.pci.find((p) => p.device === dev);
    if (!hw || hw.driver !== "ppt") {
      c.releasing.delete(dev);
      continue;
    }
    const user = listGuestNames(c.paths).map((n) => readGuest(c.paths, n)).find((rt) => (rt.pid !== null || rt.vm_exists) && rt.argv !== null && passthruDevicesOf(rt.argv).includes(dev));
    if (user) {
      c.result.refused.push({ what: `ppt ${dev}`, detail: `cannot be released: guest ${user.name} uses it; stop the guest or remove the device from it first` });
      continue;
    }
    const host = c.hostDrivers[dev];
    const args = host ? ["set", "driver", "-f", formatSelector(address), host] : ["clear", "driver", "-f", formatSelector(address)];
    const d = await runTool(c.paths.tool("devctl"), args);
    c.run.touched = true;
    await refreshFacts(c);
    const now = c.facts.pci.find((p) => p.device === dev);
    if (d.status !== 0) {
      c.result.refused.push({ what: `ppt ${dev}`, detail: `cannot be released: devctl ${args.join(" ")} failed: ${d.stderr.trim()} (a VM that still exists holds its devices until it is destroyed)` });
    } else if (now?.driver !== "ppt") {
      c.releasing.delete(dev);
      c.result.changed.push({ what: `ppt ${dev}`, detail: `released to ${now?.driver ? `${now.driver}${now.unit}` : "no driver"}` });
    } else {
      c.result.pending.push({ what: `ppt ${dev}`, detail: "returns to its host driver at the next boot (the kernel environment still lists it in pptdevs)" });
      c.result.reboot_required = true;
    }
  }
}

/** 5. Devices bound live now (and in loader.conf for the next boot, done above); then what waits for a reboot. */
async function bindLiveDevices(c: ConvergeContext): Promise<void> {
  for (const r of c.desired.ppt) {
    const dev = formatBsf(r.device);
    const hw = c.facts.pci.find((p) => p.device === dev);
    if (!hw || hw.driver === "ppt" || r.bind !== "live") continue;
    if (!c.facts.vmm.loaded) {
      c.result.refused.push({ what: `ppt ${dev}`, detail: "cannot bind live: vmm.ko is not loaded (ppt is part of it)" });
      continue;
    }
    const d = await runTool(c.paths.tool("devctl"), ["set", "driver", "-f", formatSelector(r.device), "ppt"]);
    c.run.touched = true;
    if (d.status === 0) c.result.changed.push({ what: `ppt ${dev}`, detail: `bound to ppt now (was ${hw.driver ? `${hw.driver}${hw.unit}` : "unattached"}), and in loader.conf for the next boot` });
    else c.result.refused.push({ what: `ppt ${dev}`, detail: `devctl set driver -f ${formatSelector(r.device)} ppt failed: ${d.stderr.trim()}` });
  }
  if (c.run.touched) await refreshFacts(c);
  const reboot = rebootReasons(c.desired, c.facts);
  for (const item of reboot) if (!c.result.pending.some((p) => p.what === item.what)) c.result.pending.push(item);
  if (reboot.length) c.result.reboot_required = true;
}

/** 6. Disks and cloud-init seeds: made, grown and set right before any guest starts; a guest whose disk failed does not start. */
async function prepareDisks(c: ConvergeContext): Promise<void> {
  try {
    await makeDisks(c);
  } finally {
    // Reads after this converge read the disks again, where disks are or were managed (after the
    // changes, so that no session keeps a reading taken half way as the new one).
    if ([...c.desired.guests, ...c.previous.guests].some((g) => g.disks.some((d) => d.managed))) disksMayHaveChanged(c.paths);
  }
}

async function makeDisks(c: ConvergeContext): Promise<void> {
  for (const r of c.diskRefusals) {
    c.result.refused.push({ what: `guest ${r.guest}`, detail: r.detail });
    c.unready.add(r.guest);
  }
  const d = await ensureDisks(c.paths, c.desired.guests.filter((g) => !c.unready.has(g.name)));
  c.result.changed.push(...d.changed);
  for (const { guest, ...r } of d.refused) {
    c.result.refused.push(r);
    c.unready.add(guest);
  }
  for (const g of c.byStartOrder) {
    try {
      const seed = await ensureSeed(c.paths, g);
      if (seed) c.result.changed.push({ what: `guest ${g.name}`, detail: seed });
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      c.result.refused.push({ what: `guest ${g.name}`, detail: err.message });
      c.unready.add(g.name);
    }
  }
}

/** 7. Guests: specs written, running ones started in start order, then watched together for an early failure. */
async function startGuests(c: ConvergeContext): Promise<void> {
  const started: Array<{ g: Guest; before: number; was: string }> = [];
  for (const g of c.byStartOrder) {
    const files = specFor(c.paths, g, c.desired);
    const rt = readGuest(c.paths, g.name);
    if (g.state === "stopped") {
      if (!specOnDisk(c.paths, g.name, files)) {
        if (rt.vm_exists && rt.monitor_pid === null) await stopGuest(c.paths, g.name);
        writeMonitorSpec(monitorPaths(c.paths, g.name), files);
        c.result.changed.push({ what: `guest ${g.name}`, detail: "configuration written (guest stays stopped)" });
      }
      continue;
    }
    if (rt.monitor_pid !== null) {
      // A running guest's variables file removed behind the agent's back: made again from the
      // template now, so that its next start (a restart by its monitor included) finds one.
      if (uefiVarsPresent(c.paths, g) === false) {
        try {
          ensureUefiVars(c.paths, g);
          c.result.changed.push({ what: `guest ${g.name}`, detail: "its UEFI variables file was gone: made again from the template (the running guest keeps what it has until it restarts)" });
        } catch (err) {
          if (!(err instanceof AgentError)) throw err;
          c.result.refused.push({ what: `guest ${g.name}`, detail: err.message });
        }
      }
      continue;
    }
    if (c.unready.has(g.name)) {
      c.result.refused.push({ what: `guest ${g.name}`, detail: "not started: it is not ready (above: its disks, its cloud-init seed, or its takeover)" });
      continue;
    }
    const b = blockers(g, c.desired, c.facts, c.result.pending);
    if (b.refused.length) {
      c.result.refused.push({ what: `guest ${g.name}`, detail: `not started: ${b.refused.join("; ")}` });
      continue;
    }
    if (b.pending.length) {
      c.result.pending.push({ what: `guest ${g.name}`, detail: `starts after the next boot: ${b.pending.join("; ")}` });
      c.result.reboot_required = true;
      continue;
    }
    if (rt.pid !== null || rt.vm_exists) await stopGuest(c.paths, g.name);
    const before = readGuestEvents(c.paths, g.name).length;
    try {
      await startGuest(c.paths, g);
      started.push({ g, before, was: rt.state });
    } catch (err) {
      if (!(err instanceof AgentError && GUEST_FAILURES.has(err.code))) throw err;
      c.result.refused.push({ what: `guest ${g.name}`, detail: err.message });
    }
  }
  const settleMs = c.opts.settleMs ?? readAgentConfig(c.paths).monitor.startWatchMs;
  c.run.beforeWatch();
  const failures = await Promise.all(started.map((s) => earlyFailure(c.paths, s.g.name, s.g.restart, s.before, settleMs)));
  started.forEach(({ g, was }, i) => {
    const failure = failures[i];
    if (failure) c.result.refused.push({ what: `guest ${g.name}`, detail: failure });
    else c.result.changed.push({ what: `guest ${g.name}`, detail: was === "missing" ? "created and started" : was === "crashed" ? "started again after a crash loop" : "started" });
  });
}
