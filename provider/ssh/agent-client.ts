/**
 * The provider's way to a host: one SSH connection per host per provider process (ssh2), the
 * host key checked against the pinned fingerprint before authentication, one channel running the
 * agent (`bhyve-agent rpc`, or whatever the host's forced command runs), many JSON-RPC requests on
 * it, each with a deadline. A dropped connection (E_DISCONNECTED), an answer that breaks the
 * protocol (E_PROTOCOL) or close() (E_CLOSED) fails the calls in flight at once; the next call
 * reconnects.
 */
import { createHash } from "node:crypto";
import ssh2, { type ClientChannel, type ConnectConfig } from "ssh2";
import type { MethodName, ParamsOf, ResultOf } from "../../agent/rpc/protocol.js";
import { AgentError } from "../../agent/model/errors.js";
import type { Problem } from "../../agent/model/problems.js";

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
export class AgentCallError extends AgentError {
  constructor(message: string, code: string, problems?: readonly Problem[]) {
    super(message, code, problems ? { problems } : {});
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

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

/** At most this much of a line the client could not use is quoted in the error. */
const QUOTED_CHARS = 200;

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTED_CHARS ? `${text.slice(0, QUOTED_CHARS)}…` : text);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The JSON-RPC side of one agent channel: numbers the requests, writes them as lines, reads the
 * agent's newline-delimited answers from the raw byte stream (chunks may split a line or a UTF-8
 * character anywhere) and settles each call by its id, or fails it at its deadline.
 *
 * What the agent sends must be JSON-RPC answers to requests in flight: a line that is not UTF-8
 * JSON, an answer to an id this client never sent (or already settled), or an answer with neither
 * result nor error fails every call in flight with E_PROTOCOL and calls `onBroken`, so the owner
 * drops the connection. A late answer to a call that timed out is expected and ignored. An
 * `id: null` error (the agent could not read a request) fails every call in flight with the
 * agent's code. Blank lines are ignored. After {@link fail}, every call is refused.
 */
export class AgentRpc {
  private readonly pending = new Map<number, Pending>();
  /** Calls that timed out: the agent still answers them, later. */
  private readonly abandoned = new Set<number>();
  private nextId = 1;
  /** Bytes of the line not yet ended by a newline. */
  private partial: Buffer[] = [];
  private failure: ((method: string) => AgentCallError) | null = null;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(
    readonly address: string,
    private readonly write: (line: string) => void,
    private readonly onBroken: (err: AgentCallError) => void = () => {},
  ) {}

