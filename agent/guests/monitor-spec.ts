/**
 * The spec a bhyve-monitor reads (see native/monitor/bhyve-monitor.c): NUL-separated argv files
 * for bhyve, bhyveload, the destroy and the force-poweroff commands, and monitor.conf with the
 * restart policy and where to write status, events and the guest log. Tool paths are resolved
 * under the agent root; paths inside the guest's options stay host paths (a sandbox's tools
 * resolve them under their own root).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BHYVE, renderBhyveArgv, renderBhyveloadArgv } from "../spec/render.js";
import type { Guest, RestartPolicy } from "../spec/types.js";

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
};

/** Where one guest's monitor keeps its files. */
export interface MonitorPaths {
  /** Agent root: tool paths are resolved under it. */
  readonly root: string;
  readonly specDir: string;
  readonly runDir: string;
  readonly logFile: string;
}

function argvFile(argv: readonly string[]): Buffer {
  for (const a of argv) if (a.includes("\0")) throw new Error(`argument ${JSON.stringify(a)} contains a NUL byte`);
  return Buffer.from(argv.map((a) => `${a}\0`).join(""), "utf8");
}

function rooted(root: string, path: string): string {
  return root === "/" ? path : join(root, path);
}

/** The files of a guest's monitor spec, by name. */
export function renderMonitorSpec(guest: Guest, paths: MonitorPaths, policy: MonitorPolicy): Record<string, Buffer> {
  const bhyve = renderBhyveArgv(guest);
  bhyve[0] = rooted(paths.root, BHYVE);
  const files: Record<string, Buffer> = {
    "bhyve.argv": argvFile(bhyve),
    "destroy.argv": argvFile([rooted(paths.root, BHYVECTL), "--destroy", `--vm=${guest.name}`]),
    "poweroff.argv": argvFile([rooted(paths.root, BHYVECTL), "--force-poweroff", `--vm=${guest.name}`]),
  };
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
    ["stop_timeout_ms", policy.stopTimeoutMs],
    ["kill_timeout_ms", policy.killTimeoutMs],
    ["helper_timeout_ms", policy.helperTimeoutMs],
    ["backoff_initial_ms", policy.backoffInitialMs],
    ["backoff_max_ms", policy.backoffMaxMs],
    ["crash_limit", policy.crashLimit],
    ["crash_window_s", policy.crashWindowS],
    ["log_max_bytes", policy.logMaxBytes],
  ];
  for (const [k, v] of conf) if (/[\n\0]/.test(String(v))) throw new Error(`monitor.conf ${k} contains a line break`);
  files["monitor.conf"] = Buffer.from(conf.map(([k, v]) => `${k}=${v}\n`).join(""));
  return files;
}

/** Writes the spec files, each atomically, creating the spec and run directories. */
export function writeMonitorSpec(paths: MonitorPaths, files: Record<string, Buffer>): void {
  mkdirSync(paths.specDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.runDir, { recursive: true, mode: 0o755 });
  mkdirSync(dirname(paths.logFile), { recursive: true, mode: 0o755 });
  for (const [name, data] of Object.entries(files)) {
    const tmp = join(paths.specDir, `.${name}.tmp`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, join(paths.specDir, name));
  }
}
