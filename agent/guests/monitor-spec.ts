/**
 * The spec a bhyve-monitor reads (see native/monitor/bhyve-monitor.c): NUL-separated argv files
 * for bhyve, bhyveload, the destroy and the force-poweroff commands, and monitor.conf with the
 * restart policy and where to write status, events and the guest log. Tool paths are resolved
 * under the agent root; paths inside the guest's options stay host paths (a sandbox's tools
 * resolve them under their own root).
 */
import { chmodSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { BHYVE, consoleDevice, renderBhyveArgv, renderBhyveloadArgv } from "../model/render.js";
import type { Guest, RestartPolicy } from "../model/types.js";

/** bhyvectl, as the monitor runs it to power off and destroy the VM. */
export const BHYVECTL = "/usr/sbin/bhyvectl";

/** Timing and limits of the restart policy. */
export interface MonitorPolicy {
  readonly restart: RestartPolicy;
  /** After SIGTERM (the ACPI power button), how long the guest gets to power off. */
  readonly stopTimeoutMs: number;
  /** After bhyvectl --force-poweroff, how long before SIGKILL. */
  readonly killTimeoutMs: number;
  /** Longest run of bhyveload or bhyvectl. */
  readonly helperTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Failures within the window that make the monitor give up as `crashed`. */
  readonly crashLimit: number;
  readonly crashWindowS: number;
  /** The guest log is rotated to `.0` at this size. */
  readonly logMaxBytes: number;
  /** How long the agent watches a guest it has just started for an early bhyve failure (not part of the monitor's own spec). */
  readonly startWatchMs: number;
}

/** Defaults: 60 s to power off, 10 s after force-poweroff, backoff 1 s doubling to 60 s, 5 failures in 10 minutes, 1 MiB log. */
export const DEFAULT_MONITOR_POLICY: Omit<MonitorPolicy, "restart"> = {
  stopTimeoutMs: 60_000,
  killTimeoutMs: 10_000,
  helperTimeoutMs: 120_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
  crashLimit: 5,
  crashWindowS: 600,
  logMaxBytes: 1024 * 1024,
  startWatchMs: 1500,
};

/**
 * The file in a guest's run directory that marks the kernel VM of the guest's name as the agent's
 * own: the monitor writes it before it first runs bhyveload or bhyve, touches (destroys, runs) a VM
 * only while it exists, and removes it once its final destroy has left no VM. A VM without it is
 * someone else's. The run directory is cleared at boot, as /dev/vmm is.
 */
export const OWNER_FILE = "vm.owned";

/** Where one guest's monitor keeps its files. */
export interface MonitorPaths {
  /** Agent root: tool paths are resolved under it. */
  readonly root: string;
  readonly specDir: string;
  readonly runDir: string;
  readonly logFile: string;
}

/** An argv file as the monitor reads it (and as it writes the argv it launched): each argument ended by a NUL. */
function argvFile(argv: readonly string[]): Buffer {
  for (const a of argv) if (a.includes("\0")) throw new Error(`argument ${JSON.stringify(a)} contains a NUL byte`);
  return Buffer.from(argv.map((a) => `${a}\0`).join(""), "utf8");
}

/** The arguments of an argv file (the inverse of the writer above). */
export function parseArgvFile(text: string): string[] {
  const parts = text.split("\0");
  parts.pop();
  return parts;
}

/** sockaddr_un's sun_path: 104 bytes on FreeBSD, 108 on Linux; the shorter one, with its NUL. */
const SUN_PATH_MAX = 104;

/** The file in a guest's log directory where its monitor keeps what the guest prints on its console. */
export const CONSOLE_LOG = "console.log";

/** Where a guest's monitor serves console attach requests. */
export function consoleSocket(paths: Pick<MonitorPaths, "runDir">): string {
  return join(paths.runDir, "console.sock");
}

function rooted(root: string, path: string): string {
  return root === "/" ? path : join(root, path);
}

/** The files of a guest's monitor spec, by name. */
export function renderMonitorSpec(guest: Guest, paths: MonitorPaths, policy: MonitorPolicy, net?: { readonly prestart: readonly string[]; readonly plans: readonly unknown[] }): Record<string, Buffer> {
  const bhyve = renderBhyveArgv(guest);
  bhyve[0] = rooted(paths.root, BHYVE);
  const files: Record<string, Buffer> = {
    "bhyve.argv": argvFile(bhyve),
    "destroy.argv": argvFile([rooted(paths.root, BHYVECTL), "--destroy", `--vm=${guest.name}`]),
    "poweroff.argv": argvFile([rooted(paths.root, BHYVECTL), "--force-poweroff", `--vm=${guest.name}`]),
  };
  // Switch NICs: before every start the monitor runs `bhyve-agent net-up`, which reads net.json.
  if (net && net.plans.length > 0) {
    files["prestart.argv"] = argvFile(net.prestart);
    files["net.json"] = Buffer.from(`${JSON.stringify(net.plans)}\n`, "utf8");
  }
  const load = renderBhyveloadArgv(guest);
  if (load) {
    load[0] = rooted(paths.root, load[0]!);
    files["bhyveload.argv"] = argvFile(load);
  }
  const conf: Array<[string, string | number]> = [
    ["name", guest.name],
    ["restart", policy.restart],
    ["run_dir", paths.runDir],
    ["log_file", paths.logFile],
    ["vm_dev", rooted(paths.root, `/dev/vmm/${guest.name}`)],
    ["owner_file", join(paths.runDir, OWNER_FILE)],
    ["stop_timeout_ms", policy.stopTimeoutMs],
    ["kill_timeout_ms", policy.killTimeoutMs],
    ["helper_timeout_ms", policy.helperTimeoutMs],
    ["backoff_initial_ms", policy.backoffInitialMs],
    ["backoff_max_ms", policy.backoffMaxMs],
    ["crash_limit", policy.crashLimit],
    ["crash_window_s", policy.crashWindowS],
    ["log_max_bytes", policy.logMaxBytes],
    // The serial console: the nmdm B side the monitor holds, its log beside the guest's, the attach
    // socket in the run directory (left out when its path is too long for a socket address: the
    // console is then logged only). Empty: no console.
    ["console_device", guest.console ? rooted(paths.root, consoleDevice(guest.name, "B")) : ""],
    ["console_log", guest.console ? join(dirname(paths.logFile), CONSOLE_LOG) : ""],
    ["console_socket", guest.console && Buffer.byteLength(consoleSocket(paths)) < SUN_PATH_MAX ? consoleSocket(paths) : ""],
    ["console_log_max", guest.console ? policy.logMaxBytes : 0],
  ];
  for (const [k, v] of conf) if (/[\n\0]/.test(String(v))) throw new Error(`monitor.conf ${k} contains a line break`);
  files["monitor.conf"] = Buffer.from(conf.map(([k, v]) => `${k}=${v}\n`).join(""));
  return files;
}

/** Makes a directory (and its parents) and gives the directory itself exactly `mode`. */
function directory(path: string, mode: number): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
}

/**
 * Replaces a file atomically: a fresh temporary file beside it (a leftover one is removed first; it
 * is created exclusively and never through a symbolic link), written, fsynced, renamed over it.
 */
export function writeFileAtomic(dir: string, name: string, data: Buffer, mode = 0o600): void {
  const tmp = join(dir, `.${name}.tmp`);
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, join(dir, name));
}

/**
 * Writes the spec files, each atomically, creating the spec directory (0700: only root reads what
 * the monitor will run), the run directory and the log directory (0750).
 */
export function writeMonitorSpec(paths: MonitorPaths, files: Record<string, Buffer>): void {
  directory(paths.specDir, 0o700);
  directory(paths.runDir, 0o750);
  directory(dirname(paths.logFile), 0o750);
  for (const [name, data] of Object.entries(files)) writeFileAtomic(paths.specDir, name, data);
}
