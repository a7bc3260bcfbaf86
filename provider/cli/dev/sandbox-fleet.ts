/**
 * Sandbox hosts behind the embedded SSH server, for the demo and the benchmarks: each host a
 * sandbox FreeBSD root with its own ssh2 server on a loopback address, running the agent as a
 * forced command would, and a tool server for its simulated tools. `stop()` closes the servers
 * (killing agent sessions by PID), destroys the sandboxes (killing monitors and bhyve by PID) and
 * stops the tool servers by PID.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { distFile } from "../../../agent/package-files.js";
import { ed25519KeyPair } from "../../../sandbox/ssh-keys.js";
import { createSandbox, defaultToolScript, destroySandbox } from "../../../sandbox/host.js";
import { startToolServer, type ToolServer } from "../../../sandbox/tool-server.js";
import { serveSandboxOverSsh, type GatewayHost } from "../../../sandbox/ssh-gateway.js";
import { serveSandboxOverSshd, sshdUser } from "./sshd-gateway.js";

/** Short monitor timings, so stops and restarts take moments. */
export const QUICK_AGENT_CONF = `monitor:
  stop_timeout_ms: 2000
  kill_timeout_ms: 1000
  backoff_initial_ms: 100
  backoff_max_ms: 1000
`;

/** One host to start. */
export interface SandboxHostSpec {
  readonly name: string;
  readonly profile: string;
  /** Loopback address to listen on (127.0.0.0/8). */
  readonly listen: string;
}

/** A started host. */
export interface SandboxHost extends SandboxHostSpec {
  readonly root: string;
  readonly gateway: GatewayHost;
  /** loader.conf as the host was created. */
  readonly loaderConf: string;
  /** The host's tool server (its simulated tools answered without a node start-up each). */
  readonly tools?: ToolServer;
}

/** Started hosts and the operator's key. */
export class SandboxFleet {
  readonly hosts: SandboxHost[] = [];
  readonly keyFile: string;
  private readonly publicKey: string;
  private stopped = false;

  /** The SSH account the hosts take (root, or the test login behind a real sshd). */
  readonly user: string;

  /**
   * `shellKey`: a public key that gets a shell on every host (the bench's Ansible side by side).
   * `sshd`: the path of OpenSSH's sshd, to put each host behind a real sshd instead of the
   * embedded server.
   */
  constructor(readonly dir: string, private readonly opts: { shellKey?: string; sshd?: string } = {}) {
    this.user = opts.sshd ? sshdUser() : "root";
    mkdirSync(dir, { recursive: true });
    const key = ed25519KeyPair();
    this.keyFile = join(dir, "id_ed25519");
    writeFileSync(this.keyFile, key.private, { mode: 0o600 });
    this.publicKey = key.public;
  }

  /** Creates and serves one host. */
  async add(spec: SandboxHostSpec): Promise<SandboxHost> {
    const root = join(this.dir, "hosts", spec.name);
    createSandbox(root, spec.profile);
    mkdirSync(join(root, "usr/local/etc"), { recursive: true });
    writeFileSync(join(root, "usr/local/etc/bhyve-agent.conf"), QUICK_AGENT_CONF);
    const loaderConf = readFileSync(join(root, "boot/loader.conf"), "utf8");
    // Recorded before the server starts, so that stop() finds the sandbox even if serving fails.
    const partial = { ...spec, root, loaderConf } as SandboxHost;
    this.hosts.push(partial);
    Object.assign(partial, { tools: await startToolServer([root], process.execPath, defaultToolScript()) });
    const agentArgv = [process.execPath, distFile("bhyve-agent.mjs")];
    const shell = this.opts.shellKey ? { shellKey: this.opts.shellKey } : {};
    const gateway = this.opts.sshd
      ? await serveSandboxOverSshd(root, { dir: join(this.dir, "sshd", spec.name), host: spec.listen, sshd: this.opts.sshd, user: this.user, authorizedKey: this.publicKey, agentArgv, ...shell })
      : await serveSandboxOverSsh(root, { host: spec.listen, authorizedKey: this.publicKey, agentArgv, ...shell });
    Object.assign(partial, { gateway });
    return partial;
  }

  /** Names by address, in the order the hosts were added. */
  names(): Map<string, string> {
    return new Map(this.hosts.map((h) => [h.gateway.address, h.name]));
  }

  /** Stops every server and sandbox by PID. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.hosts) {
      await h.gateway?.close().catch(() => {});
      if (existsSync(h.root)) await destroySandbox(h.root).catch(() => {});
      await h.tools?.stop().catch(() => {});
    }
  }
}
