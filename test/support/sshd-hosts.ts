/**
 * Test hosts behind the real OpenSSH sshd: each a sandbox host, served by its own `sshd -D` on its
 * own loopback address (127.0.1.N) with its own host key and an authorized_keys file whose one
 * entry is `restrict,command="... bhyve-agent rpc --root <sandbox>"`. Nothing listens off loopback.
 *
 * The login account. sshd runs a forced command as `<login shell> -c "<command>"`, and bash, when
 * started by sshd, reads ~/.bashrc even for `-c` (Debian builds it with SSH_SOURCE_BASHRC); root's
 * .bashrc on the CI image takes long enough to slow every connection. The way round is the one a
 * FreeBSD host offers with `toor`: a second uid-0 account whose shell is /bin/sh, which reads no
 * start-up file for `sh -c`. `.ci/run` creates it (`bhyve-e2e`); where it is missing the harness
 * logs in as the current user with that user's shell (slower, same result). Nothing here edits the
 * system's accounts.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { rebootSandbox, setSandboxNetwork } from "../../sandbox/host.js";
import { AgentHost } from "./agent-host.js";
import { shellCommand } from "../../agent/model/shell-quote.js";
import { repoPath } from "./helpers.js";
import { sshKeyPair } from "./terraform.js";
import { findSshd, freePort, waitBanner } from "../../provider/cli/dev/sshd-gateway.js";

export { findSshd };

/** The uid-0 account with /bin/sh that `.ci/run` creates for these tests. */
export const E2E_ACCOUNT = "bhyve-e2e";

function accountShell(name: string): string | undefined {
  try {
    const line = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim();
    return line.split(":")[6];
  } catch {
    return undefined;
  }
}

/** Who the tests log in as, and why. */
export function loginAccount(): { user: string; shell: string; why: string } {
  const me = userInfo();
  if (me.uid === 0) {
    const shell = accountShell(E2E_ACCOUNT);
    if (shell) return { user: E2E_ACCOUNT, shell, why: `uid-0 account ${E2E_ACCOUNT} (shell ${shell})` };
    return { user: me.username, shell: me.shell ?? "?", why: `${me.username}: ${E2E_ACCOUNT} is missing (.ci/run creates it), so every connection starts ${me.shell}` };
  }
  return { user: me.username, shell: me.shell ?? "?", why: `${me.username} (sshd runs unprivileged and can only log in its own user)` };
}

/** Why the sshd tests cannot run here, or undefined when they can. */
export function sshdSkipReason(): string | undefined {
  if (!findSshd()) return "OpenSSH sshd is not installed (apt-get install openssh-server; .ci/run does it)";
  return undefined;
}


/** A sandbox host behind its own sshd. */
export class SshdHost {
  readonly sandbox: AgentHost;
  readonly dir: string;
  readonly listen: string;
  port = 0;
  hostKeyFingerprint = "";
  private child: ChildProcess | undefined;
  private stderr = "";

  /**
   * `adminPublicKey`, when given, is a second key with no forced command: a full login, as an
   * administrator has on a real host (bootstrap uses it). Keys the agent installs for the account
   * go to the sandbox's root/.ssh/authorized_keys, which sshd reads too.
   */
  constructor(readonly name: string, profile: string, listen: string, private readonly user: string, private readonly clientPublicKey: string, private readonly adminPublicKey?: string) {
    if (!/^127\.\d+\.\d+\.\d+$/.test(listen)) throw new Error(`test hosts listen on loopback only, not ${listen}`);
    this.listen = listen;
    this.sandbox = new AgentHost(profile);
    this.dir = mkdtempSync(join(tmpdir(), `cdktf-bhyve-sshd-${name}-`));
  }

  /** host:port, as the provider and the constructs take it. */
  get address(): string {
    return `${this.listen}:${this.port}`;
  }

  private readyAt = 0;
  /** Local ports of the readiness probe's connections: their log lines may arrive after readiness. */
  private probePorts: number[] = [];

  /**
   * The sshd log since it was ready (sshd -e writes it to stderr), without the lines of the
   * readiness probe's connections, whenever those arrive (sshd names the client's port on each).
   */
  get log(): string {
    const probe = this.probePorts.length ? new RegExp(`(?<! on \\S+) port (?:${this.probePorts.join("|")})\\b`) : null;
    return this.stderr.slice(this.readyAt).split("\n").filter((l) => !probe?.test(l)).join("\n");
  }

