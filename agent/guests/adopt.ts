/**
 * VMs the agent did not create, read for adoption, and their takeover. bhyve replaces its process
 * arguments with the VM name, so a running VM's command line is known only where its starter wrote
 * it down: vm-bhyve logs it (vm-bhyve.log, ` [bhyve options: ...]` and the lines beside it) for each
 * start. A VM whose command line is known, that the model can express, whose bhyve runs and is
 * supervised by vm-bhyve's runner (or by nobody), can be adopted: the agent's monitor takes over the
 * running bhyve (bhyve-monitor -a PID) without restarting it, and vm-bhyve's runner, which would
 * otherwise restart or tear the VM down beside it, is stopped. Everything else is reported, never
 * touched.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync, type Stats } from "node:fs";
import { join } from "node:path";
import { acpiAlwaysOn, machineDifferences, parseBhyveArgv, redactArgv } from "../model/bhyve-argv.js";
import { proposeGuest, renderingDifferences } from "../model/adopt.js";
import { DEFAULT_HOST_SETTINGS, GUEST_NAME } from "../model/decode.js";
import { AgentError } from "../model/errors.js";
import { formatBsf, parsePciAddress } from "../model/pci-address.js";
import { framebufferOf, PPTDEVS_VARIABLES } from "../model/render.js";
import type { Guest } from "../model/types.js";
import { parseLoaderConf } from "../parse/loader-conf.js";
import { bhyveOf, bhyvesOf, isVmBhyveRunner, latestVmBhyveRun, parsePsTable, parseVmBhyveConf, PS_TABLE_ARGS, rcConfValue, rcYes, vmBhyveStampTime, type PsProcess } from "../parse/vm-bhyve.js";
import { checkGuestAlone } from "../model/validate.js";
import { POLICY_FILE } from "../model/policy.js";
import { policyProblems } from "../engine/policy-gate.js";
import type { HostFacts } from "../host/facts.js";
import { runTool } from "../host/exec.js";
import type { HostPaths } from "../host/paths.js";
import { hostFacts } from "../host/snapshot.js";
import { ensureUuid, ensureVncPort, runningUuid, storedUuid, storedVncPort } from "./identity.js";
import { adoptRunningVm, hostArgv, listGuestNames, readGuest, requireMonitor, specFor } from "./lifecycle.js";
import { parseArgvFile } from "./monitor-spec.js";
import { readAgentConfig } from "../host/config.js";
import type { DesiredState } from "../model/types.js";

/** The rc.conf files that set vm-bhyve's variables, in the order rc.subr's load_rc_config reads them (the last assignment wins). */
const RC_FILES = ["/etc/rc.conf", "/etc/rc.conf.local", "/etc/rc.conf.d/vm", "/usr/local/etc/rc.conf.d/vm"];

/** The most of a file read: vm-bhyve rotates its log at 1 MiB; configurations are small. */
const MAX_READ = 2 * 1024 * 1024;

/** A host file as read: its text, or why it was not read (null: it is not there). */
type HostFile = { readonly text: string } | { readonly why: string } | null;

/**
 * A host file (its last MAX_READ bytes). Read only as a regular file that is not a link (a FIFO
 * would block the agent, a device act when opened), never following a link planted in its place
 * between the look and the open, and only when nobody but its owner can write it and that owner is
 * root (or the agent's own user): what these files say decides which VM the agent takes over.
 */
