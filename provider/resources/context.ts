/**
 * What resources share in one provider process: the provider configuration, the pool of agent
 * connections (one per host), host facts fetched once per host, and the mapping of agent errors to
 * diagnostics that name the attribute at fault.
 */
import { readFileSync } from "node:fs";
import { AgentCallError, AgentPool, type ClientOptions } from "../ssh/agent-client.js";
import { DiagnosticError, type Diagnostic, type ObjectValue } from "../plugin/types.js";
import { isUnknown, type Value } from "../plugin/values.js";

/** Agent change result (see agent/engine/converge.ts). */
export interface AgentResult {
  changed: Array<{ what: string; detail: string }>;
  pending: Array<{ what: string; detail: string }>;
  refused: Array<{ what: string; detail: string }>;
  warnings: string[];
  reboot_required: boolean;
}

/** Parses "15s", "2m", "1h", "500ms" or a number of seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000));
}

/** Reads a string attribute ("" and null alike are absent). */
export function str(v: Value | undefined): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The shared provider state. */
export class ProviderContext {
  private pool: AgentPool | null = null;
  private readonly facts = new Map<string, Promise<Record<string, unknown>>>();
  hostKeys: Record<string, string> = {};

  /** Sets the provider up from its configuration (ConfigureProvider). */
  configure(config: ObjectValue): Diagnostic[] {
    const diags: Diagnostic[] = [];
    const user = str(config.ssh_user) ?? "root";
    let privateKey = str(config.ssh_private_key);
    const keyFile = str(config.ssh_private_key_file);
    if (!privateKey && keyFile) {
      try {
        privateKey = readFileSync(keyFile, "utf8");
      } catch (err) {
        diags.push({ severity: "error", summary: "Cannot read the SSH private key", detail: `${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, attribute: ["ssh_private_key_file"] });
      }
    }
    const agentSocket = str(config.ssh_agent_socket) ?? (privateKey ? undefined : process.env.SSH_AUTH_SOCK);
    if (!privateKey && !agentSocket && diags.length === 0) {
      diags.push({ severity: "error", summary: "No SSH credentials", detail: "set ssh_private_key, ssh_private_key_file or ssh_agent_socket (or run with SSH_AUTH_SOCK set)" });
    }
    const connect = parseDuration(str(config.connect_timeout) ?? "15s");
    const command = parseDuration(str(config.command_timeout) ?? "10m");
    if (connect === null) diags.push({ severity: "error", summary: "Invalid connect_timeout", detail: "write a duration such as 15s or 1m", attribute: ["connect_timeout"] });
    if (command === null) diags.push({ severity: "error", summary: "Invalid command_timeout", detail: "write a duration such as 10m", attribute: ["command_timeout"] });
    const keys = config.host_keys;
    this.hostKeys = keys && typeof keys === "object" && !Array.isArray(keys) && !isUnknown(keys) ? (keys as Record<string, string>) : {};
    if (diags.some((d) => d.severity === "error")) return diags;
    this.pool?.closeAll();
    const opts: ClientOptions = {
      auth: { user, ...(privateKey ? { privateKey } : {}), ...(agentSocket ? { agentSocket } : {}) },
      connectTimeoutMs: connect!,
      commandTimeoutMs: command!,
    };
    this.pool = new AgentPool(opts);
    this.facts.clear();
    return diags;
  }

  /** Calls the agent on a host. */
  async call<T>(address: string, hostKey: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (!this.pool) throw new DiagnosticError("Provider not configured", "the bhyve provider was used before its configuration was applied");
    try {
      const result = await this.pool.get(address, hostKey).call<T>(method, params);
      if (!method.endsWith(".get") && !method.endsWith(".facts") && !method.endsWith(".list") && method !== "host.status") this.facts.delete(address);
      return result;
    } catch (err) {
      throw toDiagnostic(err, address);
    }
  }

  /** Host facts, fetched once per host per provider process (until a change on that host). */
  hostFacts(address: string, hostKey: string): Promise<Record<string, unknown>> {
    let f = this.facts.get(address);
    if (!f) {
      f = this.call<Record<string, unknown>>(address, hostKey, "host.facts");
      this.facts.set(address, f);
      f.catch(() => this.facts.delete(address));
    }
    return f;
  }

  /** The pinned key of a host for import: the resource's own, or the provider's host_keys. */
  importKey(address: string): string {
    const key = this.hostKeys[address];
    if (!key) {
      throw new DiagnosticError("No host key for import", `import needs the host key of ${address}: add host_keys = { "${address}" = "SHA256:..." } to the provider configuration (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host prints it)`);
    }
    return key;
  }

  async stop(): Promise<void> {
    this.pool?.closeAll();
  }
}

/** Maps the attribute paths of agent problems (document paths) to resource attribute paths. */
export type PathMapper = (agentPath: string) => Array<string | number> | undefined;

/** Turns an agent or connection failure into a diagnostic. */
export function toDiagnostic(err: unknown, address: string, mapPath?: PathMapper): Error {
  if (err instanceof DiagnosticError) return err;
  if (err instanceof AgentCallError) {
    const first = err.problems?.[0];
    const summary: Record<string, string> = {
      E_HOST_KEY: "Host key mismatch",
      E_AUTH: "SSH login refused",
      E_CONNECT_TIMEOUT: "Host did not answer",
      E_CONNECT: "Cannot connect to the host",
      E_DISCONNECTED: "Connection to the host lost",
      E_TIMEOUT: "The agent did not answer in time",
      E_PROTOCOL: "Agent protocol mismatch",
      E_SPEC_INVALID: "Invalid configuration for this host",
      E_LOCKED: "Another change is running on the host",
    };
    const detail = err.problems?.length ? err.problems.map((p) => `${p.path}: ${p.message}`).join("\n") : err.message;
    const attr = first && mapPath ? mapPath(first.path) : undefined;
    return new DiagnosticError(`${summary[err.code] ?? "The bhyve agent refused the change"} (${address})`, detail, attr);
  }
  return err as Error;
}

/** Diagnostics for an agent result: refusals are errors, pending items and warnings are warnings. */
export function resultDiagnostics(r: AgentResult, address: string, concerns: (what: string) => boolean): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const x of r.refused.filter((i) => concerns(i.what))) diags.push({ severity: "error", summary: `${x.what} on ${address}: refused`, detail: x.detail });
  for (const x of r.pending.filter((i) => concerns(i.what))) diags.push({ severity: "warning", summary: `${x.what} on ${address}: waits for a reboot`, detail: `${x.detail}; reboot the host, then apply again` });
  for (const w of r.warnings) diags.push({ severity: "warning", summary: `loader.conf on ${address}`, detail: w });
  return diags;
}
