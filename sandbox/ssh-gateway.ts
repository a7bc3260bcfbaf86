/**
 * SSH in front of sandbox hosts, for tests and the demo: an ssh2 server per host on a loopback
 * address, with its own host key, that accepts one authorized public key and, whatever command
 * the client asks for, runs the agent for that host's sandbox (as an authorized_keys forced
 * command does on a real host). Listens on loopback only.
 */
import { spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { ed25519KeyPair } from "./ssh-keys.js";
import ssh2, { type Connection, type ServerChannel } from "ssh2";

// ssh2 is CommonJS: its named exports are reached through the default export under Node's ESM.
const { Server, utils } = ssh2;

/** One served host. */
export interface GatewayHost {
  readonly address: string;
  readonly hostKeyFingerprint: string;
  /** The host's public key as a known_hosts line takes it (`ssh-ed25519 AAAA...`). */
  readonly hostPublicKey: string;
  /** Agent processes started so far (one per SSH session). */
  readonly agentStarts: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** Options for {@link serveSandboxOverSsh}. */
export interface GatewayOptions {
  /** Loopback address to listen on (127.0.0.0/8 or ::1). Default 127.0.0.1. */
  readonly host?: string;
  /** Port; default 0 (any free port). */
  readonly port?: number;
  /** The authorized public key, OpenSSH format (`ssh-ed25519 AAAA...`). */
  readonly authorizedKey: string;
  /** The user allowed in. Default root. */
  readonly user?: string;
  /** node and the agent bundle to run; default this process's node and dist/bhyve-agent.mjs. */
  readonly agentArgv: readonly string[];
  /**
   * A second public key whose sessions get what a shell login gets: each exec request runs
   * `/bin/sh -c COMMAND` in the sandbox root, with SANDBOX_ROOT set. For the bench's side by side
   * with a configuration tool that needs a shell (Ansible); never given by the tests or the demo.
   */
  readonly shellKey?: string;
}

function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1";
}

/** Starts an SSH server for the sandbox at `root`. */
export async function serveSandboxOverSsh(root: string, opts: GatewayOptions): Promise<GatewayHost> {
  const listenHost = opts.host ?? "127.0.0.1";
  if (!isLoopback(listenHost)) throw new Error(`the sandbox SSH gateway listens on loopback only, not ${listenHost}`);
  const hostKey = ed25519KeyPair();
  const parsedHost = utils.parseKey(hostKey.private);
  if (parsedHost instanceof Error) throw parsedHost;
  const hostBlob = (Array.isArray(parsedHost) ? parsedHost[0]! : parsedHost).getPublicSSH();
  const allowed = utils.parseKey(opts.authorizedKey);
  if (allowed instanceof Error) throw new Error(`authorizedKey: ${allowed.message}`);
  const allowedKey = Array.isArray(allowed) ? allowed[0]! : allowed;
  const shellParsed = opts.shellKey !== undefined ? utils.parseKey(opts.shellKey) : null;
  if (shellParsed instanceof Error) throw new Error(`shellKey: ${shellParsed.message}`);
  const shellKey = shellParsed === null ? null : Array.isArray(shellParsed) ? shellParsed[0]! : shellParsed;
  const user = opts.user ?? "root";
  let agentStarts = 0;
  let connections = 0;
  const live = new Set<Connection>();
  const children = new Set<number>();

  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    connections++;
    live.add(client);
    client.on("close", () => live.delete(client));
    client.on("error", () => live.delete(client));
    let shell = false;
    client.on("authentication", (ctx) => {
      for (const key of shellKey ? [allowedKey, shellKey] : [allowedKey]) {
        const pub = key.getPublicSSH();
        if (ctx.method === "publickey" && ctx.username === user && ctx.key.algo === key.type && ctx.key.data.length === pub.length && timingSafeEqual(ctx.key.data, pub)) {
          if (!ctx.signature) return ctx.accept();
          if (ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
            shell = key === shellKey;
            return ctx.accept();
          }
        }
      }
      ctx.reject(["publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        const run = (accept: () => ServerChannel, command?: string): void => {
          const channel = accept();
          const [node, ...args] = opts.agentArgv;
          const child = shell
            ? spawn("/bin/sh", ["-c", command ?? ""], { stdio: ["pipe", "pipe", "pipe"], cwd: root, env: { PATH: process.env.PATH, HOME: root, SANDBOX_ROOT: root, LANG: "C" } })
            : spawn(node!, [...args, "rpc", "--root", root], { stdio: ["pipe", "pipe", "pipe"] });
          if (!shell) agentStarts++;
          if (child.pid) children.add(child.pid);
          channel.pipe(child.stdin);
          // The channel ends after the exit status, once the child's output is all sent: ended
          // with its stdout, the exit status would come after the channel's close and be lost.
          child.stdout.pipe(channel, { end: false });
          child.stderr.pipe(channel.stderr, { end: false });
          child.on("close", (code, signal) => {
            if (child.pid) children.delete(child.pid);
            if (signal) channel.exit(signal, false, "");
            else channel.exit(code ?? 1);
            channel.end();
          });
          channel.on("close", () => child.stdin.end());
        };
        // Like a forced command: the agent runs whatever was asked for.
        session.on("exec", (accept, _reject, info) => run(accept, info.command));
        session.on("shell", (accept, reject) => (shell ? reject() : run(accept)));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, listenHost, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: listenHost.includes(":") ? `[${listenHost}]:${port}` : `${listenHost}:${port}`,
    hostKeyFingerprint: `SHA256:${createHash("sha256").update(hostBlob).digest("base64").replace(/=+$/, "")}`,
    hostPublicKey: `ssh-ed25519 ${hostBlob.toString("base64")}`,
    get agentStarts() {
      return agentStarts;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of live) c.end();
        for (const pid of children) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
        server.close(() => resolve());
      }),
  };
}
