/**
 * The agent's own configuration on the host: /usr/local/etc/bhyve-agent.conf under the agent root
 * (YAML), owned by root and never written through the agent protocol. It tunes the guest monitors'
 * timings and holds the host policy (agent/model/policy.ts); absent keys keep their defaults. The
 * file is refused unless it is owned by root (or by the user the agent runs as, in tests) and
 * writable by its owner only.
 *
 *   monitor:
 *     stop_timeout_ms: 60000      # time a guest gets to power off after the ACPI power button
 *     kill_timeout_ms: 10000      # after bhyvectl --force-poweroff, before SIGKILL
 *     helper_timeout_ms: 120000   # longest bhyveload / bhyvectl run
 *     backoff_initial_ms: 1000    # first restart delay after a crash (doubles each time)
 *     backoff_max_ms: 60000
 *     crash_limit: 5              # crashes within crash_window_s that stop the guest as crashed
 *     crash_window_s: 600
 *     log_max_bytes: 1048576      # guest console log size before it is rotated
 *     start_watch_ms: 1500        # how long apply watches a guest it started for an early bhyve failure
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { decodePolicy, DEFAULT_POLICY, type Policy } from "../model/policy.js";
import { parse } from "yaml";
import { DEFAULT_MONITOR_POLICY, type MonitorPolicy } from "../guests/monitor-spec.js";
import type { HostPaths } from "./paths.js";
import { AgentError } from "../model/errors.js";

/** The agent configuration in force. */
export interface AgentConfig {
  readonly monitor: Omit<MonitorPolicy, "restart">;
  readonly policy: Policy;
}

const MONITOR_KEYS: Record<string, keyof Omit<MonitorPolicy, "restart">> = {
  stop_timeout_ms: "stopTimeoutMs",
  kill_timeout_ms: "killTimeoutMs",
  helper_timeout_ms: "helperTimeoutMs",
  backoff_initial_ms: "backoffInitialMs",
  backoff_max_ms: "backoffMaxMs",
  crash_limit: "crashLimit",
  crash_window_s: "crashWindowS",
  log_max_bytes: "logMaxBytes",
  start_watch_ms: "startWatchMs",
};

/** Path of the configuration file under the root. */
export function agentConfigPath(paths: HostPaths): string {
  return paths.at("/usr/local/etc/bhyve-agent.conf");
}

/**
 * The last configuration parsed, per file, by its text: the file is read at every call (its owner
 * and mode checked), parsed again only when the text differs (a converge asks for it once per guest;
 * a timestamp would miss an edit of the same size within its resolution). Failures are not kept.
 */
const parsed = new Map<string, { text: string; config: AgentConfig }>();

/** Reads the configuration (defaults when the file is absent). */
export function readAgentConfig(paths: HostPaths): AgentConfig {
  const file = agentConfigPath(paths);
  if (!existsSync(file)) return { monitor: DEFAULT_MONITOR_POLICY, policy: DEFAULT_POLICY };
  const st = statSync(file);
  const me = process.getuid?.() ?? 0;
  if ((st.uid !== 0 && st.uid !== me) || (st.mode & 0o022) !== 0) {
    throw new AgentError(`${file} must be owned by root and writable by root only (it holds the host policy); it is owned by uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}: chown root ${file}; chmod 644 ${file}`, "E_CONFIG");
  }
  const text = readFileSync(file, "utf8");
  const have = parsed.get(file);
  if (have?.text === text) return have.config;
  const config = parseAgentConfig(file, text);
  parsed.set(file, { text, config });
  return config;
}

function parseAgentConfig(file: string, text: string): AgentConfig {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new AgentError(`${file}: ${(err as Error).message.split("\n")[0]}`, "E_CONFIG");
  }
  if (data === null || data === undefined) return { monitor: DEFAULT_MONITOR_POLICY, policy: DEFAULT_POLICY };
  if (typeof data !== "object" || Array.isArray(data)) throw new AgentError(`${file}: expected a mapping`, "E_CONFIG");
  const monitor: Record<string, number> = { ...DEFAULT_MONITOR_POLICY };
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === "policy") continue;
    // (keys are compared as own names only: "constructor" or "__proto__" are unknown keys)
    if (key !== "monitor") throw new AgentError(`${file}: ${key}: unknown key; expected monitor or policy`, "E_CONFIG");
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AgentError(`${file}: monitor: expected a mapping`, "E_CONFIG");
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const field = Object.hasOwn(MONITOR_KEYS, k) ? MONITOR_KEYS[k] : undefined;
      if (!field) throw new AgentError(`${file}: monitor.${k}: unknown key; expected one of ${Object.keys(MONITOR_KEYS).join(", ")}`, "E_CONFIG");
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new AgentError(`${file}: monitor.${k}: expected a whole number above 0`, "E_CONFIG");
      monitor[field] = v;
    }
  }
  const policy = decodePolicy((data as Record<string, unknown>).policy);
  if (!policy.ok) throw new AgentError(`${file}: ${policy.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`, "E_CONFIG");
  return { monitor: monitor as unknown as AgentConfig["monitor"], policy: policy.policy };
}
