/**
 * vm-bhyve on a sandbox host: what `sysrc vm_enable=YES vm_dir=...`, `vm init`, `vm switch create`,
 * `vm create`, `vm start` and `vm stop` leave behind and run, so that tests can meet VMs started
 * "by hand" with vm-bhyve (the agent's adopt feature takes such VMs over).
 *
 * The behaviour is vm-bhyve's newest layout (lib/vm-run with per-device slot keys; see
 * /tmp/vm-bhyve-facts.md): its config parsing (config::load), the checks of `vm start`
 * (core::__start), and the supervisor `vm _run NAME` (vm::run), which here is a node process of
 * the sandbox's simulator bundle (`--vm-bhyve-run ROOT NAME`), started detached as vm-bhyve's
 * `$0 _run NAME >/dev/null 2>&1 &` is, and shown by the sandbox's ps as
 * `/bin/sh /usr/local/sbin/vm _run NAME`. It builds bhyve's argv exactly as vm::run does, creates
 * the taps (ifconfig's simulation, in-process), logs to NAME/vm-bhyve.log in vm-bhyve's format,
 * runs the sandbox's bhyveload and bhyve as its own children (bhyve's output to /dev/null, so a
 * bhyve survives its runner being killed), maps bhyve's exit status to vm-bhyve's actions and
 * cleans up as vm::run does when its loop ends.
 *
 * Not simulated: `vm install` (ISO devices), grub-bhyve and tmux consoles (refused as on a host
 * without them), zfs: datastores and extra datastores, vale/vxlan/netgraph switches, switch
 * addresses, `link random`, prestart scripts, rctl limits and priority, iSCSI disks, autostart
 * (vm_list) at boot.
 */
import { parseVmBhyveConf, rcYes, vmBhyveYes } from "../agent/parse/vm-bhyve.js";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { constants as osConstants } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { amdviEnabled, loadVmm } from "./kernel.js";
import { machineProfile, processAlive, readMachine, updateMachine, type MachineState, type MachineVmRunner } from "./machine.js";
import { clonedIfaces, groupMembers, ifconfigChange, type IfconfigOutcome } from "./net-ifaces.js";
import { TOOL_PATHS } from "./tool-paths.js";
import { staticView } from "./tools/host-tools.js";
import { liveRunners, runningPid } from "./vm.js";
import { AgentError } from "../agent/model/errors.js";

/** The argument of the simulator bundle (sandbox-tool.ts) that makes it a `vm _run` supervisor: `--vm-bhyve-run ROOT NAME`. */
/** The files vm-bhyve writes, as root's umask (022) leaves them, whatever the umask the sandbox runs with. */
const FILE_MODE = 0o644;

export const VM_BHYVE_RUN_FLAG = "--vm-bhyve-run";

/** vm-bhyve's own path on a host: `$0` of its commands, in its messages. */
const VM = "/usr/local/sbin/vm";

/** Where a host path is inside the sandbox tree. */
const at = (root: string, hostPath: string): string => join(root, hostPath);

/** A refusal or failure of a vm-bhyve command (code E_VM_BHYVE), worded as vm-bhyve words it. */
function vmError(message: string, code = "E_VM_BHYVE"): AgentError {
  return new AgentError(message, code);
}

// ---------------------------------------------------------------------------------------------
// Files: rc.conf, sysrc, vm-bhyve's config reading

/** A value of rc.conf as sh reads it: unquoted, single- or double-quoted, up to a comment. */
function shValue(raw: string): string {
  const t = raw.trimStart();
  if (t.startsWith('"')) return t.slice(1, t.indexOf('"', 1) < 0 ? undefined : t.indexOf('"', 1));
  if (t.startsWith("'")) return t.slice(1, t.indexOf("'", 1) < 0 ? undefined : t.indexOf("'", 1));
  return t.split(/[\s#]/)[0] ?? "";
}

/** /etc/rc.conf's assignments (load_rc_config sources it: the last assignment wins). */
function rcConf(root: string): Map<string, string> {
  const file = at(root, "/etc/rc.conf");
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, shValue(m[2]!));
  }
  return out;
}

/**
 * `sysrc -f FILE NAME=VALUE` as sysrc.subr's f_sysrc_set does it (`NAME+=VALUE` adds a word to
 * the list unless it is there). No assignment (`^[[:space:]]*NAME=`, indented ones included): the
 * line `NAME="VALUE"` is appended. Otherwise the last one is edited in place, keeping what precedes
 * the value, its quotes and what follows it (a comment); an unquoted value gets double quotes; a
 * value starting with a backquote, `$` or a backslash is left alone and the line appended. An edit
 * rewrites the file without trailing blank lines (the shell's `$( )` drops them). A file that
 * does not end in a newline gets one first, as config::set makes sure (sysrc would join the lines).
 */
function sysrc(file: string, name: string, value: string, append = false): void {
  let text = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (text.length > 0 && !text.endsWith("\n")) text += "\n";
  const lines = text.split("\n");
  lines.pop();
  const re = new RegExp(`^([ \\t]*${name}=)(.*)$`);
  let last = -1;
  lines.forEach((l, i) => {
    if (re.test(l)) last = i;
  });
  let v = value;
  if (append && last >= 0) {
    const current = shValue(re.exec(lines[last]!)![2]!).split(/\s+/).filter(Boolean);
    v = current.includes(value) ? current.join(" ") : [...current, value].join(" ");
  }
  const edited = last < 0 ? null : editAssignment(re.exec(lines[last]!)!, v);
  if (edited === null) {
    writeFileSync(file, `${text}${name}="${v}"\n`, { mode: FILE_MODE });
    return;
  }
  lines[last] = edited;
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: FILE_MODE });
}