function readHostFileChecked(paths: HostPaths, hostPath: string, anyWriter = false): HostFile {
  const path = paths.at(hostPath);
  let before: Stats;
  try {
    before = lstatSync(path);
  } catch {
    return null;
  }
  if (!before.isFile()) return { why: `${hostPath} is not a regular file` };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    return { why: `${hostPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.dev !== before.dev || st.ino !== before.ino) return { why: `${hostPath} changed while it was read` };
    if (!anyWriter && (st.mode & 0o022) !== 0) return { why: `${hostPath} can be written by others than its owner (mode ${(st.mode & 0o777).toString(8)})` };
    if (!anyWriter && st.uid !== 0 && st.uid !== process.getuid?.()) return { why: `${hostPath} belongs to uid ${st.uid}, not root` };
    const len = Math.min(st.size, MAX_READ);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, st.size - len + got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString("utf8") };
  } finally {
    closeSync(fd);
  }
}

/** A host file's text, or null when it is not there or not to be trusted (see {@link readHostFileChecked}); `problems` gets why. */
function readHostFile(paths: HostPaths, hostPath: string, problems?: string[]): string | null {
  const f = readHostFileChecked(paths, hostPath);
  if (f !== null && "why" in f) problems?.push(f.why);
  return f !== null && "text" in f ? f.text : null;
}

/** Whether a regular file (not a link) is at a host path. */
function isHostFile(paths: HostPaths, hostPath: string): boolean {
  try {
    return lstatSync(paths.at(hostPath)).isFile();
  } catch {
    return false;
  }
}

/** The most datastores read from system.conf (each a zfs run when it is a dataset). */
const MAX_STORES = 16;

/** What rc.conf says of vm-bhyve, and where its guests live. */
export interface VmBhyveLayout {
  readonly enabled: boolean;
  /** $vm_dir as a directory (a `zfs:` dataset resolved to its mountpoint); null when vm_dir is not set or cannot be resolved. */
  readonly vm_dir: string | null;
  /** The directories holding guests: vm_dir, then system.conf's datastores. */
  readonly stores: string[];
  /** rc.conf's vm_list: the guests vm-bhyve starts at boot. */
  readonly vm_list: string[];
  readonly problems: string[];
}

/** A `zfs:pool/ds` store resolved to its mountpoint, a path as it is. */
async function storePath(paths: HostPaths, spec: string, problems: string[]): Promise<string | null> {
  if (!spec.startsWith("zfs:")) return spec.startsWith("/") ? spec.replace(/\/+$/, "") || "/" : null;
  const ds = spec.slice(4);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(ds) || ds.includes("..")) {
    problems.push(`vm_dir ${spec}: not a dataset name`);
    return null;
  }
  const r = await runTool(paths.tool("zfs"), ["get", "-H", "-o", "value", "mountpoint", ds]);
  const mp = r.stdout.trim();
  if (r.status !== 0 || !mp.startsWith("/")) {
    problems.push(`vm_dir ${spec}: its mountpoint cannot be read (${r.stderr.trim() || mp || `zfs exit ${r.status}`})`);
    return null;
  }
  return mp;
}

/** vm-bhyve's settings from rc.conf and its system.conf. */
export async function vmBhyveLayout(paths: HostPaths): Promise<VmBhyveLayout> {
  const problems: string[] = [];
  let vmDirSpec: string | undefined;
  let enable: string | undefined;
  let list: string | undefined;
  for (const f of RC_FILES) {
    const text = readHostFile(paths, f, problems);
    if (text === null) continue;
    vmDirSpec = rcConfValue(text, "vm_dir") ?? vmDirSpec;
    enable = rcConfValue(text, "vm_enable") ?? enable;
    list = rcConfValue(text, "vm_list") ?? list;
  }
  const vmDir = vmDirSpec ? await storePath(paths, vmDirSpec, problems) : null;
  const stores = vmDir ? [vmDir] : [];
  const system = vmDir ? readHostFile(paths, join(vmDir, ".config/system.conf"), problems) : null;
  if (system !== null) {
    const conf = parseVmBhyveConf(system);
    for (const ds of (conf.get("datastore_list") ?? "").split(/\s+/).filter(Boolean).slice(0, MAX_STORES)) {
      const spec = conf.get(`path_${ds}`);
      const p = spec ? await storePath(paths, spec, problems) : null;
      if (p && !stores.includes(p)) stores.push(p);
    }
  }
  return { enabled: rcYes(enable), vm_dir: vmDir, stores, vm_list: (list ?? "").split(/\s+/).filter(Boolean), problems };
}

/** A VM the agent did not create, as it can be read. */
export interface ForeignVm {
  readonly name: string;
  /** Its bhyve's pid (from the process title, root's and the only one with it), or null when none runs for it. */
  readonly pid: number | null;
  /** The process whose child the bhyve is, and what it is: vm-bhyve's runner, init (nobody supervises it), or something else. */
  readonly parent: { readonly pid: number; readonly command: string; readonly kind: "vm-bhyve" | "init" | "other" } | null;
  /** vm-bhyve's directory of the guest (its NAME.conf is there), when vm-bhyve knows it; whether its run.lock is there; the run its log shows. */
  readonly vm_bhyve: { readonly dir: string; readonly locked: boolean; readonly run: number | null } | null;
  /** The command line it runs, where that is written down, secrets (a VNC password) hidden; null when it is not. */
  readonly argv: string[] | null;
  /** Where `argv` was read. */
  readonly argv_from: string | null;
  /** The guest document it reads as (null without a command line). */
  readonly document: Record<string, unknown> | null;
  /** Why it cannot be adopted; empty: it can. */
  readonly unsupported: string[];
  readonly adoptable: boolean;
  /** What an operator should know about taking it over. */
  readonly notes: string[];
}

/** `host.foreign`: the VMs the agent did not create, and what adopting them needs. */
export interface ForeignReport {
  /** kern.osrelease. */
  readonly release: string | null;
  readonly vm_bhyve: VmBhyveLayout;
  /** The devices loader.conf's pptdevs, pptdevs2 and pptdevs3 reserve (the last assignment of each), as B/S/F. */
  readonly pptdevs: string[];
  readonly vms: ForeignVm[];
}

/** The devices loader.conf reserves for ppt, whoever wrote the lines. */
export function loaderPptdevs(paths: HostPaths): string[] {
  // loader.conf as the agent reads it everywhere: it only names devices for the generated app to reserve.
  const f = readHostFileChecked(paths, "/boot/loader.conf", true);
  const text = f !== null && "text" in f ? f.text : "";
  const last = new Map<string, string>();
  for (const l of parseLoaderConf(text).lines) if (l.name !== undefined && (PPTDEVS_VARIABLES as readonly string[]).includes(l.name)) last.set(l.name, l.value ?? "");
  const out: string[] = [];
  for (const v of last.values()) {
    for (const w of v.split(/\s+/).filter(Boolean)) {
      const r = parsePciAddress(w);
      if (r.ok && !out.includes(formatBsf(r.address))) out.push(formatBsf(r.address));
    }
  }
  return out;
}

/** The process table with parents, owners and ages: one ps run. */
async function processTable(paths: HostPaths): Promise<PsProcess[]> {
  const r = await runTool(paths.tool("ps"), PS_TABLE_ARGS);
  if (r.status !== 0) throw new AgentError(`ps could not list the processes: ${r.stderr.trim() || `exit ${r.status}`}`, "E_TOOL_FAILED");
  return parsePsTable(r.stdout);
}

/** How far a bhyve's start may lie from the log line that says vm-bhyve started it: the log's second, then bhyveload's time and a busy host. */
const START_SLACK_BEFORE_MS = 2_000;
const START_SLACK_AFTER_MS = 120_000;

/** vm-bhyve settings that act on the bhyve process from outside its command line: not carried over. */
const OUTSIDE_ARGV = ["priority", "limit_pcpu", "limit_rbps", "limit_wbps", "limit_riops", "limit_wiops", "prestart"];

/** A foreign VM as read, with its real command line (the report's hides secrets). */
interface ReadVm {
  readonly vm: ForeignVm;
  readonly argv: string[] | null;
}

/** One foreign VM read against the process table and vm-bhyve's files. */
function readForeign(paths: HostPaths, name: string, table: readonly PsProcess[], layout: VmBhyveLayout, acpiAlways: boolean, now: Date): ReadVm {
  const unsupported: string[] = [];
  const notes: string[] = [];
  const titled = bhyvesOf(table, name);
  const bhyve = bhyveOf(table, name);
  if (titled.length > 1) unsupported.push(`${titled.length} processes carry the title bhyve: ${name} (pids ${titled.map((p) => p.pid).join(", ")}): which one is its bhyve cannot be told`);
  else if (titled.length === 1 && !bhyve) unsupported.push(`the process titled bhyve: ${name} (pid ${titled[0]!.pid}) runs as uid ${titled[0]!.uid}, not root: it is not a bhyve`);
  const parentProc = bhyve ? table.find((p) => p.pid === bhyve.ppid) : undefined;
  const parent = bhyve ? {
    pid: bhyve.ppid,
    command: parentProc?.command ?? "",
    kind: parentProc && isVmBhyveRunner(parentProc, name) ? "vm-bhyve" as const : bhyve.ppid === 1 ? "init" as const : "other" as const,
  } : null;
  const runner = table.find((p) => isVmBhyveRunner(p, name));
  let vmb: ForeignVm["vm_bhyve"] = null;
  let argv: string[] | null = null;
  let argvFrom: string | null = null;
  const store = GUEST_NAME.test(name) ? layout.stores.find((st) => isHostFile(paths, join(st, name, `${name}.conf`))) : undefined;
  if (store !== undefined) {
    const dir = join(store, name);
    const unread: string[] = [];
    const conf = parseVmBhyveConf(readHostFile(paths, join(dir, `${name}.conf`), unread) ?? "");
    const logPath = join(dir, "vm-bhyve.log");
    const log = readHostFile(paths, logPath, unread);
    unsupported.push(...unread.map((w) => `${w}: vm-bhyve's record of it is not to be trusted`));
    const run = log === null ? null : latestVmBhyveRun(log, name);
    vmb = { dir, locked: isHostFile(paths, join(dir, "run.lock")), run: run?.run ?? null };
    const logged = run ? vmBhyveStampTime(run.stamp, now) : null;
    const started = bhyve ? now.getTime() - bhyve.etimes * 1000 : null;
    if (unread.length) {
      // Said above.
    } else if (!run) unsupported.push(`vm-bhyve's log (${logPath}) shows no bhyve start`);
    else if (!run.open) unsupported.push(`vm-bhyve's log (${logPath}) shows its last bhyve (run ${run.run}) ended: what runs now was not started by vm-bhyve`);
    else if (parent?.kind === "other") unsupported.push(`its bhyve (pid ${bhyve!.pid}) is a child of pid ${parent.pid} (${parent.command || "unknown"}), not of vm-bhyve's runner: the log does not describe it`);
    else if (bhyve && (logged === null || started! < logged - START_SLACK_BEFORE_MS || started! > logged + START_SLACK_AFTER_MS)) {
      unsupported.push(`its bhyve (pid ${bhyve.pid}) started at ${new Date(started!).toISOString()}, vm-bhyve's log says it started run ${run.run} at ${run.stamp} (local time): the log does not describe the bhyve that runs`);
    } else {
      argv = run.argv;
      argvFrom = `${logPath} (run ${run.run})`;
    }
    if (layout.vm_list.includes(name)) notes.push(`rc.conf's vm_list names ${name}: vm-bhyve would start it at boot beside the agent; remove it there (sysrc vm_list-=${name}) when the agent has it`);
    if (vmb.locked) notes.push(`vm-bhyve's run.lock and console files stay in ${dir} after the takeover: vm-bhyve reads the guest as running or locked and will not start it`);
    const outside = OUTSIDE_ARGV.filter((k) => conf.has(k));
    if (outside.length) notes.push(`vm-bhyve's ${outside.join(", ")} act on the bhyve from outside its command line: they are not carried over (the renice or rctl limits vm-bhyve set stay on this bhyve until it ends)`);
  } else if (!GUEST_NAME.test(name)) {
    unsupported.push(`the VM name ${name} is not a guest name here (1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit)`);
  } else {
    unsupported.push(`no starter of it wrote its command line down (bhyve shows only its name in the process table${layout.stores.length ? `; vm-bhyve has no ${name} in ${layout.stores.join(", ")}` : ""}): the agent adopts only what it can compare`);
  }
  if (titled.length === 0) {
    unsupported.push(runner
      ? `vm-bhyve's runner (pid ${runner.pid}) is between two runs of it (a reboot): read it again in a moment`
      : `no bhyve runs for it (the VM is left in the kernel); destroy it (bhyvectl --destroy --vm=${name}) and let the agent start the guest instead`);
  } else if (parent?.kind === "other" && store === undefined) {
    unsupported.push(`its bhyve (pid ${bhyve!.pid}) is a child of pid ${parent.pid} (${parent.command || "unknown"}), which may restart or stop it`);
  }
  let document: Record<string, unknown> | null = null;
  if (argv) {
    const p = proposeGuest(argv, { acpiAlways });
    document = p.document;
    unsupported.push(...p.unsupported);
    const nics = Array.isArray(document?.nics) ? (document!.nics as Array<Record<string, unknown>>) : [];
    nics.forEach((n, i) => notes.push(`nics[${i}] is on ${String(n.tap)}, which its starter made for this run: it stays after the takeover until the host reboots; put the NIC on a bhyve_switch after that (the guest restarts once)`));
  }
  const vm: ForeignVm = { name, pid: bhyve?.pid ?? null, parent, vm_bhyve: vmb, argv: argv ? redactArgv(argv) : null, argv_from: argvFrom, document, unsupported, adoptable: unsupported.length === 0, notes };
  return { vm, argv };
}

