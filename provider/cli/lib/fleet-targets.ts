/**
 * The hosts a fleet command works on: read from a synthesized cdktf.out (each stack's
 * `bhyve/hosts.json` and documents, written by the constructs in either mode), after running
 * `cdktf synth` when given the app's directory.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";
import { UserError } from "../../../agent/cli/errors.js";
import { checkDocumentText } from "../../../agent/model/document.js";
import { formatProblems } from "../../../agent/model/problems.js";
import type { DesiredState } from "../../../agent/model/types.js";
import type { SshSettings } from "./ssh-options.js";

/** One host of the fleet, with its desired state. */
export interface FleetHost {
  readonly stack: string;
  readonly id: string;
  readonly address: string;
  readonly hostKey: string;
  readonly documentPath: string;
  readonly desired: DesiredState;
  readonly sha256: string;
  readonly leftOut: readonly string[];
  readonly ssh: SshSettings;
}

interface ManifestJson {
  format?: unknown;
  mode?: unknown;
  ssh?: { user?: string; private_key_file?: string; connect_timeout?: string; command_timeout?: string };
  hosts?: Array<{ id: string; address: string; host_key: string; document: string; sha256: string; left_out?: string[] }>;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "E_SYNTH_OUTPUT");
  }
}

/** The hosts of a synthesized output directory (all stacks, or the one named). */
export function readTargets(outDir: string, stack?: string): FleetHost[] {
  const manifestFile = join(outDir, "manifest.json");
  if (!existsSync(manifestFile)) throw new UserError(`${outDir} has no manifest.json: run cdktf synth first, or pass --app DIR to synthesize`, "E_SYNTH_OUTPUT");
  const stacks = (readJson(manifestFile) as { stacks?: Record<string, { workingDirectory?: string }> }).stacks ?? {};
  const names = Object.keys(stacks);
  if (stack !== undefined && !names.includes(stack)) throw new UserError(`there is no stack ${stack} in ${outDir}; stacks: ${names.join(", ") || "none"}`, "E_USAGE", 64);
  const hosts: FleetHost[] = [];
  for (const name of stack !== undefined ? [stack] : names) {
    const dir = join(outDir, stacks[name]!.workingDirectory ?? join("stacks", name));
    const file = join(dir, "bhyve", "hosts.json");
    if (!existsSync(file)) continue;
    const m = readJson(file) as ManifestJson;
    if (m.format !== 1 || !Array.isArray(m.hosts)) throw new UserError(`${file} is not a manifest this cdktf-bhyve reads (format ${String(m.format)}); synthesize with this version`, "E_SYNTH_OUTPUT");
    const ssh: SshSettings = {
      ...(m.ssh?.user ? { user: m.ssh.user } : {}),
      ...(m.ssh?.private_key_file ? { privateKeyFile: m.ssh.private_key_file } : {}),
      ...(m.ssh?.connect_timeout ? { connectTimeout: m.ssh.connect_timeout } : {}),
      ...(m.ssh?.command_timeout ? { commandTimeout: m.ssh.command_timeout } : {}),
    };
    for (const h of m.hosts) {
      const documentPath = join(dir, h.document);
      let text: string;
      try {
        text = readFileSync(documentPath, "utf8");
      } catch (err) {
        throw new UserError(`cannot read ${documentPath}: ${(err as NodeJS.ErrnoException).code}`, "E_SYNTH_OUTPUT");
      }
      const checked = checkDocumentText(text);
      if (!checked.ok) throw new UserError(`${documentPath} is not a valid document:\n${formatProblems(checked.problems)}`, "E_SPEC_INVALID");
      hosts.push({ stack: name, id: h.id, address: h.address, hostKey: h.host_key, documentPath, desired: checked.state, sha256: h.sha256, leftOut: h.left_out ?? [], ssh });
    }
  }
  if (hosts.length === 0) throw new UserError(`no bhyve hosts in ${outDir}${stack !== undefined ? ` (stack ${stack})` : ""}`, "E_NO_HOSTS");
  return hosts;
}

/** The cdktf CLI for an app: its own (node_modules/.bin), else one on PATH, else the one installed with cdktf-bhyve. */
function findCdktf(appDir: string): string[] {
  const own = join(appDir, "node_modules", ".bin", "cdktf");
  if (existsSync(own)) return [own];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "cdktf"))) return [join(dir, "cdktf")];
  }
  try {
    const pkg = createRequire(import.meta.url).resolve("cdktf-cli/package.json");
    return [process.execPath, join(dirname(pkg), "bundle", "bin", "cdktf")];
  } catch {
    throw new UserError("cdktf (cdktf-cli) is not installed: install it, or run cdktf synth yourself and pass --out DIR", "E_NO_CDKTF");
  }
}

/** Runs `cdktf synth` in an app directory (its output to our stderr); returns the output directory. */
export async function synthApp(appDir: string, log: (s: string) => void): Promise<string> {
  const dir = resolve(appDir);
  if (!existsSync(join(dir, "cdktf.json"))) throw new UserError(`${dir} has no cdktf.json: pass the app's directory with --app, or a synthesized output with --out`, "E_USAGE", 64);
  const out = join(dir, "cdktf.out");
  const [file, ...pre] = findCdktf(dir);
  log(`synthesizing ${dir}`);
  const code = await new Promise<number | null>((res, rej) => {
    const child = spawn(file!, [...pre, "synth", "--output", out], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    child.stdout.on("data", (d: Buffer) => process.stderr.write(d));
    child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    child.on("error", rej);
    child.on("exit", (c) => res(c));
  });
  if (code !== 0) throw new UserError(`cdktf synth failed in ${dir} (exit ${code}); see its output above`, "E_SYNTH", 1);
  return out;
}
