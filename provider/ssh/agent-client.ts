/**
 * The provider's way to a host: one SSH connection per host per provider process (ssh2), the
 * host key checked against the pinned fingerprint before authentication, one channel running the
 * agent (`bhyve-agent rpc`, or whatever the host's forced command runs), many JSON-RPC requests on
 * it, each with a deadline. A dropped connection fails the calls in flight; the next call
 * reconnects.
 */
import { createHash } from "node:crypto";
import ssh2, { type ClientChannel, type ConnectConfig } from "ssh2";

// ssh2 is CommonJS: its named exports are reached through the default export under Node's ESM.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

/** The command run on the host. Fixed: nothing from configuration goes into it. */
export const AGENT_COMMAND = "bhyve-agent rpc";
/** The agent protocol this provider speaks. */
export const AGENT_PROTOCOL = 1;

/** How to authenticate. */
export interface SshAuth {
  readonly user: string;
  readonly privateKey?: string;
  readonly agentSocket?: string;
}

/** Connection settings. */
export interface ClientOptions {
  readonly auth: SshAuth;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/** A failure talking to a host, with a stable code and a message that says what to do. */
export class AgentCallError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly problems?: Array<{ path: string; message: string }>,
  ) {
    super(message);
    this.name = "AgentCallError";
  }
}

/** `SHA256:<base64>` of an SSH public key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

function keyType(blob: Buffer): string {
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString("ascii") : "unknown";
}

/** host or host:port or [v6]:port → host and port (22 by default). */
export function parseAddress(address: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : 22 };
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(address);
  if (!m) throw new AgentCallError(`"${address}" is not a host or host:port`, "E_ADDRESS");
  const port = m[2] ? Number(m[2]) : 22;
  if (port < 1 || port > 65535) throw new AgentCallError(`"${address}": port ${port} is out of range`, "E_ADDRESS");
  return { host: m[1]!, port };
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/**
 * Opens an SSH connection whose host key must match the pinned fingerprint (checked before the
 * client authenticates); failures carry a code and say what to do.
 */
export async function connectPinned(address: string, hostKey: string, opts: ClientOptions): Promise<Client> {
  const { host, port } = parseAddress(address);
  const client = new Client();
  let offered: string | null = null;
  let offeredType = "";
  const config: ConnectConfig = {
    host,
    port,
    username: opts.auth.user,
    readyTimeout: opts.connectTimeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    hostVerifier: (key: Buffer) => {
      offered = fingerprint(key);
      offeredType = keyType(key);
      return offered === hostKey;
    },
    ...(opts.auth.privateKey ? { privateKey: opts.auth.privateKey } : {}),
    ...(opts.auth.agentSocket ? { agent: opts.auth.agentSocket } : {}),
  };
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error & { level?: string }): void => {
      client.removeAllListeners("ready");
      // ssh2 may report more errors while it tears down (e.g. "Connection lost before handshake").
      client.on("error", () => {});
      client.end();
      if (offered !== null && offered !== hostKey) {
        reject(new AgentCallError(`the host key of ${address} does not match host_key: expected ${hostKey}, the host offered ${offered} (${offeredType}); if the host was reinstalled, check the new key and update host_key`, "E_HOST_KEY"));
      } else if (err.level === "client-authentication") {
        reject(new AgentCallError(`${address} refused the SSH login as ${opts.auth.user}: check ssh_user and the key (ssh_private_key, ssh_private_key_file or ssh_agent_socket)`, "E_AUTH"));
      } else if (err.level === "client-timeout") {
        reject(new AgentCallError(`${address} did not answer within ${Math.round(opts.connectTimeoutMs / 1000)} s (connect_timeout)`, "E_CONNECT_TIMEOUT"));
      } else {
        reject(new AgentCallError(`cannot connect to ${address}: ${err.message}`, "E_CONNECT"));
      }
    };
    client.once("error", fail);
    client.once("ready", () => {
      client.removeListener("error", fail);
      resolve();
    });
    client.connect(config);
  });
  return client;
}