/** VM names /dev/vmm may hold (vm-bhyve allows up to 229 bytes); what else is there is not a VM name to report. */
const VM_NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,228}$/;

/** The names of the VMs in /dev/vmm that are not the agent's (a name the agent cannot have is never its). */
export function foreignVmNames(paths: HostPaths): string[] {
  return existsSync(paths.devVmm) ? readdirSync(paths.devVmm).filter((n) => VM_NODE.test(n) && (!GUEST_NAME.test(n) || readGuest(paths, n).vm_foreign)).sort() : [];
}

/** What the host's policy says of adopting a proposed guest (with its passthrough devices reserved): problems in words. */
async function policyRefusals(paths: HostPaths, document: Record<string, unknown>, facts: HostFacts): Promise<string[]> {
  const g = checkGuestAlone(document);
  if (!g.ok) return [];
  const desired: DesiredState = {
    host: DEFAULT_HOST_SETTINGS,
    ppt: g.guest.passthru.map((p) => ({ device: p.device, bind: "boot" as const })),
    switches: [],
    guests: [g.guest],
  };
  const problems = await policyProblems(paths, desired, facts);
  return problems.map((p) => `the host's policy (${POLICY_FILE}) refuses it: ${p.path}: ${p.message}`);
}

/** `host.foreign`: reads, changes nothing. */
export async function foreignReport(paths: HostPaths): Promise<ForeignReport> {
  const facts = await hostFacts(paths);
  const names = foreignVmNames(paths);
  const layout = await vmBhyveLayout(paths);
  const table = names.length ? await processTable(paths) : [];
  const acpiAlways = acpiAlwaysOn(facts.os.release);
  const now = new Date();
  const vms: ForeignVm[] = [];
  for (const n of names) {
    const { vm } = readForeign(paths, n, table, layout, acpiAlways, now);
    const refusals = vm.adoptable && vm.document ? await policyRefusals(paths, vm.document, facts) : [];
    vms.push(refusals.length ? { ...vm, unsupported: refusals, adoptable: false } : vm);
  }
  return { release: facts.os.release, vm_bhyve: layout, pptdevs: loaderPptdevs(paths), vms };
}

