/** Sandbox hosts for tests: each in its own temporary directory, destroyed (processes by PID) afterwards. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandbox, defaultToolScript, destroySandbox } from "../../sandbox/host.js";
import { startToolServer, type ToolServer } from "../../sandbox/tool-server.js";
import { readMachine, type MachineState } from "../../sandbox/machine.js";
import { TOOL_PATHS, type ToolName } from "../../sandbox/tool-paths.js";
import { until } from "./wait.js";

/** What a tool run printed and returned. */
export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A sandbox host made for one test. */
export class TestSandbox {
  readonly root: string;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  private tools: ToolServer | undefined;

  constructor(profile: string) {
    const parent = mkdtempSync(join(tmpdir(), "cdktf-bhyve-sandbox-"));
    this.root = join(parent, "host");
    createSandbox(this.root, profile);
  }

  /**
   * Starts a tool server for this host (sandbox/tool-server.ts): its tools then cost a round trip
   * instead of a node start-up each. Stopped by PID in {@link destroy}.
   */
  async serveTools(): Promise<void> {
    this.tools ??= await startToolServer([this.root], process.execPath, defaultToolScript());
  }

  /** The tool server's pid, when one runs. */
  get toolServerPid(): number | undefined {
    return this.tools?.pid;
  }

  /** Runs a tool to completion (argv array, no shell). */
  run(tool: ToolName, args: string[]): ToolRun {
    const r = spawnSync(join(this.root, TOOL_PATHS[tool]), args, { encoding: "utf8", timeout: 20_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts a tool that keeps running (bhyve); resolves once it has started; `exit` resolves with its status. */
  start(tool: ToolName, args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> } {
    const child = spawn(join(this.root, TOOL_PATHS[tool]), args, { stdio: ["ignore", "ignore", "pipe"] });
    this.children.add(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on("exit", (code) => {
        this.children.delete(child);
        resolve({ code, stderr });
      }),
    );
    return { child, exit };
  }

  /** Waits until the VM has a running bhyve recorded (or the deadline passes). */
  waitRunning(name: string, timeoutMs = 60_000): Promise<void> {
    return until(() => !!this.machine().vms[name]?.process, `guest ${name} to start`, timeoutMs);
  }

  machine(): MachineState {
    return readMachine(this.root);
  }

  /** Stops what the test started, by PID, and removes the tree. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) {
      try {
        if (c.pid) process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      await destroySandbox(this.root);
    } finally {
      await this.tools?.stop();
    }
    rmSync(join(this.root, ".."), { recursive: true, force: true });
  }
}

/** The UEFI firmware path of every sandbox host (the edk2-bhyve package's). */
export const FW = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";