/** f_sysrc_set_awk on one assignment (`prefix` is up to the `=`): the edited line, or null when it leaves it alone. */
function editAssignment([, prefix, value]: RegExpExecArray, v: string): string | null {
  const first = value!.slice(0, 1);
  if (/[`$\\]/.test(first)) return null;
  const quoted = (q: string, rest: string): string => {
    const after = rest.replace(q === "'" ? /^'[^']*/ : /^"(.*\\+")*[^"]*/, "");
    return `${prefix}${q}${v}${after.length === 0 ? "" : q}${after.slice(1)}`;
  };
  if (first === "'" || first === '"') return quoted(first, value!);
  if (/[^\s;]/.test(first)) return `${prefix}"${v}"${value!.replace(/^\S*/, "")}`;
  if (/[\s;]/.test(first)) return `${prefix}"${v}"${value}`;
  return `${prefix}${v}`;
}

/** Splits as an unquoted shell expansion does (vm-bhyve passes its strings unquoted). */
const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** `md5 -qs TEXT`. */
const md5 = (text: string): string => createHash("md5").update(text).digest("hex");

// ---------------------------------------------------------------------------------------------
// The host as vm-bhyve sees it (lib/vm-base)

/** What every vm command finds out first (lib/vm-base, util::check_bhyve_support). */
interface VmHost {
  readonly root: string;
  /** $vm_dir, a host path. */
  readonly vmDir: string;
  /** `uname -K`. */
  readonly versionBsd: number;
  /** `hostname`. */
  readonly hostname: string;
  /** vm_disable_host_checks. */
  readonly noHostChecks: boolean;
  /** VM_NO_UG: an Intel CPU without unrestricted guest. */
  readonly noUg: boolean;
}

/** The sandbox host's name: rc.conf's `hostname` (rc.d/hostname sets it at boot), else PROFILE.sandbox. */
function hostName(root: string, m: MachineState): string {
  return rcConf(root).get("hostname") || `${m.profile}.sandbox`;
}

/** `util::load_module vmm` and the sysctl checks of util::check_bhyve_support; then $vm_dir made ready. */
function vmBase(root: string): VmHost {
  const rc = rcConf(root);
  if (!rcYes(rc.get("vm_enable"))) throw vmError(`${VM}: ERROR: $vm_enable is not enabled in /etc/rc.conf!`);
  const noHostChecks = vmBhyveYes(rc.get("vm_disable_host_checks"));
  const m = updateMachine(root, (mm) => {
    if (!mm.vmmLoaded) loadVmm(mm, machineProfile(mm));
    return mm;
  });
  if (!m.vmmLoaded) throw vmError(`${VM}: ERROR: unable to load vmm.ko!`);
  const p = machineProfile(m);
  const vmDir = rc.get("vm_dir") ?? "";
  if (vmDir.startsWith("zfs:")) throw vmError(`vm_dir="${vmDir}": the sandbox's vm-bhyve takes a directory, not a ZFS dataset`, "E_UNSUPPORTED");
  if (vmDir === "" || !existsSync(at(root, vmDir)) || !statSync(at(root, vmDir)).isDirectory()) {
    throw vmError(`${VM}: ERROR: $vm_dir has not been configured or is not a valid directory`);
  }
  for (const d of [".config", ".templates", ".iso", ".img"]) mkdirSync(at(root, `${vmDir}/${d}`), { recursive: true });
  if (!existsSync(at(root, `${vmDir}/.config/null.iso`))) writeFileSync(at(root, `${vmDir}/.config/null.iso`), "");
  return {
    root,
    vmDir,
    versionBsd: p.release.major * 100000 + p.release.minor * 1000,
    hostname: hostName(root, m),
    noHostChecks,
    noUg: !noHostChecks && p.cpu.vendor === "intel" && !p.cpu.unrestrictedGuest,
  };
}

/** `$vm_dir/.config/system.conf`, as config::core::load reads it. */
function coreConfig(host: VmHost): Map<string, string> {
  const file = at(host.root, `${host.vmDir}/.config/system.conf`);
  return parseVmBhyveConf(existsSync(file) ? readFileSync(file, "utf8") : "");
}

/** util::check_name with vm-bhyve's pattern (maxlen 46 for guests, 30 by default). */
function validName(name: string, maxlen = 30): boolean {
  return new RegExp(`^[a-z0-9][.a-z0-9_-]{0,${maxlen}}[a-z0-9]$`, "i").test(name);
}

// ---------------------------------------------------------------------------------------------
// ifconfig, in-process (the sandbox's ifconfig simulation, as `ifconfig ...` would apply it)

/** `ifconfig NAME PARAMS...` applied to the machine as the sandbox's ifconfig applies it. */
function ifconfig(root: string, name: string, params: string[]): IfconfigOutcome {
  return updateMachine(root, (m) => {
    const p = machineProfile(m);
    return ifconfigChange(m, staticView(m, p), name, params, p.release.major);
  });
}

/** switch::__viid: the interface group that marks a switch's bridge, `viid-` and 5 hex digits of md5(name), then `@`. */
function viid(name: string): string {
  return `viid-${md5(name).slice(0, 5)}@`;
}

/** switch::id: the bridge of a switch (standard: found by its viid group; manual: `bridge_NAME`), or null. */
function switchId(host: VmHost, name: string): string | null {
  const core = coreConfig(host);
  const type = core.get(`type_${name}`) ?? "standard";
  if (type === "manual") return core.get(`bridge_${name}`) || null;
  if (type === "vale") return null;
  return groupMembers(readMachine(host.root), viid(name))[0] ?? null;
}

/**
 * switch::standard::init: a bridge named vm-NAME (a name over 12 characters keeps bridgeN and gets
 * the description vm/NAME), in group vm-switch and the switch's viid group, up; then the switch's
 * MTU and ports from system.conf. Nothing when the switch's bridge exists.
 */
function initStandardSwitch(host: VmHost, name: string): string {
  const existing = switchId(host, name);
  if (existing) return existing;
  const how = name.length <= 12 ? ["name", `vm-${name}`] : ["descr", `vm/${name}`];
  const made = ifconfig(host.root, "bridge", ["create", ...how, "group", "vm-switch", "up"]);
  const id = made.out.trim();
  if (made.status !== 0 || !id) throw vmError(`${VM}: ERROR: failed to create bridge interface for switch ${name}`);
  ifconfig(host.root, id, ["group", viid(name)]);
  const core = coreConfig(host);
  const mtu = core.get(`mtu_${name}`);
  if (mtu) ifconfig(host.root, id, ["mtu", mtu]);
  for (const port of words(core.get(`ports_${name}`) ?? "")) {
    if (mtu) ifconfig(host.root, port, ["mtu", mtu]);
    if (ifconfig(host.root, id, ["addm", port]).status !== 0) throw vmError(`${VM}: ERROR: failed to add member ${port} to the virtual switch ${name}`);
  }
  return id;
}

/**
 * `vm init` (util::setup, switch::init): the modules vm-bhyve needs (nmdm, if_bridge, if_tuntap;
 * if_tap before 13), net.link.tap.up_on_open=1, and a bridge for each switch in system.conf.
 */
function vmInit(host: VmHost): void {
  updateMachine(host.root, (m) => {
    for (const mod of ["nmdm", "if_bridge", host.versionBsd >= 1300029 ? "if_tuntap" : "if_tap"]) if (!m.modules.includes(mod)) m.modules.push(mod);
    (m.sysctl ??= {})["net.link.tap.up_on_open"] = "1";
  });
  const core = coreConfig(host);
  for (const sw of words(core.get("switch_list") ?? "")) {
    const type = core.get(`type_${sw}`) ?? "";
    if (type === "" || type === "standard") initStandardSwitch(host, sw);
  }
}

/** Options for {@link setupVmBhyve}. */
export interface VmBhyveSetupOptions {
  /** `vm_dir`, a host path made if missing. @default "/vm" */
  readonly vmDir?: string;
  /** Standard switches to create (`vm switch create NAME`). @default none */
  readonly switches?: readonly string[];
}

/** What {@link setupVmBhyve} made: $vm_dir and each switch's bridge. */
export interface VmBhyveSetup {
  readonly vmDir: string;
  readonly bridges: Readonly<Record<string, string>>;
}

/**
 * What `sysrc vm_enable=YES vm_dir=DIR`, `vm init` and `vm switch create NAME` (for each switch)
 * leave on the host: the two rc.conf lines (the file made if missing, its other lines kept),
 * $vm_dir with .config/ (system.conf with switch_list and type_NAME), .templates/, .iso/, .img/,
 * the modules and sysctl of `vm init`, and each switch's bridge.
 */
export function setupVmBhyve(dir: string, opts: VmBhyveSetupOptions = {}): VmBhyveSetup {
  const root = sandboxRoot(dir);
  const vmDir = opts.vmDir ?? "/vm";
  if (!vmDir.startsWith("/")) throw vmError(`vm_dir must be an absolute path, not "${vmDir}"`, "E_USAGE");
  mkdirSync(at(root, "/etc"), { recursive: true });
  sysrc(at(root, "/etc/rc.conf"), "vm_enable", "YES");
  sysrc(at(root, "/etc/rc.conf"), "vm_dir", vmDir);
  // The operator makes the directory (vm-base refuses a vm_dir that is not one).
  mkdirSync(at(root, vmDir), { recursive: true });
  const host = vmBase(root);
  vmInit(host);
  const bridges: Record<string, string> = {};
  for (const sw of opts.switches ?? []) {
    // switch::create: the name is checked, an existing switch refused, then the config is written and the bridge made.
    if (!validName(sw)) throw vmError(`${VM}: ERROR: invalid switch name - '${sw}'`, "E_USAGE");
    if (words(coreConfig(host).get("switch_list") ?? "").includes(sw)) throw vmError(`${VM}: ERROR: switch ${sw} already exists`, "E_EXISTS");
    const conf = at(root, `${vmDir}/.config/system.conf`);
    sysrc(conf, "switch_list", sw, true);
    sysrc(conf, `type_${sw}`, "standard");
    bridges[sw] = initStandardSwitch(host, sw);
  }
  return { vmDir, bridges };
}

/** The sandbox root of `dir`, refused when it is not a sandbox host. */
function sandboxRoot(dir: string): string {
  const root = resolve(dir);
  readMachine(root);
  return root;
}

/**
 * At boot, rc.d/vm runs `vm init` when vm_enable is YES (the switches' bridges are made again;
 * autostart of vm_list is not simulated). Returns vm-bhyve's complaint when it fails: a failing
 * rc script does not stop a boot, and its message goes to the console.
 */
export function vmBhyveBoot(root: string): string | null {
  if (!rcYes(rcConf(root).get("vm_enable"))) return null;
  try {
    vmInit(vmBase(root));
    return null;
  } catch (err) {
    if (err instanceof AgentError) return err.message;
    throw err;
  }
}

/** The directory of a guest (the default datastore only), a host path. */
function guestDir(host: VmHost, name: string): string {
  return `${host.vmDir}/${name}`;
}

/**
 * What `vm create` leaves: $vm_dir/NAME/NAME.conf with `conf` as written (vm-bhyve would copy a
 * template and add a uuid; a conf without one gets it at the first start). Returns its host path.
 */
export function writeVmBhyveGuest(dir: string, name: string, conf: string): string {
  const root = sandboxRoot(dir);
  const vmDir = rcConf(root).get("vm_dir");
  if (!vmDir) throw vmError(`${root}: vm-bhyve is not set up (no vm_dir in /etc/rc.conf)`, "E_STATE");
  if (!validName(name, 46)) throw vmError(`${VM}: ERROR: invalid virtual machine name - '${name}'`, "E_USAGE");
  const file = `${vmDir}/${name}/${name}.conf`;
  mkdirSync(at(root, `${vmDir}/${name}`), { recursive: true });
  writeFileSync(at(root, file), conf, { mode: FILE_MODE });
  return file;
}

// ---------------------------------------------------------------------------------------------
// Run state: run.lock, the log, confirm_stopped

/** `date +'%b %d %T'` in the C locale, local time. */
function stamp(d = new Date()): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${months[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** util::log for a guest: each message on its own timestamped line, up to the first empty one. */
function logTo(file: string, messages: readonly string[]): void {
  let text = "";
  for (const msg of messages) {
    if (msg === "") break;
    text += `${stamp()}: ${msg}\n`;
  }
  if (text) appendFileSync(file, text, { mode: FILE_MODE });
}

/** util::log_rotate: a log of 1 MiB or more becomes vm-bhyve.log.0.gz (one old copy kept). */
function rotateLog(file: string): void {
  if (!existsSync(file) || statSync(file).size < 1048576) return;
  rmSync(`${file}.0.gz`, { force: true });
  renameSync(file, `${file}.0`);
  writeFileSync(`${file}.0.gz`, gzipSync(readFileSync(`${file}.0`)));
  rmSync(`${file}.0`, { force: true });
}

/**
 * vm::confirm_stopped: 2 when run.lock names another host (or any host, without skip_lock), 1
 * when /dev/vmm/NAME exists (a VM started by hand counts), else 0.
 */
function confirmStopped(host: VmHost, name: string, skipLock: boolean): 0 | 1 | 2 {
  const lock = at(host.root, `${guestDir(host, name)}/run.lock`);
  if (existsSync(lock)) {
    const holder = readFileSync(lock, "utf8").split("\n")[0] ?? "";
    if (holder !== host.hostname || !skipLock) return 2;
  }
  return existsSync(at(host.root, `/dev/vmm/${name}`)) ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// vm start

/** Options for {@link vmBhyveStart} and {@link vmBhyveStop}. */
export interface VmBhyveCommandOptions {
  /** How long to wait for the guest's bhyve to run (start) or for the runner to end (stop). @default 60000 */
  readonly timeoutMs?: number;
  /** Receives what the vm command prints (`Starting NAME`, `  * booting...`, ...). @default discarded */
  readonly out?: (line: string) => void;
}

/** A guest that {@link vmBhyveStart} saw running. */
export interface VmBhyveStarted {
  /** The `vm _run NAME` supervisor. */
  readonly runnerPid: number;
  /** Its bhyve, whose VM exists. */
  readonly bhyvePid: number;
  /** bhyve's argv as vm-bhyve built it and logged it (argv[0] `bhyve`, the VM name last). */
  readonly argv: readonly string[];
}

/** The node and the simulator bundle of a sandbox's tools, from the #! line of its bhyve (`#!NODE BUNDLE` or `#!CLIENT NODE BUNDLE`). */
function simulatorCommand(root: string): { node: string; bundle: string } {
  const first = readFileSync(join(root, TOOL_PATHS.bhyve), "utf8").split("\n")[0] ?? "";
  const parts = words(first.replace(/^#!/, ""));
  if (parts.length < 2) throw new Error(`${join(root, TOOL_PATHS.bhyve)} has no #! line naming node and the simulator bundle`);
  return { node: parts[parts.length - 2]!, bundle: parts[parts.length - 1]! };
}

/** Starts `vm _run NAME` detached, its output to /dev/null, as core::__start does. */
function spawnRunner(root: string, name: string): ChildProcess {
  const { node, bundle } = simulatorCommand(root);
  const child = spawn(node, [bundle, VM_BHYVE_RUN_FLAG, root, name], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}

/**
 * `vm start NAME`: vm-base's checks, then core::__start's (the guest exists, confirm_stopped with
 * the lock of this host skipped, cpu and memory set, a loader this host can run), then
 * `vm _run NAME` in the background. Resolves once the runner's bhyve runs (its VM exists); rejects
 * with vm-bhyve's refusal, or with the runner's last fatal log line or bhyve's exit when the run
 * ended first.
 */
export async function vmBhyveStart(dir: string, name: string, opts: VmBhyveCommandOptions = {}): Promise<VmBhyveStarted> {
  const root = sandboxRoot(dir);
  const out = opts.out ?? (() => {});
  const host = vmBase(root);
  out(`Starting ${name}`);
  const refuse = (why: string): never => {
    out(`  ! ${why}`);
    throw vmError(`vm start ${name}: ${why}`);
  };
  const confFile = at(root, `${guestDir(host, name)}/${name}.conf`);
  if (!existsSync(confFile)) refuse(`${name} does not seem to be a valid virtual machine`);
  out(`  * found guest in ${guestDir(host, name)}`);
  if (confirmStopped(host, name, true) !== 0) refuse("guest appears to be running already");
  const conf = parseVmBhyveConf(readFileSync(confFile, "utf8"));
  if (!conf.get("cpu") || !conf.get("memory")) refuse("incomplete virtual machine configuration");
  const loader = conf.get("loader") ?? "";
  if (host.noUg && loader !== "bhyveload") refuse("no unrestricted guest support in cpu. only single vcpu FreeBSD guests supported");
  // The sandbox has neither grub-bhyve nor tmux, as a host without those packages.
  if (loader === "grub") refuse("grub requested but sysutils/grub2-bhyve not installed?");
  if ((coreConfig(host).get("console") ?? "nmdm") === "tmux") refuse("tmux support enabled but misc/tmux not found");
  out("  * booting...");

  const logFile = at(root, `${guestDir(host, name)}/vm-bhyve.log`);
  const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const child = spawnRunner(root, name);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.on("exit", (code, signal) => void (exited = { code, signal }));
  const runnerPid = child.pid!;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const m = readMachine(root);
    const r = m.vmRunners?.find((x) => x.pid === runnerPid);
    const vm = m.vms[name];
    if (r?.bhyvePid && r.argv && vm?.process?.pid === r.bhyvePid && runningPid(vm) !== null) {
      return { runnerPid, bhyvePid: r.bhyvePid, argv: r.argv };
    }
    if (exited !== null || !processAlive(runnerPid)) {
      throw vmError(`vm start ${name}: ${runFailure(logFile, logStart, exited)}`, "E_VM_BHYVE_RUN");
    }
    if (Date.now() > deadline) throw vmError(`vm start ${name}: its bhyve did not run within ${opts.timeoutMs ?? 60_000} ms (vm _run is pid ${runnerPid})`, "E_STUCK");
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Why a `vm _run` ended before its bhyve ran: its last fatal line or bhyve's exit, else its own exit status. */
function runFailure(logFile: string, from: number, exited: { code: number | null; signal: NodeJS.Signals | null } | null): string {
  const text = existsSync(logFile) ? readFileSync(logFile).subarray(from).toString("utf8") : "";
  const lines = text.split("\n").map((l) => l.replace(/^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}: /, ""));
  const why = lines.filter((l) => l.startsWith("fatal; ") || /^bhyve exited with status \d+$/.test(l)).pop();
  if (why) return why;
  const code = exited?.code;
  if (code === 5) return "vm _run: guest not found (exit 5)";
  if (code === 10) return "vm _run: the guest appears to be running (exit 10)";
  if (code === 64) return `vm _run exited with status 64: is the simulator bundle older than sandbox/vm-bhyve.ts? (npm run build)`;
  return `vm _run exited with ${exited?.signal ?? `status ${code ?? "unknown"}`}`;
}

// ---------------------------------------------------------------------------------------------
// vm _run (vm::run): the supervisor

/** One `vm _run NAME`: the settings vm::run reads once, and what it builds from them. */
class VmRun {
  readonly dir: string;
  readonly log: (...messages: string[]) => void;
  readonly conf: Map<string, string>;
  opts = "-AHP";
  devices = "";
  comstring = "";
  isoDev = "";
  /** The loader's console: the first com port's A side. */
  com = "";
  uefi = false;
  wiredmem = false;
  taplist: string[] = [];
  bootdisk = "";
  memory = "";
  loader = "";
  logpath = "/dev/null";

  constructor(
    readonly host: VmHost,
    readonly name: string,
  ) {
    this.dir = guestDir(host, name);
    const logFile = this.at("vm-bhyve.log");
    this.log = (...messages: string[]): void => logTo(logFile, messages);
    this.conf = parseVmBhyveConf(readFileSync(this.at(`${name}.conf`), "utf8"));
  }

  /** A file of the guest's directory, in the sandbox tree. */
  at(file: string): string {
    return at(this.host.root, `${this.dir}/${file}`);
  }

  /** config::get. */
  get(key: string, def = ""): string {
    return this.conf.get(key) ?? def;
  }

  /** config::yesno. */
  yes(key: string, def = ""): boolean {
    return vmBhyveYes(this.conf.get(key) ?? def);
  }

  /** config::set: written back to NAME.conf (and kept for this run). */
  set(key: string, value: string): void {
    sysrc(this.at(`${this.name}.conf`), key, value);
    this.conf.set(key, value);
  }

  /** vm::get_disk_path (the default datastore is a directory: its ZFS dataset is empty). */
  diskPath(disk: string, dev: string): string {
    if (dev === "zvol" || dev === "sparse-zvol") return `/dev/zvol//${this.name}/${disk}`;
    if (dev === "custom") return disk;
    // iscsictl is not on the sandbox host: info::__find_iscsi finds nothing.
    if (dev === "iscsi") return "";
    return `${this.dir}/${disk}`;
  }

  /** vm::uefi: `-Hwl bootrom,FIRMWARE[,VARS]` replaces the options; null, or the exit status of a fatal error. */
  useUefi(): number | null {
    if (this.host.versionBsd < 1002509) {
      this.log("fatal; uefi guests can only be run on FreeBSD 10.3 or newer");
      return 15;
    }
    const fw = "/usr/local/share/uefi-firmware";
    let bootrom = { "uefi-devel": `${fw}/BHYVE_UEFI_CODE-devel.fd`, "uefi-csm": `${fw}/BHYVE_UEFI_CSM.fd`, "uefi-custom": `${this.host.vmDir}/.config/BHYVE_UEFI.fd` }[this.loader] ?? `${fw}/BHYVE_UEFI.fd`;
    if (!existsSync(at(this.host.root, bootrom))) {
      this.log(`fatal; unable to locate firmware ${bootrom}`);
      return 15;
    }
    if (this.yes("uefi_vars")) {
      if (!existsSync(this.at("uefi-vars.fd"))) {
        if (!existsSync(at(this.host.root, `${fw}/BHYVE_UEFI_VARS.fd`))) {
          this.log("fatal; unable to locate UEFI vars database or template");
          return 15;
        }
        copyFileSync(at(this.host.root, `${fw}/BHYVE_UEFI_VARS.fd`), this.at("uefi-vars.fd"));
      }
      bootrom = `${bootrom},${this.dir}/uefi-vars.fd`;
    }
    this.opts = `-Hwl bootrom,${bootrom}`;
    this.uefi = true;
    return null;
  }

  /** util::check_bhyve_iommu: a DMAR table (acpidump -t), or hw.vmm.amdvi.enable: 1. */
  iommu(): boolean {
    if (this.host.noHostChecks) return true;
    const m = readMachine(this.host.root);
    return machineProfile(m).acpiTables.includes("DMAR") || (m.vmmLoaded && amdviEnabled(m) === 1);
  }

  /** vm::bhyve_device_comports: `-l comX,/dev/nmdm-NAME.NA` per port, and the console file. */
  deviceComports(): void {
    rmSync(this.at("console"), { force: true });
    let num = 1;
    for (const port of words(this.get("comports", "com1"))) {
      const portName = `/dev/nmdm-${this.name}.${num}`;
      if (num === 1) this.com = `${portName}A`;
      appendFileSync(this.at("console"), `${port}=${portName}B\n`, { mode: FILE_MODE });
      this.comstring = `${this.comstring}${this.comstring ? " " : ""}-l ${port},${portName}A`;
      num++;
    }
  }

  /** vm::bhyve_device_basic: hostbridge (or none) and lpc, each on its slot alone. */
  deviceBasic(): void {
    const hb = this.get("hostbridge", "standard");
    const slot = this.get("hostbridge_slot", "0");
    this.devices = hb.startsWith("no") ? "" : hb === "amd" ? `-s ${slot},amd_hostbridge` : `-s ${slot},hostbridge`;
    this.devices = `${this.devices}${this.devices ? " " : ""}-s ${this.get("lpc_slot", "31")},lpc`;
  }

  /** vm::bhyve_device_disks: from disk_slot_start, functions of one slot (a slot each with UEFI); ahci_device_limit packs ahci disks. */
  deviceDisks(): void {
    const multi = this.get("ahci_device_limit");
    const limit = /^\d+$/.test(multi) && Number(multi) > 1 && Number(multi) <= 32 ? Number(multi) : 1;
    let slot = Number(this.get("disk_slot_start", "4"));
    let func = 0;
    let ahci = "";
    let ahciNum = 0;
    for (let num = 0; ; num++) {
      const disk = this.get(`disk${num}_name`);
      const type = this.get(`disk${num}_type`);
      if (!disk || !type) break;
      const dev = this.get(`disk${num}_dev`);
      const opts = this.get(`disk${num}_opts`);
      const forced = this.get(`disk${num}_slot`);
      if (forced) {
        func = 0;
        slot = Number(forced);
      } else if (func >= 8) {
        func = 0;
        slot++;
      }
      const path = this.diskPath(disk, dev);
      let added = false;
      if (limit > 1 && type.split("-")[0] === "ahci") {
        if (type === "ahci-cd" || type === "ahci-hd") {
          ahci += `,${type === "ahci-cd" ? "cd" : "hd"}:${path}${opts ? `,${opts}` : ""}`;
          ahciNum++;
          if (ahciNum >= limit) {
            this.devices += ` -s ${slot}:${func},ahci${ahci}`;
            ahci = "";
            ahciNum = 0;
            added = true;
          }
        }
      } else {
        this.devices += ` -s ${slot}:${func},${type},${path}${opts ? `,${opts}` : ""}`;
        added = true;
      }
      if (added) {
        if (this.uefi) slot++;
        else func++;
      }
    }
    if (ahci) this.devices += ` -s ${slot}:${func},ahci${ahci}`;
  }

  /** vm::generate_static_mac: 58:9c:fc:0X:XX:XX from md5(NAME:N:EPOCH:I), logged and written to the conf. */
  generateMac(num: number): string {
    const base = `${this.name}:${num}:${Math.floor(Date.now() / 1000)}`;
    let part = "0:00:00";
    let key = "";
    for (let i = 0; part === "0:00:00"; i++) {
      key = `${base}:${i}`;
      const h = md5(key);
      part = `${h[0]}:${h.slice(1, 3)}:${h.slice(3, 5)}`;
    }
    const mac = `58:9c:fc:0${part}`;
    this.log(`generated static mac ${mac} (based on '${key}')`);
    this.set(`network${num}_mac`, mac);
    return mac;
  }

  /** vm::bhyve_device_networking with switch::provision for standard switches: a tap per NIC, on slot network_slot_start. */
  deviceNetworking(): void {
    const root = this.host.root;
    let slot = this.get("network_slot_start", "15");
    let func = 0;
    for (let num = 0; ; num++) {
      const emulation = this.get(`network${num}_type`);
      if (!emulation) break;
      const forced = this.get(`network${num}_slot`);
      if (forced) {
        slot = forced;
        func = 0;
      } else if (func >= 8) {
        // vm-bhyve bumps a variable of the disks' loop here, not the network slot: a ninth NIC collides.
        func = 0;
      }
      const sw = this.get(`network${num}_switch`);
      const mac = this.get(`network${num}_mac`) || this.generateMac(num);
      const custom = this.get(`network${num}_device`);
      const iname = this.get(`network${num}_name`);
      const tap = custom || ifconfig(root, "tap", ["create", ...(iname ? ["name", iname] : [])]).out.trim();
      if (!tap) continue;
      this.log(`initialising network device ${tap}`);
      ifconfig(root, tap, ["descr", `vmnet/${this.name}/${num}/${sw || "custom"}`, "group", "vm-port"]);
      if (sw) {
        const sid = switchId(this.host, sw);
        const member = this.yes(`network${num}_span`) ? "span" : "addm";
        if (sid) {
          const mtu = clonedIfaces(readMachine(root))[sid]?.mtu ?? 1500;
          if (mtu !== 1500) {
            this.log(`setting mtu of ${tap} to ${mtu}`);
            ifconfig(root, tap, ["mtu", String(mtu)]);
          }
          this.log(`adding ${tap} -> ${sid} (${sw} ${member})`);
          if (ifconfig(root, sid, [member, tap]).status !== 0) this.log(`failed to add ${tap} to ${sid}`);
          this.log(`bring up ${tap} -> ${sid} (${sw} ${member})`);
          if (ifconfig(root, tap, ["up"]).status !== 0) this.log(`failed to bring up ${tap} in ${sid}`);
          if (vmBhyveYes(coreConfig(this.host).get(`private_${sw}`))) ifconfig(root, sid, ["private", tap]);
        } else {
          this.log(`failed to find virtual switch '${sw}'`);
        }
      }
      this.devices += ` -s ${slot}:${func},${emulation},${tap}${mac ? `,mac=${mac}` : ""}`;
      func++;
      if (!custom) this.taplist.push(tap);
    }
  }

  /** vm::bhyve_device_passthru: B/S/F entries packed by host bus from passthru_slot_start, or at a forced SLOT:FUNC; any adds -S. */
  devicePassthru(): void {
    let slot = Number(this.get("passthru_slot_start", "20"));
    let func = 0;
    let lastBus: string | null = null;
    let num = 0;
    for (; ; num++) {
      const dev = this.get(`passthru${num}`);
      if (!dev) break;
      if (dev.includes("=")) {
        this.devices += ` -s ${dev.slice(dev.lastIndexOf("=") + 1)},passthru,${dev.slice(0, dev.indexOf("="))}`;
        continue;
      }
      const bus = dev.split("/")[0]!;
      if (lastBus !== null && lastBus !== bus) {
        slot++;
        func = 0;
      }
      this.devices += ` -s ${slot}:${func},passthru,${dev}`;
      lastBus = bus;
      func++;
    }
    if (num >= 1 && this.host.versionBsd >= 1003000) {
      this.opts += " -S";
      this.wiredmem = true;
    }
  }

  /** vm::bhyve_device_fbuf: UEFI guests with graphics=yes (FreeBSD 11+); a free VNC port from 5900 when none is set. */
  async deviceFbuf(): Promise<void> {
    if (!this.uefi || !this.yes("graphics")) return;
    if (this.host.versionBsd < 1100000) {
      this.log("warning; UEFI graphics is only available in FreeBSD 11 and newer");
      return;
    }
    let port = this.get("graphics_port");
    const listen = this.get("graphics_listen") || "0.0.0.0";
    const res = this.get("graphics_res");
    const vga = this.get("graphics_vga");
    const pass = this.get("vnc_password");
    let wait = this.get("graphics_wait", "auto");
    // auto waits only when installing, which the sandbox does not simulate.
    if (wait === "auto") wait = "no";
    if (!port) {
      const found = await freePort(5900);
      if (found === null) {
        this.log("warning; unable to allocate a network port for graphics/vnc");
        return;
      }
      port = String(found);
      this.log(`dynamically allocated port ${port} for vnc connections`);
    }
    let fbuf = `tcp=${listen}:${port}`;
    if (res) fbuf += `,w=${res.split("x")[0]},h=${res.split("x").pop()}`;
    if (vga) fbuf += `,vga=${vga}`;
    if (pass) fbuf += `,password=${pass}`;
    if (vmBhyveYes(wait)) fbuf += ",wait";
    appendFileSync(this.at("console"), `vnc=${listen}:${port}\n`, { mode: FILE_MODE });
    this.devices += ` -s ${this.get("fbuf_slot", "30")}:0,fbuf,${fbuf}`;
  }

  /** The devices after networking, in vm::run's order: random, passthru, framebuffer, xhci tablet, sound, virtio consoles. */
  async deviceRest(): Promise<void> {
    if (this.yes("virt_random")) this.devices += ` -s ${this.get("virt_random_slot", "26")}:0,virtio-rnd`;
    this.devicePassthru();
    await this.deviceFbuf();
    if (this.host.versionBsd >= 1100000 && this.yes("xhci_mouse")) this.devices += ` -s ${this.get("xhci_slot", "29")}:0,xhci,tablet`;
    if (this.yes("sound")) {
      const rec = this.get("sound_rec");
      this.devices += ` -s ${this.get("sound_slot", "28")}:0,hda,play=${this.get("sound_play", "/dev/dsp0")}${rec ? `,rec=${rec}` : ""}`;
    }
    if (this.host.versionBsd >= 1102000 && this.get("virt_console0")) {
      let ports = "";
      for (let n = 0; n < 16; n++) {
        let c = this.get(`virt_console${n}`);
        if (!c) break;
        if (/^(yes|on|1)$/i.test(c)) c = String(n);
        ports += `,${c}=${this.dir}/vtcon.${c}`;
      }
      this.devices += ` -s ${this.get("virt_console_slot", "27")}:0,virtio-console${ports}`;
    }
  }
}

/** A TCP port from `start` that nothing listens on (vm::find_available_net_port, up to 200 ports), tried on loopback. */
async function freePort(start: number): Promise<number | null> {
  for (let port = start; port < start + 200; port++) {
    const free = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once("error", () => res(false));
      s.listen({ host: "127.0.0.1", port, exclusive: true }, () => s.close(() => res(true)));
    });
    if (free) return port;
  }
  return null;
}

/** Runs a sandbox tool to its end, output discarded; resolves with its exit status as sh's $? has it. */
function runTool(root: string, tool: keyof typeof TOOL_PATHS, args: string[]): Promise<number> {
  return new Promise((res) => {
    const child = execFile(join(root, TOOL_PATHS[tool]), args, { timeout: 60_000 }, () => {});
    child.on("error", () => res(127));
    child.on("exit", (code, signal) => res(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
  });
}

/** Changes this runner's entry in the machine state. */
function updateRunner(root: string, change: (r: MachineVmRunner) => void): void {
  updateMachine(root, (m) => {
    const r = m.vmRunners?.find((x) => x.pid === process.pid);
    if (r) change(r);
  });
}

/**
 * `vm _run NAME` (vm::run): the supervisor, run in its own process (sandbox-tool.ts
 * `--vm-bhyve-run ROOT NAME`). Resolves with its exit status: bhyve's last one, 5 when the guest
 * is missing, 10 when it appears to run, 15 for a configuration or firmware error.
 */
export async function vmBhyveRun(root: string, name: string): Promise<number> {
  updateMachine(root, (m) => {
    // Entries of runners that are gone are dropped as new ones come.
    m.vmRunners = [...liveRunners(m), { pid: process.pid, ppid: process.ppid, vm: name, startedAt: new Date().toISOString(), bhyvePid: null, argv: null, run: 0 }];
  });
  try {
    return await runGuest(root, name);
  } finally {
    updateMachine(root, (m) => {
      m.vmRunners = (m.vmRunners ?? []).filter((r) => r.pid !== process.pid);
    });
  }
}

async function runGuest(root: string, name: string): Promise<number> {
  let host: VmHost;
  try {
    host = vmBase(root);
  } catch {
    // util::err: its message goes to the runner's stderr, which `vm start` sent to /dev/null.
    return 1;
  }
  if (!existsSync(at(root, `${guestDir(host, name)}/${name}.conf`))) return 5;
  if (confirmStopped(host, name, true) !== 0) return 10;
  const run = new VmRun(host, name);
  run.memory = run.get("memory");
  run.loader = run.get("loader");
  const bootdiskName = run.get("disk0_name");
  const bootdiskDev = run.get("disk0_dev", "file");
  const hostbridge = run.get("hostbridge", "standard");
  const comports = run.get("comports", "com1");
  let uuid = run.get("uuid");
  const debug = run.get("debug", "no");
  const bhyveOptions = run.get("bhyve_options");
  if (!uuid) {
    uuid = randomUUID();
    run.set("uuid", uuid);
  }
  // vm::__cpu: the count and any topology keys; without a count, util::err (exit 1, nothing logged).
  let cpu = run.get("cpu");
  if (!cpu) return 1;
  for (const k of ["sockets", "cores", "threads"]) if (run.get(`cpu_${k}`)) cpu += `,${k}=${run.get(`cpu_${k}`)}`;
  rotateLog(run.at("vm-bhyve.log"));
  run.log("initialising", ` [loader: ${run.loader}]`, ` [cpu: ${cpu}]`, ` [memory: ${run.memory}]`, ` [hostbridge: ${hostbridge}]`, ` [com ports: ${comports}]`,
    ` [uuid: ${uuid}]`, ` [debug mode: ${debug}]`, ` [primary disk: ${bootdiskName}]`, ` [primary disk dev: ${bootdiskDev}]`);
  if (!run.loader || !cpu || !run.memory) {
    run.log("fatal; unable to start - missing required configuration");
    return 15;
  }
  if (host.noUg) {
    if (run.loader !== "bhyveload") {
      run.log("fatal; unable to start - no unrestricted guest support");
      return 15;
    }
    if (cpu !== "1") {
      cpu = "1";
      run.log("warning; no unrestricted guest support. reducing vcpu count to 1");
    }
  }
  // NEW vm-run reads ignore_msr; vm.8 and config.sample document ignore_bad_msr, which it does not read.
  if (run.yes("ignore_msr")) run.opts += "w";
  if (run.loader.replace(/-[^-]*$/, "") === "uefi") {
    const fatal = run.useUefi();
    if (fatal !== null) return fatal;
  }
  if (bhyveOptions) run.opts += ` ${bhyveOptions}`;
  if (run.get("passthru0") && !run.iommu()) {
    run.log("fatal; pci passthrough not supported on this system (no VT-d or amdvi)");
    return 15;
  }
  if (run.yes("wired_memory")) {
    run.wiredmem = true;
    run.opts += " -S";
  }
  run.opts = `-c ${cpu} -m ${run.memory} ${run.opts}`;
  if (uuid) run.opts += ` -U ${uuid}`;
  if (run.yes("utctime", "yes")) {
    if (host.versionBsd >= 1002000) run.opts += " -u";
    else run.log("warning; utc time requested but not available pre FreeBSD 10.2");
  }
  if (vmBhyveYes(debug)) run.logpath = `${run.dir}/bhyve.log`;
  if (bootdiskName) run.bootdisk = run.diskPath(bootdiskName, bootdiskDev);

  run.deviceComports();
  run.deviceBasic();
  run.deviceDisks();
  run.deviceNetworking();
  await run.deviceRest();

  // vm::lock: the host's name, so that another host sharing the storage sees who runs it.
  writeFileSync(run.at("run.lock"), `${host.hostname}\n`, { mode: FILE_MODE });
  run.log("booting");

  let exit = 0;
  for (let n = 1; ; n++) {
    if (existsSync(at(root, `/dev/vmm/${name}`)) && !run.uefi) {
      if ((await runTool(root, "bhyvectl", [`--vm=${name}`, "--destroy"])) !== 0) {
        run.log("fatal; failed to destroy existing vmm device");
        exit = 15;
        break;
      }
      await new Promise((res) => setTimeout(res, 1000));
    }
    // null.iso for a plain uefi guest that asks for it (not an install: the sandbox has none).
    if (run.loader === "uefi" && run.yes("nulliso_fix")) run.isoDev = `-s ${run.get("install_slot", "3")}:0,ahci-cd,${host.vmDir}/.config/null.iso`;
    if (!run.uefi) {
      exit = await loadGuest(run);
      if (exit !== 0) {
        run.log(`fatal; loader returned error ${exit}`);
        break;
      }
    }
    run.log(` [bhyve options: ${run.opts}]`, ` [bhyve devices: ${run.devices}]`, ` [bhyve console: ${run.comstring}]`);
    if (run.isoDev) run.log(` [bhyve iso device: ${run.isoDev}]`);
    run.log(`starting bhyve (run ${n})`);
    const argv = [...words(run.opts), ...words(run.devices), ...words(run.isoDev), ...words(run.comstring), name];
    exit = await runBhyve(root, run, argv, n);
    run.log(`bhyve exited with status ${exit}`);
    for (const f of readdirSync(at(root, run.dir))) if (f.startsWith("vtcon.")) rmSync(run.at(f), { force: true });
    if (handleExit(run, exit) !== "restart") break;
    run.log("restarting");
  }
  for (const tap of run.taplist) {
    run.log(`destroying network device ${tap}`);
    ifconfig(root, tap, ["destroy"]);
  }
  run.log("stopped");
  if (existsSync(at(root, `/dev/vmm/${name}`))) await runTool(root, "bhyvectl", ["--destroy", `--vm=${name}`]);
  // vm::unlock
  rmSync(run.at("run.lock"), { force: true });
  rmSync(run.at("console"), { force: true });
  return exit;
}

/** guest::load for bhyveload (grub-bhyve is not on the sandbox host): the command is logged, then run; its exit status. */
async function loadGuest(run: VmRun): Promise<number> {
  if (!run.bootdisk) {
    run.log("fatal; non-uefi loaders require a boot disk device");
    return 15;
  }
  if (run.loader !== "bhyveload") {
    run.log(`unsupported loader - '${run.loader}'`);
    return 15;
  }
  let args = `-c ${run.com}`;
  if (run.wiredmem) args += " -S";
  args += ` -m ${run.memory} -e autoboot_delay=${run.get("loader_timeout", "3")}`;
  const bsdLoader = run.get("bhyveload_loader");
  if (bsdLoader) args += ` -l ${bsdLoader}`;
  args += ` -d ${run.bootdisk}`;
  run.log(`bhyveload ${args} ${run.name}`);
  return runTool(run.host.root, "bhyveload", [...words(args), run.name]);
}

/** Runs bhyve (the sandbox's, at its PATH place) as this process's child and waits for it; its exit status as sh's $? has it. */
function runBhyve(root: string, run: VmRun, argv: string[], n: number): Promise<number> {
  // `2> "$_logpath"`: stderr to bhyve.log (truncated each run) with debug=yes, else /dev/null; stdout is the runner's, /dev/null.
  const errFd = run.logpath === "/dev/null" ? null : openSync(at(root, run.logpath), "w");
  return new Promise((res) => {
    const child = spawn(join(root, TOOL_PATHS.bhyve), argv, { stdio: ["ignore", "ignore", errFd ?? "ignore"] });
    if (errFd !== null) closeSync(errFd);
    child.on("error", () => res(127));
    if (child.pid !== undefined) {
      const pid = child.pid;
      updateRunner(root, (r) => {
        r.bhyvePid = pid;
        r.argv = ["bhyve", ...argv];
        r.run = n;
      });
    }
    child.on("exit", (code, signal) => {
      updateRunner(root, (r) => {
        r.bhyvePid = null;
      });
      res(code ?? 128 + (signal ? osConstants.signals[signal] : 0));
    });
  });
}

/** vm::handle_exit: 0 → on_restart (restart); 1, 2 → restart when NAME/restart exists (consumed), else shutdown; other → on_fault (shutdown). */
function handleExit(run: VmRun, code: number): string {
  if (code === 0) return run.get("on_restart", "restart");
  if (code === 1 || code === 2) {
    if (existsSync(run.at("restart"))) {
      rmSync(run.at("restart"), { force: true });
      return "restart";
    }
    return "shutdown";
  }
  return run.get("on_fault", "shutdown");
}

// ---------------------------------------------------------------------------------------------
// vm stop

/**
 * `vm stop NAME` (core::stop): needs /dev/vmm/NAME; SIGTERM to the process titled `bhyve: NAME`
 * (an ACPI power button press), a second one a second later; then waits for the guest's runner to
 * end (for the bhyve to end when it has no runner).
 */
export async function vmBhyveStop(dir: string, name: string, opts: VmBhyveCommandOptions = {}): Promise<void> {
  const root = sandboxRoot(dir);
  const out = opts.out ?? (() => {});
  vmBase(root);
  if (!existsSync(at(root, `/dev/vmm/${name}`))) throw vmError(`${VM}: WARNING: ${name} doesn't appear to be a running virtual machine`, "E_NOT_RUNNING");
  const m = readMachine(root);
  const vm = m.vms[name];
  const pid = vm ? runningPid(vm) : null;
  if (pid === null) throw vmError(`${VM}: WARNING: unable to locate process id for ${name}`, "E_NOT_RUNNING");
  const runner = liveRunners(m).find((r) => r.vm === name)?.pid ?? null;
  out(`Sending ACPI shutdown to ${name}`);
  const term = (): void => {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // it exited meanwhile
    }
  };
  term();
  await new Promise((res) => setTimeout(res, 1000));
  term();
  const waitFor = runner ?? pid;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (processAlive(waitFor) && !gone(root, waitFor, runner !== null)) {
    if (Date.now() > deadline) throw vmError(`vm stop ${name}: pid ${waitFor} did not end within ${timeoutMs} ms`, "E_STUCK");
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** A runner is done once it has left the machine state (it may linger as a zombie of whoever started it); a bhyve once it is no longer recorded as running. */
function gone(root: string, pid: number, isRunner: boolean): boolean {
  const m = readMachine(root);
  return isRunner ? !(m.vmRunners ?? []).some((r) => r.pid === pid) : !Object.values(m.vms).some((v) => v.process?.pid === pid);
}