  /** Calls not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** True once the stream is given up ({@link fail}, a protocol error). */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Sends one request; settles with its answer, or fails at `timeoutMs` (E_TIMEOUT). */
  call<T>(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.failure) return Promise.reject(this.failure(method));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.abandoned.add(id);
        reject(new AgentCallError(`the agent on ${this.address} did not answer ${method} within ${Math.round(timeoutMs / 1000)} s (command_timeout)`, "E_TIMEOUT"));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      this.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });
  }

  /** Bytes from the agent's stdout, as they come. */
  receive(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0 && !this.failure; nl = chunk.indexOf(10, start)) {
      const tail = chunk.subarray(start, nl);
      const bytes = this.partial.length ? Buffer.concat([...this.partial, tail]) : tail;
      this.partial = [];
      start = nl + 1;
      this.line(bytes);
    }
    if (this.failure) this.partial = [];
    else if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  /** Fails every call in flight with the error `make` builds for its method, and every later call. */
  fail(make: (method: string) => AgentCallError): void {
    if (this.failure) return;
    this.failure = make;
    this.partial = [];
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) {
      clearTimeout(p.timer);
      p.reject(make(p.method));
    }
  }

  private line(bytes: Buffer): void {
    let text: string;
    try {
      text = this.utf8.decode(bytes);
    } catch {
      return this.broken(`sent a line that is not UTF-8 (${bytes.length} bytes)`);
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.trim() === "") return;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.broken(`sent a line that is not JSON: ${quote(text)} (does a login script or the forced command on the host write to stdout?)`);
    }
    if (!isRecord(msg)) return this.broken(`sent ${quote(text)} where a JSON-RPC answer was expected`);
    const { id, error } = msg;
    if (id === null && isRecord(error)) {
      const data = isRecord(error.data) ? error.data : {};
      const code = typeof data.code === "string" ? data.code : "E_PROTOCOL";
      const why = typeof error.message === "string" ? error.message : quote(text);
      const make = (method: string): AgentCallError => new AgentCallError(`the agent on ${this.address} could not read a request (${why}) while ${method} was in flight; the connection is dropped and the next call reconnects`, code);
      this.fail(make);
      this.onBroken(make("a call"));
      return;
    }
    const p = typeof id === "number" ? this.pending.get(id) : undefined;
    if (!p) {
      if (typeof id === "number" && this.abandoned.delete(id)) return;
      return this.broken(`answered a request this client did not send or already had an answer to (id ${JSON.stringify(id) ?? "missing"})`);
    }
    if (!("result" in msg) && !isRecord(error)) return this.broken(`answered ${p.method} with neither a result nor an error: ${quote(text)}`);
    this.pending.delete(id as number);
    clearTimeout(p.timer);
    if (isRecord(error)) {
      const data = isRecord(error.data) ? (error.data as { code?: unknown; problems?: Array<{ path: string; message: string }> }) : {};
      p.reject(new AgentCallError(typeof error.message === "string" ? error.message : quote(text), typeof data.code === "string" ? data.code : "E_AGENT", Array.isArray(data.problems) ? data.problems : undefined));
    } else {
      p.resolve(msg.result);
    }
  }

  private broken(detail: string): void {
    const message = `the agent on ${this.address} ${detail}; the connection is dropped and the next call reconnects`;
    this.fail((method) => new AgentCallError(`${message} (${method} was in flight)`, "E_PROTOCOL"));
    this.onBroken(new AgentCallError(message, "E_PROTOCOL"));
  }
}

/** One host's connection and agent channel. */
export class AgentConnection {
  private client: Client | null = null;
  private channel: ClientChannel | null = null;
  /** The agent channel's RPC, once agent.hello said the protocol is ours. */
  private rpc: AgentRpc | null = null;
  /** The RPC of a connection being opened (agent.hello in flight). */
  private opening: AgentRpc | null = null;
  private connecting: Promise<void> | null = null;
  /** Bumped by {@link close}: a connection being opened before it is given up. */
  private epoch = 0;
  /** Fails the SSH handshake in progress (set while it runs). */
  private abortOpening: (() => void) | null = null;
  /** What agent.hello said on the current connection. */
  hello: { version: string; protocol: number; root: string } | null = null;
  /** Connections opened so far (the benchmarks count them). */
  connects = 0;

  constructor(
    readonly address: string,
    readonly hostKey: string,
    private readonly opts: ClientOptions,
  ) {}

  /** Calls sent on the current connection and not yet answered. */
  get inFlight(): number {
    return this.rpc?.inFlight ?? 0;
  }

  /** Calls an agent method of the protocol (agent/rpc/protocol.ts), typed by it; connects first when needed. */
  call<M extends MethodName>(method: M, params?: ParamsOf<M>, timeoutMs = this.opts.commandTimeoutMs): Promise<ResultOf<M>> {
    return this.callUnchecked(method, (params ?? {}) as Record<string, unknown>, timeoutMs) as Promise<ResultOf<M>>;
  }

  /** Calls any method name with any params, untyped: for probing an agent with what the protocol does not declare. */
  async callUnchecked(method: string, params: Record<string, unknown> = {}, timeoutMs = this.opts.commandTimeoutMs): Promise<unknown> {
    const epoch = this.epoch;
    await this.connect();
    if (this.epoch !== epoch) throw this.closedError(method);
    if (!this.rpc) throw new AgentCallError(`the connection to ${this.address} was lost before ${method} was sent; the next call reconnects`, "E_DISCONNECTED");
    return this.rpc.call<unknown>(method, params, timeoutMs);
  }

  /** The error of a call (or of opening the connection) cut short by {@link close}. */
  private closedError(during: string): AgentCallError {
    return new AgentCallError(`the connection to ${this.address} was closed by the provider (it is stopping, or reconnecting) during ${during}; whether the host carried out a change shows at the next plan`, "E_CLOSED");
  }

