/** A sandbox host with the agent pointed at it, for agent tests. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { HostPaths } from "../../agent/host/paths.js";
import type { ConvergeResult } from "../../agent/engine/converge.js";
import { applyDocument, decodeDesired } from "../../agent/engine/service.js";
import { runBin, type RunResult } from "./cli.js";
import { TestSandbox } from "./sandbox.js";

/** Monitor timings short enough for tests. */
export const FAST_CONFIG = `monitor:
  stop_timeout_ms: 500
  kill_timeout_ms: 500
  helper_timeout_ms: 5000
  backoff_initial_ms: 20
  backoff_max_ms: 100
  crash_limit: 3
  crash_window_s: 60
`;

/** A sandbox host and the agent's view of it. */
export class AgentHost extends TestSandbox {
  readonly paths: HostPaths;

  constructor(profile: string) {
    super(profile);
    this.paths = new HostPaths(this.root);
    mkdirSync(join(this.root, "usr/local/etc"), { recursive: true });
    writeFileSync(join(this.root, "usr/local/etc/bhyve-agent.conf"), FAST_CONFIG);
  }

  /**
   * Applies a document in this process. New guests are watched for `settleMs` after their bhyve
   * started: long enough for the sandbox's bhyve to refuse a bad configuration; a test that waits
   * for such a refusal passes a generous window (the watch ends at the failure).
   */
  async apply(doc: unknown, settleMs = 600): Promise<ConvergeResult> {
    return applyDocument(this.paths, decodeDesired(doc), { settleMs });
  }

  /** Runs the bhyve-agent command against this host. */
  cli(args: string[], input?: string): RunResult {
    return runBin("bhyve-agent", [...args, "--root", this.root], input);
  }
}

/**
 * Sandbox hosts made on demand inside a describe block and destroyed (processes by PID) after it:
 * `const host = agentHosts();` then `host("intel-vtd")` in each test. Call it at describe time.
 */
export function agentHosts(prepare?: (h: AgentHost) => void): (profile: string) => AgentHost {
  const hosts: AgentHost[] = [];
  after(async () => {
    for (const h of hosts) await h.destroy();
  });
  return (profile) => {
    const h = new AgentHost(profile);
    hosts.push(h);
    prepare?.(h);
    return h;
  };
}

/** The UEFI firmware path of every sandbox host, and the polling wait: here too for the agent tests. */
export { FW } from "./sandbox.js";
export { until } from "./wait.js";
