/**
 * A sandbox host behind the real OpenSSH sshd, for the bench's `--sshd` runs: one sshd per host
 * on its own loopback address and port, with its own host key, and the operator's key restricted
 * to a forced command that runs the agent for that sandbox, as on a real host. A second key (the
 * bench's Ansible side by side) gets a full login. Listens on loopback only; `close()` stops
 * sshd and what it started, by PID.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { shellCommand } from "../../../agent/model/shell-quote.js";
import type { GatewayHost } from "../../../sandbox/ssh-gateway.js";

/** Absolute path of sshd, or undefined when OpenSSH's server is not installed. */
export function findSshd(): string | undefined {
  const dirs = ["/usr/sbin", "/usr/local/sbin", "/sbin", ...(process.env.PATH ?? "").split(":").filter((d) => d.startsWith("/"))];
  return dirs.map((d) => join(d, "sshd")).find((p) => existsSync(p));
}

/** The account the forced command runs as: the test login (uid 0, /bin/sh) when it exists, else root. */
export function sshdUser(): string {
  try {
    return execFileSync("getent", ["passwd", "bhyve-e2e"], { encoding: "utf8" }).trim() ? "bhyve-e2e" : "root";
  } catch {
    return "root";
  }
}

/** A port free on `host` now (for a server about to listen there). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something on host:port sends an SSH banner, with the local ports of the probe connections it made. */
export async function waitBanner(host: string, port: number, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  const probes: number[] = [];
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited before it listened:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port });
      s.once("connect", () => probes.push(s.localPort!));
      s.setTimeout(5000);
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("SSH-2.0-"));
      });
      s.once("error", () => resolve(false));
      s.once("timeout", () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return probes;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Process IDs below `pid` (its children, theirs, ...), from ps. */
function descendants(pid: number): number[] {
  const rows = execFileSync("/bin/ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" }).trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of rows) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

/** Starts sshd for the sandbox at `root`, its files in `dir`. */
export async function serveSandboxOverSshd(root: string, opts: { dir: string; host: string; sshd: string; user: string; authorizedKey: string; agentArgv: readonly string[]; shellKey?: string }): Promise<GatewayHost> {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(opts.host)) throw new Error(`sshd test hosts listen on loopback only, not ${opts.host}`);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const port = await freePort(opts.host);
  const hostKey = join(opts.dir, "ssh_host_ed25519_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-host", "-f", hostKey]);
  const publicKey = readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  const blob = Buffer.from(publicKey.split(" ")[1]!, "base64");
  const command = shellCommand([...opts.agentArgv, "rpc", "--root", root]);
  const keys = join(opts.dir, "authorized_keys");
  writeFileSync(keys, `restrict,command="${command.replace(/"/g, '\\"')}" ${opts.authorizedKey.trim()}\n${opts.shellKey ? `${opts.shellKey.trim()}\n` : ""}`);
  chmodSync(keys, 0o600);
  writeFileSync(join(opts.dir, "sshd_config"), [
    `ListenAddress ${opts.host}:${port}`,
    "AddressFamily inet",
    `HostKey ${hostKey}`,
    `PidFile ${join(opts.dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${keys}`,
    `AllowUsers ${opts.user}`,
    "AuthenticationMethods publickey",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `PermitRootLogin ${opts.shellKey ? "prohibit-password" : "forced-commands-only"}`,
    "UsePAM no",
    "StrictModes no",
    "AllowTcpForwarding no",
    "X11Forwarding no",
    "PrintMotd no",
    "MaxStartups 200:30:400",
    "MaxSessions 100",
    "LogLevel VERBOSE",
    "",
  ].join("\n"));
  if (process.getuid?.() === 0 && !existsSync("/run/sshd") && opts.sshd.startsWith("/usr/sbin")) mkdirSync("/run/sshd", { mode: 0o755 });
  const child = spawn(opts.sshd, ["-D", "-e", "-f", join(opts.dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d: Buffer) => {
    if (log.length < 8 << 20) log += d.toString();
  });
  try {
    await waitBanner(opts.host, port, child, () => log);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  const count = (re: RegExp): number => (log.match(re) ?? []).length;
  return {
    address: `${opts.host}:${port}`,
    hostKeyFingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
    hostPublicKey: publicKey,
    // One agent per session: sshd logs each forced command it starts.
    get agentStarts() {
      return count(/Starting session: forced-command/g);
    },
    get connections() {
      return count(/Accepted publickey/g);
    },
    close: async () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      const below = descendants(child.pid);
      child.kill("SIGTERM");
      for (const pid of below) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
    },
  };
}
