/**
 * The agent's own installation on a host, under the agent root:
 *
 *   usr/local/libexec/bhyve-agent/versions/VERSION-SHA/dist/bhyve-agent.mjs   one dir per version
 *   usr/local/libexec/bhyve-agent/versions/VERSION-SHA/native -> ../../native
 *   usr/local/libexec/bhyve-agent/native/        binding.gyp, sources, build/Release (built here)
 *   usr/local/libexec/bhyve-agent/current  -> versions/...   switched atomically (rename of a symlink)
 *   usr/local/libexec/bhyve-agent/previous -> versions/...   kept for `bhyve-agent rollback`
 *   usr/local/bin/bhyve-agent                    runs node on current's bundle (rc.d and the forced command use it)
 *   usr/local/etc/rc.d/bhyve_agent
 *
 * The native pieces are shared by every version and are not touched by an upgrade: running
 * monitors keep their executable, and the agent is a new process per SSH session anyway.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { shellQuote } from "../model/shell-quote.js";
import { writeFileAtomic } from "./files.js";
import type { HostPaths } from "./paths.js";
import { AgentError } from "../model/errors.js";

/** Where the installation lives under a root. */
export function installLayout(paths: HostPaths) {
  const dir = paths.at("/usr/local/libexec/bhyve-agent");
  return {
    dir,
    versions: join(dir, "versions"),
    native: join(dir, "native"),
    current: join(dir, "current"),
    previous: join(dir, "previous"),
    wrapper: paths.at("/usr/local/bin/bhyve-agent"),
    rcScript: paths.at("/usr/local/etc/rc.d/bhyve_agent"),
  };
}

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

function linkTarget(link: string): string | null {
  try {
    return lstatSync(link).isSymbolicLink() ? readlinkSync(link) : null;
  } catch {
    return null;
  }
}

/** Points `link` at `target` atomically: a new symlink renamed over the old one. */
function switchLink(link: string, target: string): void {
  const tmp = `${link}.${process.pid}.new`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/** What is installed: the versions in use, by their directory names. */
export function installedVersions(paths: HostPaths): { current: string | null; previous: string | null; all: string[] } {
  const l = installLayout(paths);
  const name = (t: string | null) => (t ? basename(t) : null);
  return {
    current: name(linkTarget(l.current)),
    previous: name(linkTarget(l.previous)),
    all: existsSync(l.versions) ? readdirSync(l.versions).filter((d) => !d.startsWith(".")).sort() : [],
  };
}

/** The outcome of installing a bundle. */
export interface BundleResult {
  readonly version: string;
  readonly installed: string;
  readonly changed: boolean;
  readonly previous: string | null;
}

/**
 * Verifies a bundle (its SHA-256, then that it runs with this host's node and reports `version`),
 * installs it as a new version, switches `current` to it and keeps the one before as `previous`.
 * Installing the bundle that is already current changes nothing.
 */
export function installBundle(paths: HostPaths, bundle: Buffer, expectedSha256: string, node: string, expectVersion?: string): BundleResult {
  const l = installLayout(paths);
  const actual = sha256(bundle);
  if (actual !== expectedSha256.toLowerCase()) throw new AgentError(`the bundle's SHA-256 is ${actual}, not ${expectedSha256}: it was damaged or is not the one meant; nothing was installed`, "E_CHECKSUM");
  const before = installedVersions(paths);
  if (before.current) {
    const f = join(l.versions, before.current, "dist", "bhyve-agent.mjs");
    if (existsSync(f) && sha256(readFileSync(f)) === actual) return { version: before.current.replace(/-[0-9a-f]{12}$/, ""), installed: before.current, changed: false, previous: before.previous };
  }
  mkdirSync(l.versions, { recursive: true });
  const staging = join(l.versions, `.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, "dist"), { recursive: true });
  try {
    writeFileAtomic(join(staging, "dist", "bhyve-agent.mjs"), bundle, 0o555);
    symlinkSync(join("..", "..", "native"), join(staging, "native"));
    let version: string;
    try {
      version = execFileSync(node, [join(staging, "dist", "bhyve-agent.mjs"), "version"], { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new AgentError(`the new bundle does not run with ${node}: ${(e.stderr || e.message).trim().split("\n").slice(-3).join(" | ")}; nothing was switched`, "E_BUNDLE_BROKEN");
    }
    if (!/^\d+\.\d+\.\d+[A-Za-z0-9.+-]*$/.test(version)) throw new AgentError(`the new bundle reports version "${version}", not a version number; nothing was switched`, "E_BUNDLE_BROKEN");
    if (expectVersion !== undefined && version !== expectVersion) throw new AgentError(`the bundle reports version ${version}, not ${expectVersion}; nothing was switched`, "E_VERSION_MISMATCH");
    const name = `${version}-${actual.slice(0, 12)}`;
    const final = join(l.versions, name);
    if (existsSync(final)) rmSync(staging, { recursive: true, force: true });
    else renameSync(staging, final);
    const target = relative(l.dir, final);
    const old = linkTarget(l.current);
    if (old && old !== target) switchLink(l.previous, old);
    switchLink(l.current, target);
    prune(paths);
    return { version, installed: name, changed: true, previous: old ? basename(old) : null };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes versions that are neither current nor previous. */
function prune(paths: HostPaths): void {
  const l = installLayout(paths);
  const v = installedVersions(paths);
  for (const d of v.all) if (d !== v.current && d !== v.previous) rmSync(join(l.versions, d), { recursive: true, force: true });
}

/** Makes `previous` current again (and the current one previous). */
export function rollback(paths: HostPaths): { current: string; previous: string } {
  const l = installLayout(paths);
  const cur = linkTarget(l.current);
  const prev = linkTarget(l.previous);
  if (!cur || !prev) throw new AgentError("there is no previous version to go back to", "E_NO_PREVIOUS");
  switchLink(l.current, prev);
  switchLink(l.previous, cur);
  return { current: basename(prev), previous: basename(cur) };
}

/** Hash of a directory's files (paths and contents), to tell whether sources changed. */
function treeHash(dir: string): string {
  const h = createHash("sha256");
  for (const f of (readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).sort()) {
    const p = join(dir, f);
    if (lstatSync(p).isFile()) h.update(`${f}\0`).update(readFileSync(p)).update("\0");
  }
  return h.digest("hex");
}

/**
 * Installs the native sources from `from` (native/ and node_modules/node-addon-api/ of the
 * package) and builds them with this host's compiler, through the node-gyp that npm bundles.
 * Unchanged sources with a finished build are left alone.
 */
export function installNative(paths: HostPaths, from: string, node: string): { changed: boolean; log: string } {
  const l = installLayout(paths);
  const src = join(from, "native");
  const stamp = join(l.native, ".sources.sha256");
  const hash = treeHash(src) + treeHash(join(from, "node_modules", "node-addon-api"));
  const built = existsSync(join(l.native, "build", "Release", "bhyve-monitor")) && existsSync(join(l.native, "build", "Release", "bhyve_probe.node"));
  if (built && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return { changed: false, log: "" };
  rmSync(l.native, { recursive: true, force: true });
  cpSync(src, l.native, { recursive: true });
  rmSync(join(l.dir, "node_modules"), { recursive: true, force: true });
  cpSync(join(from, "node_modules"), join(l.dir, "node_modules"), { recursive: true });
  let log: string;
  try {
    log = execFileSync(node, [join(l.native, "build.mjs")], { cwd: l.dir, encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? "/usr/bin:/bin"}` } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new AgentError(`building the native pieces failed (a C/C++ compiler, make and python3 are needed; on FreeBSD: pkg install python3 gmake, the compiler is in base):\n${`${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n") || e.message}`, "E_NATIVE_BUILD");
  }
  writeFileSync(stamp, hash);
  return { changed: true, log };
}

function writeIfChanged(path: string, content: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === content && (lstatSync(path).mode & 0o777) === mode) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, content, mode);
  chmodSync(path, mode);
  return true;
}