/** One host's connection and agent channel. */
export class AgentConnection {
  private client: Client | null = null;
  private channel: ClientChannel | null = null;
  private connecting: Promise<void> | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = "";
  /** What agent.hello said on the current connection. */
  hello: { version: string; protocol: number; root: string } | null = null;
  /** Connections opened so far (the benchmarks count them). */
  connects = 0;

  constructor(
    readonly address: string,
    readonly hostKey: string,
    private readonly opts: ClientOptions,
  ) {}

  /** Calls an agent method; connects first when needed. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = this.opts.commandTimeoutMs): Promise<T> {
    await this.connect();
    return this.send<T>(method, params, timeoutMs);
  }

  private send<T>(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new AgentCallError(`not connected to ${this.address}`, "E_DISCONNECTED"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentCallError(`the agent on ${this.address} did not answer ${method} within ${Math.round(timeoutMs / 1000)} s (command_timeout)`, "E_TIMEOUT"));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      channel.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });
  }

  private connect(): Promise<void> {
    if (this.channel) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = await connectPinned(this.address, this.hostKey, this.opts);
    this.connects++;
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(AGENT_COMMAND, (err, ch) => (err ? reject(new AgentCallError(`${this.address}: cannot start the agent: ${err.message}`, "E_EXEC")) : resolve(ch)));
    });
    this.client = client;
    this.channel = channel;
    this.buffer = "";
    let stderr = "";
    channel.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    channel.on("data", (d: Buffer) => this.receive(d.toString("utf8")));
    const lost = (why: string): void => {
      if (this.channel !== channel) return;
      this.channel = null;
      this.client = null;
      this.hello = null;
      client.end();
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new AgentCallError(`the connection to ${this.address} was lost during ${p.method} (${why})${stderr.trim() ? `; the agent said: ${stderr.trim()}` : ""}; the next call reconnects`, "E_DISCONNECTED"));
        this.pending.delete(id);
      }
    };
    channel.on("close", () => lost("the agent's channel closed"));
    client.on("close", () => lost("the SSH connection closed"));
    client.on("error", (e) => lost(e.message));
    const hello = await this.send<{ version: string; protocol: number; root: string }>("agent.hello", {}, this.opts.commandTimeoutMs);
    if (hello.protocol !== AGENT_PROTOCOL) {
      this.close();
      throw new AgentCallError(`the agent on ${this.address} speaks protocol ${hello.protocol} (bhyve-agent ${hello.version}); this provider speaks protocol ${AGENT_PROTOCOL}: install the bhyve-agent that comes with this provider on the host`, "E_PROTOCOL");
    }
    this.hello = hello;
  }

  private receive(text: string): void {
    this.buffer += text;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let msg: { id?: number; result?: unknown; error?: { message: string; data?: { code?: string; problems?: Array<{ path: string; message: string }> } } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      const p = typeof msg.id === "number" ? this.pending.get(msg.id) : undefined;
      if (!p) continue;
      this.pending.delete(msg.id!);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new AgentCallError(msg.error.message, msg.error.data?.code ?? "E_AGENT", msg.error.data?.problems));
      else p.resolve(msg.result);
    }
  }

  /** Closes the connection (calls in flight fail). */
  close(): void {
    this.channel?.end();
    this.client?.end();
    this.channel = null;
    this.client = null;
  }
}

/** One connection per host per provider process. */
export class AgentPool {
  private readonly connections = new Map<string, AgentConnection>();

  constructor(private readonly opts: ClientOptions) {}

  /** The connection for a host; a different pinned key for the same address is refused. */
  get(address: string, hostKey: string): AgentConnection {
    const c = this.connections.get(address);
    if (c && c.hostKey !== hostKey) {
      throw new AgentCallError(`${address} is configured with two host keys (${c.hostKey} and ${hostKey}); use one`, "E_HOST_KEY_CONFLICT");
    }
    if (c) return c;
    const created = new AgentConnection(address, hostKey, this.opts);
    this.connections.set(address, created);
    return created;
  }

  closeAll(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
