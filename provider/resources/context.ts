/**
 * What resources share in one provider process: the provider configuration, the pool of agent
 * connections (one per host), host facts fetched once per host, and the mapping of agent errors to
 * diagnostics that name the attribute at fault.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { AGENT_VERSION } from "../../agent/version.js";
import { distFile } from "../../agent/package-files.js";
import { AgentCallError, AgentPool, type AgentConnection, type ClientOptions } from "../ssh/agent-client.js";
import { changesHost, type ChangeResult, type MethodName, type ParamsOf, type ResultOf } from "../../agent/rpc/protocol.js";
import type { HostFacts } from "../../agent/host/facts.js";
import { DiagnosticError, type Diagnostic, type ObjectValue } from "../plugin/types.js";
import { isUnknown, type Value } from "../plugin/values.js";

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

/** The agent bundle that comes with this provider: beside the provider's bundle (dist/), or dist/ of the repository when run from source. */
export function agentBundlePath(): string {
  return distFile("bhyve-agent.mjs");
}

/** Compares dotted version numbers (pre-release suffixes ignored): negative when a is older. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[-+]/)[0]!.split(".").map((x) => Number(x) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The shared provider state. */
export class ProviderContext {
  private pool: AgentPool | null = null;
  /** Install this provider's agent on hosts that run an older one (agent_upgrade). */
  private upgrade = false;
  /** Per host: the agent version check, done once per process before the first call. */
  private readonly checked = new Map<string, Promise<void>>();
  /** Per host: what the version check has to say, handed out once. */
  private readonly notices = new Map<string, Diagnostic>();
  private readonly facts = new Map<string, Promise<HostFacts>>();
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
    this.upgrade = config.agent_upgrade === true;
    this.facts.clear();
    this.checked.clear();
    return diags;
  }

  /** Calls the agent on a host; a method that changes the host (protocol.ts) makes its cached facts stale. */
  async call<M extends MethodName>(address: string, hostKey: string, method: M, params?: ParamsOf<M>): Promise<ResultOf<M>> {
    if (!this.pool) throw new DiagnosticError("Provider not configured", "the bhyve provider was used before its configuration was applied");
    try {
      const result = await (await this.agent(address, hostKey)).call(method, params);
      if (changesHost(method)) this.facts.delete(address);
      return result;
    } catch (err) {
      throw toDiagnostic(err, address);
    }
  }

  /** The host's connection, after the agent's version was checked (and, when allowed, upgraded). */
  private async agent(address: string, hostKey: string): Promise<AgentConnection> {
    const conn = this.pool!.get(address, hostKey);
    let check = this.checked.get(address);
    if (!check) {
      check = this.checkAgent(address, conn);
      this.checked.set(address, check);
      check.catch(() => this.checked.delete(address));
    }
    await check;
    return conn;
  }

  private async checkAgent(address: string, conn: AgentConnection): Promise<void> {
    const hello = await conn.call("agent.hello");
    if (compareVersions(hello.version, AGENT_VERSION) >= 0) return;
    if (!this.upgrade) {
      this.notices.set(address, { severity: "warning", summary: `Older bhyve-agent on ${address}`, detail: `the host runs bhyve-agent ${hello.version}; this provider comes with ${AGENT_VERSION}. Set agent_upgrade = true in the provider configuration to install it over the agent protocol (the previous version is kept for bhyve-agent rollback), or run cdktf-bhyve bootstrap again.` });
      return;
    }
    const path = agentBundlePath();
    if (!existsSync(path)) throw new DiagnosticError(`Cannot upgrade the agent on ${address}`, `the agent bundle ${path} that comes with this provider is missing`);
    const bundle = readFileSync(path);
    const r = await conn.call("agent.upgrade", { bundle: bundle.toString("base64"), sha256: createHash("sha256").update(bundle).digest("hex"), version: AGENT_VERSION });
    // The running agent process is the old one; the next call starts a session with the new one.
    conn.close();
    this.notices.set(address, { severity: "warning", summary: `Upgraded bhyve-agent on ${address}`, detail: `from ${hello.version} to ${r.installed}; ${r.previous ?? "the old version"} is kept for bhyve-agent rollback. Running guests were not touched.` });
  }

  /** What the agent version check had to say about a host (once per process). */
  takeNotices(address: string): Diagnostic[] {
    const n = this.notices.get(address);
    if (!n) return [];
    this.notices.delete(address);
    return [n];
  }

  /** Host facts, fetched once per host per provider process (until a change on that host). */
  hostFacts(address: string, hostKey: string): Promise<HostFacts> {
    let f = this.facts.get(address);
    if (!f) {
      f = this.call(address, hostKey, "host.facts");
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
      E_CLOSED: "Connection to the host closed by the provider",
      E_PROTOCOL: "The agent broke the protocol",
      E_SPEC_INVALID: "Invalid configuration for this host",
      E_LOCKED: "Another change is running on the host",
      E_POLICY: "Refused by the host's policy",
      E_CONFIG: "The host's bhyve-agent.conf is invalid",
    };
    const detail = err.problems?.length ? err.problems.map((p) => `${p.path}: ${p.message}`).join("\n") : err.message;
    const attr = first && mapPath ? mapPath(first.path) : undefined;
    return new DiagnosticError(`${summary[err.code] ?? "The bhyve agent refused the change"} (${address})`, detail, attr);
  }
  return err as Error;
}

/** The model's problems with a configuration as error diagnostics, each on the attribute its path names. */
export function problemDiagnostics(problems: ReadonlyArray<{ readonly path: string; readonly message: string }>, summary: string, mapPath: PathMapper): Diagnostic[] {
  return problems.map((p) => {
    const attribute = mapPath(p.path);
    return { severity: "error" as const, summary, detail: `${p.path}: ${p.message}`, ...(attribute ? { attribute } : {}) };
  });
}

/** Diagnostics for an agent result: refusals are errors, pending items and warnings are warnings. */
export function resultDiagnostics(r: ChangeResult, address: string, concerns: (what: string) => boolean): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const x of r.refused.filter((i) => concerns(i.what))) diags.push({ severity: "error", summary: `${x.what} on ${address}: refused`, detail: x.detail });
  for (const x of r.pending.filter((i) => concerns(i.what))) diags.push({ severity: "warning", summary: `${x.what} on ${address}: waits for a reboot`, detail: `${x.detail}; reboot the host, then apply again` });
  for (const w of r.warnings) diags.push({ severity: "warning", summary: `loader.conf on ${address}`, detail: w });
  return diags;
}
