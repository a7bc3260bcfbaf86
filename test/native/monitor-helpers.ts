/** Runs bhyve-monitor against a sandbox host: spec written by the agent's own writer, real processes. */
import { execFileSync, spawnSync, type StdioOptions } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorExecutable } from "../../agent/host/native.js";
import { DEFAULT_MONITOR_POLICY, renderMonitorSpec, writeMonitorSpec, type MonitorPaths, type MonitorPolicy } from "../../agent/guests/monitor-spec.js";
import { parseMonitorEvents, parseMonitorStatus, type MonitorEvent } from "../../agent/parse/monitor-files.js";
import { processAlive } from "../../sandbox/machine.js";
import { checkDocumentData } from "../../agent/model/validate.js";
import type { Guest } from "../../agent/model/types.js";

/** Fast timings for tests. */
export const TEST_POLICY: Omit<MonitorPolicy, "restart"> = {
  ...DEFAULT_MONITOR_POLICY,
  stopTimeoutMs: 300,
  killTimeoutMs: 300,
  helperTimeoutMs: 10_000,
  backoffInitialMs: 20,
  backoffMaxMs: 80,
  crashLimit: 3,
  crashWindowS: 60,
};

/** A guest from document data (validated as the agent would). */
export function guest(doc: Record<string, unknown>): Guest {
  // No UEFI variables file, and a UUID given: the agent makes both at a start (agent/guests/identity.ts), which these tests leave out.
  const r = checkDocumentData({ ppt: (doc.passthru as Array<{ device: string }> | undefined)?.map((p) => ({ device: p.device })) ?? [], guests: [{ uefi_vars: false, uuid: randomUUID(), ...doc }] });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.state.guests[0]!;
}

/** One monitored guest. */
export class MonitoredGuest {
  readonly paths: MonitorPaths;
  private readonly base: string;

  /** `logDir`: put the guest log in a directory of its own under the base (default: the base itself). */
  constructor(readonly root: string, readonly guest: Guest, readonly policy: MonitorPolicy, opts: { logDir?: string } = {}) {
    this.base = mkdtempSync(join(tmpdir(), `cdktf-bhyve-monitor-${guest.name}-`));
    const logFile = opts.logDir ? join(this.base, opts.logDir, "bhyve.log") : join(this.base, "bhyve.log");
    this.paths = { root, specDir: join(this.base, "spec"), runDir: join(this.base, "run"), logFile };
    writeMonitorSpec(this.paths, renderMonitorSpec(guest, this.paths, policy));
  }

  /** Starts the monitor detached (it daemonizes), with `args` (options) before the spec directory; returns its exit status and output. */
  start(opts: { args?: string[]; env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): { status: number | null; stderr: string } {
    const { args = [], ...spawnOpts } = opts;
    const r = spawnSync(monitorExecutable()!, [...args, this.paths.specDir], { encoding: "utf8", timeout: 10_000, ...spawnOpts });
    return { status: r.status, stderr: r.stderr };
  }

  /** The owner file the monitor keeps while the VM is this guest's. */
  get ownerFile(): string {
    return join(this.paths.runDir, "vm.owned");
  }

  get pid(): number | null {
    const f = join(this.paths.runDir, "monitor.pid");
    return existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : null;
  }

  status(): Record<string, string> {
    const f = join(this.paths.runDir, "status");
    return existsSync(f) ? parseMonitorStatus(readFileSync(f, "utf8")) : {};
  }

  events(): MonitorEvent[] {
    const f = join(this.paths.runDir, "events");
    return existsSync(f) ? parseMonitorEvents(readFileSync(f, "utf8")) : [];
  }

  log(): string {
    return existsSync(this.paths.logFile) ? readFileSync(this.paths.logFile, "utf8") : "";
  }

  /** Waits until `check` holds on the status, or fails with what the status and events were. */
  async waitFor(check: (s: Record<string, string>) => boolean, what: string, timeoutMs = 10_000): Promise<Record<string, string>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.status();
      if (check(s)) return s;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; status ${JSON.stringify(s)}; events:\n${this.events().map((e) => `${e.event} ${JSON.stringify(e.fields)}`).join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits until the monitor process has exited. */
  async waitExit(pid: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (processAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`monitor ${pid} did not exit`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills the monitor and its bhyve (by PID) if they still run, and removes its files. */
  cleanup(): void {
    const pid = this.pid;
    if (pid && processAlive(pid)) process.kill(pid, "SIGKILL");
    // Its bhyve outlives a killed monitor (as it would on a host); the sandbox's destroy stops it
    // too, but this does not depend on the sandbox having recorded it yet.
    const bhyve = Number(this.status().bhyve_pid);
    if (bhyve > 0 && processAlive(bhyve)) process.kill(bhyve, "SIGKILL");
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** Resident set size of a process in KiB, as ps(1) reports it (FreeBSD and Linux alike). */
export function rssKiB(pid: number): number {
  return Number(execFileSync("/bin/ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
}