/** What taking one guest over needs: the VM as read (with its real command line), the comparison already made. */
export interface Adoption {
  readonly guest: Guest;
  readonly vm: ForeignVm;
  readonly argv: string[];
}

/**
 * The guest with the identity its running VM has where the document leaves it to the agent: the
 * UUID and the framebuffer port it runs with (the agent keeps them from then on).
 */
function withRunningIdentity(paths: HostPaths, g: Guest, argv: readonly string[]): Guest {
  const uuid = g.uuid ?? storedUuid(paths, g.name) ?? runningUuid(argv);
  const port = g.framebuffer ? (g.framebuffer.port ?? storedVncPort(paths, g.name) ?? framebufferOf(argv)?.port) : undefined;
  return { ...g, ...(uuid ? { uuid } : {}), ...(g.framebuffer ? { framebuffer: { ...g.framebuffer, ...(port !== undefined ? { port } : {}) } } : {}) };
}

/**
 * For each desired guest with adopt set whose VM is foreign: whether it can be taken over as it
 * runs. Problems (with the document path and the code) for those that cannot; nothing changes.
 */
export async function checkAdoptions(paths: HostPaths, desired: DesiredState, release: string | null): Promise<{ adoptions: Adoption[]; problems: Array<{ path: string; message: string; code: string }> }> {
  const wanted = desired.guests.map((g, i) => ({ g, i })).filter(({ g }) => g.adopt && readGuest(paths, g.name).vm_foreign);
  if (wanted.length === 0) return { adoptions: [], problems: [] };
  const layout = await vmBhyveLayout(paths);
  const table = await processTable(paths);
  const acpiAlways = acpiAlwaysOn(release);
  const now = new Date();
  const adoptions: Adoption[] = [];
  const problems: Array<{ path: string; message: string; code: string }> = [];
  for (const { g, i } of wanted) {
    const { vm, argv } = readForeign(paths, g.name, table, layout, acpiAlways, now);
    const path = `guests[${i}].adopt`;
    // What stands in the way of reading it (no command line, no bhyve, another supervisor); the
    // model's limits are checked against this guest's own rendering instead.
    if (argv === null || vm.pid === null) {
      problems.push({ path, message: `VM ${g.name} cannot be adopted: ${vm.unsupported.join("; ")}`, code: "E_ADOPT_UNKNOWN" });
      continue;
    }
    const diff = renderingDifferences(argv, withRunningIdentity(paths, g, argv), { acpiAlways });
    if (diff.length) {
      problems.push({ path, message: `VM ${g.name} runs another machine than this guest renders to, so it is not adopted (it is left as it runs): ${diff.join("; ")}`, code: "E_ADOPT_MISMATCH" });
      continue;
    }
    adoptions.push({ guest: g, vm, argv });
  }
  return { adoptions, problems };
}