  private connect(): Promise<void> {
    if (this.rpc) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<void> {
    const epoch = this.epoch;
    const pinned = connectPinned(this.address, this.hostKey, this.opts);
    // close() during the handshake fails the opening at once; the connection, if it comes, is ended.
    const closed = new Promise<never>((_resolve, reject) => (this.abortOpening = () => reject(this.closedError("the connection's opening"))));
    let client: Client;
    try {
      client = await Promise.race([pinned, closed]);
    } catch (err) {
      if (this.epoch !== epoch) pinned.then((c) => c.end(), () => {});
      throw err;
    } finally {
      this.abortOpening = null;
    }
    this.connects++;
    let rpc: AgentRpc | null = null;
    let stderr = "";
    const drop = (make: (method: string) => AgentCallError): void => {
      rpc?.fail(make);
      if (rpc && (this.rpc === rpc || this.opening === rpc)) {
        this.rpc = null;
        this.opening = null;
        this.channel = null;
        this.client = null;
        this.hello = null;
      }
      client.end();
    };
    const lost = (why: string): void =>
      drop((method) => new AgentCallError(`the connection to ${this.address} was lost during ${method} (${why})${stderr.trim() ? `; the agent said: ${stderr.trim()}` : ""}; the next call reconnects`, "E_DISCONNECTED"));
    client.on("close", () => lost("the SSH connection closed"));
    client.on("error", (e) => lost(e.message));
    if (this.epoch !== epoch) {
      client.end();
      throw this.closedError("the connection's opening");
    }
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(AGENT_COMMAND, (err, ch) => (err ? reject(new AgentCallError(`${this.address}: cannot start the agent: ${err.message}`, "E_EXEC")) : resolve(ch)));
    }).catch((err: unknown) => {
      client.end();
      throw err;
    });
    if (this.epoch !== epoch) {
      client.end();
      throw this.closedError("the connection's opening");
    }
    const opened = new AgentRpc(this.address, (line) => void channel.write(line), (err) => drop(() => err));
    rpc = opened;
    this.opening = opened;
    this.client = client;
    this.channel = channel;
    channel.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    channel.on("data", (d: Buffer) => opened.receive(d));
    channel.on("close", () => lost("the agent's channel closed"));
    channel.on("error", (e: Error) => lost(e.message));
    try {
      const hello = await opened.call<{ version: string; protocol: number; root: string }>("agent.hello", {}, this.opts.commandTimeoutMs);
      if (this.opening !== opened) throw this.closedError("agent.hello");
      if (!isRecord(hello) || typeof hello.protocol !== "number" || typeof hello.version !== "string") {
        throw new AgentCallError(`the agent on ${this.address} answered agent.hello with ${quote(JSON.stringify(hello) ?? "nothing")}, not its version and protocol: is the forced command on the host bhyve-agent rpc?`, "E_PROTOCOL");
      }
      if (hello.protocol !== AGENT_PROTOCOL) {
        throw new AgentCallError(`the agent on ${this.address} speaks protocol ${hello.protocol} (bhyve-agent ${hello.version}); this provider speaks protocol ${AGENT_PROTOCOL}: install the bhyve-agent that comes with this provider on the host`, "E_PROTOCOL");
      }
      this.opening = null;
      this.rpc = opened;
      this.hello = hello;
    } catch (err) {
      // No other call runs on a connection before its hello: only the connection goes.
      drop(() => (err instanceof AgentCallError ? err : new AgentCallError(String(err), "E_PROTOCOL")));
      throw err;
    }
  }

  /**
   * Closes the connection: every call in flight, and a connection being opened, fail at once
   * with E_CLOSED. The next call opens a new connection.
   */
  close(): void {
    this.epoch++;
    const calls = [this.rpc, this.opening];
    const channel = this.channel;
    const client = this.client;
    this.rpc = null;
    this.opening = null;
    this.channel = null;
    this.client = null;
    this.hello = null;
    for (const rpc of calls) rpc?.fail((method) => this.closedError(method));
    this.abortOpening?.();
    channel?.end();
    client?.end();
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
