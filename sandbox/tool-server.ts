/**
 * The tool server of sandbox hosts: one node process that runs the simulated tools of the roots it
 * serves, so that a tool run costs a round trip on ROOT/var/sandbox/tools.sock instead of a node
 * start-up (on FreeBSD these tools are small C programs that take a millisecond; the start-up of a
 * node per run made the sandbox, not the agent, the cost that the benchmarks measured).
 *
 * The tools are reached through native/sandbox/tool-client.c, the #! interpreter of every tool
 * file, which falls back to running the tool in a node of its own when no server listens (and
 * always does so for bhyve, whose VM is a process). The simulators keep their state in the host's
 * files under a lock taken and released synchronously, so runs served together in this one thread
 * see the same state as runs in processes of their own.
 *
 * Started and stopped by PID by whoever serves sandbox hosts (the demo, the bench, the e2e tests):
 * {@link startToolServer}. The server also ends when its standard input closes, so it does not
 * outlive the process that started it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join, resolve, sep } from "node:path";
import type { ToolIO } from "./tools/tool.js";

/** Where a sandbox root's tool server listens, relative to the root. */
export const TOOL_SOCKET = "var/sandbox/tools.sock";

/** sockaddr_un's sun_path holds 104 bytes on FreeBSD and 108 on Linux: longer roots are not served (the tools run as processes). */
const SUN_PATH_MAX = 104;

type RunTool = (self: string, args: readonly string[], env: ToolIO["env"], out: (s: string) => void, err: (s: string) => void) => Promise<number>;

function frame(type: "o" | "e" | "x", body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Serves one connection: one request, its output as it comes, then its exit status. */
function serveConnection(sock: Socket, roots: readonly string[], run: RunTool): void {
  let buf = Buffer.alloc(0);
  let started = false;
  sock.on("error", () => sock.destroy());
  sock.on("data", (chunk: Buffer) => {
    if (started) return;
    buf = Buffer.concat([buf, chunk]);
    if (buf.length < 4) return;
    const len = buf.readUInt32BE(0);
    if (len > 1 << 24) return void sock.destroy();
    if (buf.length < 4 + len) return;
    started = true;
    const fields = buf.subarray(4, 4 + len).toString("utf8").split("\0");
    fields.pop(); // the last field's terminator
    const [blocksize = "", tool = "", ...args] = fields;
    const env = blocksize.startsWith("BLOCKSIZE=") ? { BLOCKSIZE: blocksize.slice("BLOCKSIZE=".length) } : {};
    const send = (type: "o" | "e", s: string): void => {
      if (s.length && !sock.destroyed) sock.write(frame(type, Buffer.from(s, "utf8")));
    };
    const path = resolve(tool);
    const served = roots.some((r) => path.startsWith(`${r}${sep}`));
    const done = served
      ? run(path, args, env, (s) => send("o", s), (s) => send("e", s))
      : (send("e", `sandbox tool server: ${path} is not in a sandbox root this server serves\n`), Promise.resolve(64));
    void done.then((code) => {
      const st = Buffer.alloc(4);
      st.writeUInt32BE(code >>> 0);
      if (!sock.destroyed) sock.end(frame("x", st));
    });
  });
}

/** The server's main: listens on each root's socket, says "ready", runs until SIGTERM or its stdin closes. */
export async function serveTools(rootArgs: readonly string[], run: RunTool): Promise<number> {
  const roots = rootArgs.map((r) => resolve(r));
  const servers: Server[] = [];
  const sockets: string[] = [];
  for (const root of roots) {
    const path = join(root, TOOL_SOCKET);
    if (Buffer.byteLength(path) >= SUN_PATH_MAX) continue;
    mkdirSync(join(root, "var/sandbox"), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((sock) => serveConnection(sock, roots, run));
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(path, () => ok());
    });
    chmodSync(path, 0o600);
    servers.push(server);
    sockets.push(path);
  }
  process.stdout.write(`ready ${sockets.length}\n`);
  await new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
    process.stdin.on("end", done).on("error", done).resume();
  });
  for (const s of sockets) rmSync(s, { force: true });
  for (const s of servers) s.close();
  return 0;
}

/** A started tool server: its pid, and how to stop it. */
export interface ToolServer {
  readonly pid: number;
  /** How many of the roots it serves (a root whose socket path is too long is not). */
  readonly serving: number;
  stop(): Promise<void>;
}

/**
 * Starts a tool server for `roots` (sandbox hosts already created) with `node` and the simulator
 * bundle `script`; resolves once it listens. Stop it with `stop()` (SIGTERM, then SIGKILL by PID).
 */
export async function startToolServer(roots: readonly string[], node: string, script: string): Promise<ToolServer> {
  const child: ChildProcess = spawn(node, [script, "--serve", ...roots], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    for (const r of roots) rmSync(join(r, TOOL_SOCKET), { force: true });
  };
  try {
    const serving = await new Promise<number>((ok, fail) => {
      let text = "";
      child.once("error", fail);
      child.once("exit", (code, signal) => fail(new Error(`the sandbox tool server exited (${signal ?? `exit ${code}`}) before it listened`)));
      child.stdout!.on("data", (d: Buffer) => {
        text += d.toString("utf8");
        const m = /^ready (\d+)\n/.exec(text);
        if (m) ok(Number(m[1]));
      });
    });
    child.stdout!.resume();
    return { pid: child.pid!, serving, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