/** Sends a signal to a process, false when it is gone. */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * Takes a checked VM over: the guest's identity kept as it runs, its spec written and checked to be
 * the machine that runs, vm-bhyve's runner held (SIGSTOP: it can neither restart nor tear down the
 * VM meanwhile), the guest's monitor started on the running bhyve (bhyve-monitor -a PID), and then
 * the runner stopped for good (SIGKILL: its shell runs no trap, so it neither stops the bhyve nor
 * destroys the VM on its way out). When the monitor cannot take over, the runner goes on as it was
 * (SIGCONT). Returns what was done, in words.
 */
export async function adoptGuest(paths: HostPaths, a: Adoption, desired: DesiredState, release: string | null): Promise<string> {
  const { guest: g, vm, argv } = a;
  requireMonitor();
  const o = { acpiAlways: acpiAlwaysOn(release) };
  const running = (): string[] => argv;
  ensureUuid(paths, g, running);
  if (g.framebuffer) ensureVncPort(paths, g, desired, listGuestNames(paths), running, readAgentConfig(paths).policy.framebufferPorts);
  const files = specFor(paths, g, desired);
  // What the monitor would run from now on must be the machine that runs: checked on the spec itself.
  const spec = parseBhyveArgv(hostArgv(paths, parseArgvFile(files["bhyve.argv"]!.toString("utf8")))!);
  const now = parseBhyveArgv(argv);
  const diff = spec.ok && now.ok ? machineDifferences(now.machine, spec.machine, o) : [spec.ok ? (now as { reason: string }).reason : spec.reason];
  if (diff.length) throw new AgentError(`VM ${g.name} is not adopted: the guest's spec is another machine than the one that runs: ${diff.join("; ")}`, "E_ADOPT_MISMATCH");
  // The process table read again, right before anything is signalled: the bhyve and its parent
  // must still be the ones checked (a pid is not reused under the agent's hands).
  const table = await processTable(paths);
  const bhyve = bhyveOf(table, g.name);
  if (!bhyve || bhyve.pid !== vm.pid) throw new AgentError(`VM ${g.name}'s bhyve (pid ${vm.pid}) is no longer the one that runs it; nothing was taken over`, "E_ADOPT_GONE");
  const parent = table.find((p) => p.pid === bhyve.ppid);
  const runner = parent && isVmBhyveRunner(parent, g.name) ? parent : null;
  if (!runner && bhyve.ppid !== 1) throw new AgentError(`VM ${g.name}'s bhyve (pid ${bhyve.pid}) is now a child of pid ${bhyve.ppid} (${parent?.command ?? "unknown"}), which may restart or stop it; nothing was taken over`, "E_ADOPT_UNKNOWN");
  const held = runner !== null && signal(runner.pid, "SIGSTOP");
  try {
    await adoptRunningVm(paths, g.name, files, bhyve.pid);
  } catch (err) {
    if (held) signal(runner!.pid, "SIGCONT");
    throw err;
  }
  const stopped = held && signal(runner!.pid, "SIGKILL");
  return `adopted: its bhyve (pid ${bhyve.pid}) runs on unchanged under the agent's monitor${stopped ? `; vm-bhyve's runner (pid ${runner!.pid}) stopped` : ""}`;
}
