/** Sandbox hosts behind in-process SSH, the provider in a filesystem mirror, and the real terraform CLI. */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveSandboxOverSsh, type GatewayHost } from "../../sandbox/ssh-gateway.js";
import { ed25519KeyPair } from "../../sandbox/ssh-keys.js";
import { installMirror } from "../../provider/cli/install-provider.js";
import { AgentHost } from "./agent-host.js";
import { repoPath } from "./helpers.js";

/** A user's SSH key pair. */
export function sshKeyPair(): { privateKey: string; publicKey: string } {
  const kp = ed25519KeyPair();
  return { privateKey: kp.private, publicKey: kp.public };
}

/** A sandbox host reachable over SSH. */
export interface SshHost {
  readonly host: AgentHost;
  readonly gateway: GatewayHost;
}

/** Starts a sandbox host and its SSH gateway. */
export async function sshHost(profile: string, authorizedKey: string, listen = "127.0.0.1"): Promise<SshHost> {
  const host = new AgentHost(profile);
  const gateway = await serveSandboxOverSsh(host.root, { host: listen, authorizedKey, agentArgv: [process.execPath, repoPath("dist/bhyve-agent.mjs")] });
  return { host, gateway };
}

/** A Terraform working directory with the provider installed in its own mirror. */
export class TerraformDir {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-tf-"));
    const mirror = join(this.dir, "mirror");
    mkdirSync(join(this.dir, "work"));
    const rc = installMirror(mirror, repoPath("dist/terraform-provider-bhyve.mjs"));
    this.env = {
      PATH: process.env.PATH,
      HOME: this.dir,
      TF_CLI_CONFIG_FILE: rc,
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
    };
  }

  get work(): string {
    return join(this.dir, "work");
  }

  /** Writes main.tf.json. */
  config(json: unknown): void {
    writeFileSync(join(this.work, "main.tf.json"), JSON.stringify(json, null, 1));
  }

  /** Runs terraform with `args` in the working directory (no shell), with a deadline. */
  tf(args: string[], timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile("terraform", [...args, "-no-color"], { cwd: this.work, env: this.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
      });
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
