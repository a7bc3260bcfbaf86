/**
 * `cdktf-bhyve bootstrap ADDRESS --host-key SHA256:...`: prepares a FreeBSD host for the agent over
 * an administrator's full SSH login. It checks the host (FreeBSD release, Node.js and npm, the
 * compiler and tools that build the native pieces) and names the exact packages that are missing;
 * uploads the agent bundle, the native sources and the rc.d script to a temporary directory; and
 * runs the uploaded agent's `install`, which builds the native pieces with the host's compiler,
 * installs the bundle as the current version, the wrapper and the rc.d script, and adds the deploy
 * key with `restrict` and a forced command. Every step is idempotent and printed.
 * With `--root DIR` (a sandbox host) everything goes under DIR, as the agent's --root does.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { UserError } from "../../agent/cli/errors.js";
import { AgentCallError } from "../ssh/agent-client.js";
import { ShellSession } from "../ssh/shell-session.js";
import { packageRoot } from "../../agent/package-files.js";
import { clientOptions, requireHostKey, sshFromFlags, SSH_OPTIONS } from "./lib/ssh-options.js";

const USAGE = `usage: cdktf-bhyve bootstrap ADDRESS --host-key SHA256:... [--deploy-key FILE.pub] [--deploy-home /root]
                        [--node /usr/local/bin/node] [--root /] [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s]
  logs in with a full shell (an administrator's key, not the deploy key) and installs the agent`;

/** The lowest Node.js major the agent runs on. */
const NODE_MAJOR = 20;

/** The files uploaded: remote path relative to the upload directory, and the local file. */
export function uploadFiles(root = packageRoot()): Array<[string, string]> {
  const files: Array<[string, string]> = [["bhyve-agent.mjs", join(root, "dist", "bhyve-agent.mjs")], ["rc.d/bhyve_agent", join(root, "agent", "rc.d", "bhyve_agent")]];
  for (const f of ["binding.gyp", "build.mjs"]) files.push([`native/${f}`, join(root, "native", f)]);
  for (const sub of ["probe", "monitor"]) {
    for (const f of readdirSync(join(root, "native", sub))) if (/\.(c|cc|h)$/.test(f)) files.push([`native/${sub}/${f}`, join(root, "native", sub, f)]);
  }
  const addon = dirname(createRequire(join(root, "package.json")).resolve("node-addon-api/package.json"));
  for (const f of readdirSync(addon)) {
    if (statSync(join(addon, f)).isFile() && !/\.md$/.test(f)) files.push([`node_modules/node-addon-api/${f}`, join(addon, f)]);
  }
  return files;
}