/** The command that runs the installed agent: `usr/local/bin/bhyve-agent` with node's absolute path (rc.d's PATH has no /usr/local/bin). */
export function installWrapper(paths: HostPaths, node: string): boolean {
  const l = installLayout(paths);
  const script = `#!/bin/sh\n# Written by bhyve-agent install: runs the current agent version.\nexec ${shellQuote(node)} ${shellQuote(join(l.current, "dist", "bhyve-agent.mjs"))} "$@"\n`;
  return writeIfChanged(l.wrapper, script, 0o555);
}

/** The rc.d script, with its program pointed at the wrapper under this root. */
export function installRcScript(paths: HostPaths, script: string): boolean {
  const l = installLayout(paths);
  const text = paths.root === "/" ? script : script.replace('${bhyve_agent_program:="/usr/local/bin/bhyve-agent"}', `\${bhyve_agent_program:="${l.wrapper}"}`);
  return writeIfChanged(l.rcScript, text, 0o555);
}

const KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})(?: ([^\n]*))?$/;

/** The forced command of the deploy key: the agent's rpc, and nothing else. */
export function forcedCommand(paths: HostPaths): string {
  const argv = [installLayout(paths).wrapper, "rpc", ...(paths.root === "/" ? [] : ["--root", paths.root])];
  return argv.map(shellQuote).join(" ");
}

/**
 * Adds a public key to `HOME/.ssh/authorized_keys` (under the root) with `restrict` and the
 * forced command, so that it can only speak the agent protocol. An entry for the same key is
 * replaced; an identical entry is left alone.
 */
export function installDeployKey(paths: HostPaths, home: string, publicKey: string): { changed: boolean; file: string; line: string } {
  const m = KEY_LINE.exec(publicKey.trim());
  if (!m) throw new AgentError("the deploy key is not one OpenSSH public key line (TYPE BASE64 [COMMENT])", "E_DEPLOY_KEY");
  const [, type, blob, comment] = m;
  const command = forcedCommand(paths);
  if (command.includes('"')) throw new AgentError("the agent's path holds a double quote, which authorized_keys cannot carry", "E_DEPLOY_KEY");
  const line = `restrict,command="${command}" ${type} ${blob}${comment ? ` ${comment.replace(/[^\x20-\x7e]/g, "")}` : ""}`;
  const file = paths.at(join(home, ".ssh", "authorized_keys"));
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((x) => x.trim() !== "") : [];
  const same = (x: string) => x.split(/\s+/).includes(blob!);
  if (lines.filter(same).length === 1 && lines.includes(line)) return { changed: false, file, line };
  const next = [...lines.filter((x) => !same(x)), line];
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${next.join("\n")}\n`, 0o600);
  chmodSync(file, 0o600);
  return { changed: true, file, line };
}