  /** Writes the configuration and keys, starts sshd and waits for its banner. */
  async start(sshd: string): Promise<void> {
    await this.sandbox.serveTools();
    this.port = await freePort(this.listen);
    const hostKey = join(this.dir, "ssh_host_ed25519_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${this.name}-host`, "-f", hostKey]);
    const blob = Buffer.from(readFileSync(`${hostKey}.pub`, "utf8").split(" ")[1]!, "base64");
    this.hostKeyFingerprint = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
    const command = shellCommand([process.execPath, repoPath("dist/bhyve-agent.mjs"), "rpc", "--root", this.sandbox.root]);
    const admin = this.adminPublicKey ? `${this.adminPublicKey.trim()}\n` : "";
    writeFileSync(join(this.dir, "authorized_keys"), `restrict,command="${command.replace(/"/g, '\\"')}" ${this.clientPublicKey.trim()}\n${admin}`);
    chmodSync(join(this.dir, "authorized_keys"), 0o600);
    const config = [
      `ListenAddress ${this.listen}:${this.port}`,
      "AddressFamily inet",
      `HostKey ${hostKey}`,
      `PidFile ${join(this.dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(this.dir, "authorized_keys")} ${join(this.sandbox.root, "root/.ssh/authorized_keys")}`,
      `AllowUsers ${this.user}`,
      "AuthenticationMethods publickey",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      // A uid-0 account takes only forced commands, unless this host gives the administrator a full login.
      `PermitRootLogin ${this.adminPublicKey ? "prohibit-password" : "forced-commands-only"}`,
      "UsePAM no",
      "StrictModes no",
      "AllowTcpForwarding no",
      "AllowAgentForwarding no",
      "X11Forwarding no",
      "PermitTunnel no",
      "PrintMotd no",
      "PrintLastLog no",
      "MaxStartups 100:30:200",
      "LogLevel VERBOSE",
      // The agent's audit log records the key each session came in with (SSH_USER_AUTH).
      "ExposeAuthInfo yes",
      "",
    ].join("\n");
    writeFileSync(join(this.dir, "sshd_config"), config);
    // The host's management NIC holds the address sshd listens on, as on a real host.
    setSandboxNetwork(this.sandbox.root, { address: this.listen, prefix: 24, lagg: null, bridge: null });
    // sshd running as root wants its privilege separation directory (the init script makes it).
    if (userInfo().uid === 0 && sshd.startsWith("/usr/sbin") && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
    await this.launch(sshd);
  }

  private async launch(sshd: string): Promise<void> {
    const child = spawn(sshd, ["-D", "-e", "-f", join(this.dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    child.stderr!.on("data", (d: Buffer) => {
      if (this.stderr.length < 1 << 20) this.stderr += d.toString();
    });
    this.readyAt = this.stderr.length;
    this.probePorts = await waitBanner(this.listen, this.port, child, () => this.stderr);
  }

  /** Whether sshd is up. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Freezes sshd (SIGSTOP): connections are accepted by the kernel and never answered, like a hung host. */
  freeze(): void {
    if (this.child?.pid) process.kill(this.child.pid, "SIGSTOP");
  }

  /** Lets a frozen sshd run again. */
  thaw(): void {
    if (this.child?.pid) process.kill(this.child.pid, "SIGCONT");
  }

  /** Stops sshd by its PID and waits for it; existing sessions end with their clients. */
  async stopSshd(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !this.running) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  /**
   * Reboots the host as rc.d does on FreeBSD: `bhyve_agent` stops the guests at shutdown, the
   * kernel boots with loader.conf (boot-time pptdevs bound, live bindings lost), and `bhyve_agent`
   * runs `autostart` at boot. Returns autostart's exit status.
   */
  async reboot(): Promise<number | null> {
    const down = this.sandbox.cli(["shutdown"]);
    if (down.status !== 0) throw new Error(`shutdown failed: ${down.stderr}`);
    await rebootSandbox(this.sandbox.root);
    return this.sandbox.cli(["autostart"]).status;
  }

  /** Stops sshd, then the sandbox's processes, by PID; removes both trees. */
  async stop(): Promise<void> {
    await this.stopSshd();
    await this.sandbox.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort, for process exit. */
  killNow(): void {
    const tools = this.sandbox.toolServerPid;
    if (tools) {
      try {
        process.kill(tools, "SIGKILL");
      } catch {
        // gone
      }
    }
    if (this.child?.pid && this.running) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

/** What {@link startHosts} takes for each host. */
export interface HostSpec {
  readonly name: string;
  readonly profile: string;
  /** Also accept the fleet's administrator key for a full login. */
  readonly admin?: boolean;
}

/** N test hosts, one operator key, and the login account. */
export class SshdFleet {
  readonly hosts: SshdHost[] = [];
  readonly keyDir: string;
  readonly keyFile: string;
  /** The administrator's key (a full login on hosts started with `admin`). */
  readonly adminKeyFile: string;
  readonly account: ReturnType<typeof loginAccount>;
  private readonly onExit = (): void => this.hosts.forEach((h) => h.killNow());

  constructor() {
    this.account = loginAccount();
    this.keyDir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-key-"));
    const kp = sshKeyPair();
    this.keyFile = join(this.keyDir, "id_ed25519");
    writeFileSync(this.keyFile, kp.privateKey, { mode: 0o600 });
    writeFileSync(`${this.keyFile}.pub`, kp.publicKey);
    const admin = sshKeyPair();
    this.adminKeyFile = join(this.keyDir, "admin_ed25519");
    writeFileSync(this.adminKeyFile, admin.privateKey, { mode: 0o600 });
    writeFileSync(`${this.adminKeyFile}.pub`, admin.publicKey);
    process.once("exit", this.onExit);
  }

  get publicKey(): string {
    return readFileSync(`${this.keyFile}.pub`, "utf8");
  }

  /** Starts one sshd host per spec on 127.0.1.<base+i>. */
  async start(specs: readonly HostSpec[], base: number): Promise<SshdHost[]> {
    const sshd = findSshd();
    if (!sshd) throw new Error(sshdSkipReason());
    const started: SshdHost[] = [];
    for (const [i, s] of specs.entries()) {
      const adminKey = s.admin ? readFileSync(`${this.adminKeyFile}.pub`, "utf8") : undefined;
      const h = new SshdHost(s.name, s.profile, `127.0.1.${base + i}`, this.account.user, this.publicKey, adminKey);
      this.hosts.push(h);
      await h.start(sshd);
      started.push(h);
    }
    return started;
  }

  host(name: string): SshdHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  }

  /** Stops every host (sshd and sandbox) by PID and removes the key. */
  async stop(): Promise<void> {
    for (const h of this.hosts) await h.stop();
    rmSync(this.keyDir, { recursive: true, force: true });
    process.removeListener("exit", this.onExit);
  }
}