/** Checks the host; returns its description, or throws naming what to install. */
async function checkHost(s: ShellSession, node: string, root: string, say: (l: string) => void): Promise<void> {
  const at = (p: string) => (root === "/" ? p : join(root, p));
  const os = await s.run([at("/sbin/sysctl"), "-n", "kern.ostype", "kern.osrelease"]);
  const [ostype, release] = os.stdout.trim().split("\n");
  if (os.code !== 0 || ostype !== "FreeBSD") throw new UserError(`${s.address} is not a FreeBSD host (${at("/sbin/sysctl")} kern.ostype said ${JSON.stringify(os.stdout.trim() || os.stderr.trim())}); the agent runs on FreeBSD`, "E_NOT_FREEBSD");
  say(`FreeBSD ${release}`);
  const uname = (await s.run(["uname", "-s"])).stdout.trim();
  const pkg = (name: string) => (uname === "FreeBSD" ? `pkg install -y ${name}` : `install ${name}`);
  const missing: string[] = [];
  const nv = await s.run([node, "-p", "process.versions.node"]);
  const major = Number(nv.stdout.trim().split(".")[0]);
  if (nv.code !== 0) missing.push(`Node.js is not at ${node}: ${pkg(`node${NODE_MAJOR} npm-node${NODE_MAJOR}`)} (or pass --node PATH)`);
  else if (!(major >= NODE_MAJOR)) missing.push(`Node.js ${nv.stdout.trim()} at ${node} is older than ${NODE_MAJOR}: ${pkg(`node${NODE_MAJOR} npm-node${NODE_MAJOR}`)}`);
  else {
    say(`Node.js ${nv.stdout.trim()} at ${node}`);
    const gyp = join(dirname(dirname(node)), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
    if ((await s.run(["test", "-f", gyp])).code !== 0) missing.push(`npm (whose node-gyp builds the native pieces) is not beside ${node}: ${pkg(`npm-node${NODE_MAJOR}`)}`);
  }
  const tools: Array<[string[], string]> = [[["cc", "--version"], uname === "FreeBSD" ? "the base system's cc (install the FreeBSD base compiler set)" : "a C compiler (cc)"], [["c++", "--version"], "a C++ compiler (c++)"], [["python3", "--version"], pkg("python3")], [[uname === "FreeBSD" ? "gmake" : "make", "--version"], pkg(uname === "FreeBSD" ? "gmake" : "make")]];
  for (const [argv, fix] of tools) if ((await s.run(argv)).code !== 0) missing.push(`${argv[0]} is missing: ${fix}`);
  if (missing.length) throw new UserError(`${s.address} is not ready for the agent; nothing was installed:\n${missing.map((m) => `  - ${m}`).join("\n")}`, "E_HOST_NOT_READY");
  say("compiler, make and python3 present");
}

/** Runs `bootstrap`. */
export async function bootstrapCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  const options = { "host-key": { type: "string" }, "deploy-key": { type: "string" }, "deploy-home": { type: "string" }, node: { type: "string" }, root: { type: "string" }, ...SSH_OPTIONS } as const;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`, "E_USAGE", 64);
  }
  const v = parsed.values as Record<string, string | undefined>;
  const [address, ...extra] = parsed.positionals;
  const hostKey = v["host-key"];
  if (!address || extra.length || !hostKey) throw new UserError(`bootstrap needs ADDRESS and --host-key\n${USAGE}`, "E_USAGE", 64);
  requireHostKey(hostKey);
  const root = v.root ?? "/";
  const node = v.node ?? "/usr/local/bin/node";
  const home = v["deploy-home"] ?? "/root";
  for (const [flag, p] of [["--root", root], ["--node", node], ["--deploy-home", home]] as const) if (!p.startsWith("/")) throw new UserError(`${flag} must be an absolute path`, "E_USAGE", 64);
  let deployKey: string | undefined;
  if (v["deploy-key"] !== undefined) {
    try {
      deployKey = readFileSync(v["deploy-key"], "utf8");
    } catch (err) {
      throw new UserError(`cannot read the deploy key ${v["deploy-key"]}: ${(err as NodeJS.ErrnoException).code}`, "E_USAGE", 64);
    }
    if (/PRIVATE KEY/.test(deployKey)) throw new UserError(`${v["deploy-key"]} is a private key; pass the public key (the .pub file)`, "E_USAGE", 64);
  }
  const files = uploadFiles();
  const say = (l: string): void => void process.stdout.write(`${address}: ${l}\n`);
  let s: ShellSession;
  try {
    s = await ShellSession.open(address, hostKey, clientOptions(sshFromFlags(v)));
  } catch (err) {
    if (err instanceof AgentCallError) throw new UserError(`bootstrap: ${err.message}`, err.code);
    throw err;
  }
  let dir: string | undefined;
  try {
    await checkHost(s, node, root, say);
    const tmpBase = root === "/" ? "/var/tmp" : join(root, "var/tmp");
    const mk = await s.run(["/bin/sh", "-c", 'mkdir -p "$1" && mktemp -d "$1/bhyve-agent-upload.XXXXXX"', "mktemp", tmpBase]);
    if (mk.code !== 0) throw new UserError(`${address}: cannot make an upload directory under ${tmpBase}: ${mk.stderr.trim()}`, "E_UPLOAD");
    dir = mk.stdout.trim();
    for (const [rel, local] of files) await s.upload(join(dir, rel), readFileSync(local));
    if (deployKey !== undefined) await s.upload(join(dir, "deploy.pub"), deployKey);
    say(`uploaded ${files.length} files to ${dir}`);
    const argv = [node, join(dir, "bhyve-agent.mjs"), "install", "--from", dir, "--root", root, ...(deployKey !== undefined ? ["--deploy-key", join(dir, "deploy.pub"), "--deploy-home", home] : [])];
    const r = await s.run(argv, undefined, 900_000);
    for (const line of r.stdout.trim().split("\n").filter(Boolean)) say(line);
    if (r.code !== 0) throw new UserError(`${address}: bhyve-agent install failed (exit ${r.code}):\n${r.stderr.trim()}`, "E_INSTALL");
    say("done");
    return 0;
  } catch (err) {
    if (err instanceof AgentCallError) throw new UserError(`bootstrap: ${err.message}`, err.code);
    throw err;
  } finally {
    if (dir) await s.run(["rm", "-rf", dir]).catch(() => undefined);
    s.close();
  }
}
