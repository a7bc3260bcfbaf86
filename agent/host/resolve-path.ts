/**
 * A host path as the host's kernel would find it, resolved inside the agent root the way a chroot
 * to that root would: each component in turn, symbolic links followed (an absolute target starts
 * again at the root, `..` never climbs above it), at most {@link MAX_SYMLINKS} links. Nothing is
 * opened; components are looked at with lstat and readlink only.
 *
 * A path whose last components do not exist resolves to the path they would have (bhyve then
 * reports the missing file); a symbolic link whose target does not exist (said with the path it
 * leads to), a loop, and a component that is not a directory do not resolve.
 */
import { lstatSync, readlinkSync, type Stats } from "node:fs";
import type { HostPaths } from "./paths.js";

/** FreeBSD's MAXSYMLINKS (sys/sys/param.h): links followed in one lookup before ELOOP. */
export const MAX_SYMLINKS = 32;

/** A host path resolved. */
export interface ResolvedPath {
  readonly ok: true;
  /** The host path with every link followed (absolute, as on the host). */
  readonly path: string;
  /** Whether a symbolic link was followed on the way. */
  readonly viaLink: boolean;
  /** The file or device found there (lstat of the last component), or null when it does not exist. */
  readonly stat: Stats | null;
}

/** A host path that does not resolve, and why. */
export interface UnresolvedPath {
  readonly ok: false;
  readonly reason: string;
  /** For a link to something that does not exist: the path it leads to, taken as written from there. */
  readonly path?: string;
}

const errno = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? "";

/** Resolves `hostPath` (absolute, as on the host) inside the agent root. */
export function resolveHostPath(paths: HostPaths, hostPath: string): ResolvedPath | UnresolvedPath {
  // Each pending component, and the link whose target it came from (null: from the path as given).
  const pending: Array<{ name: string; from: string | null }> = hostPath.split("/").filter((c) => c !== "").map((name) => ({ name, from: null }));
  const done: string[] = [];
  const chain: string[] = [];
  let links = 0;
  let missing = false;
  let dangling: string | null = null;
  let stat: Stats | null = null;
  const here = (): string => `/${done.join("/")}`;
  while (pending.length > 0) {
    const { name, from } = pending.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      done.pop();
      continue;
    }
    const candidate = done.length ? `${here()}/${name}` : `/${name}`;
    if (missing) {
      // Below a component that does not exist nothing can be looked up; the rest is taken as written.
      done.push(name);
      continue;
    }
    let st: Stats;
    try {
      st = lstatSync(paths.at(candidate));
    } catch (e) {
      if (errno(e) === "ENOENT") {
        if (from !== null) dangling = `the symbolic link ${from} leads to ${candidate}, which does not exist`;
        missing = true;
        done.push(name);
        continue;
      }
      if (errno(e) === "ENOTDIR") return { ok: false, reason: `${here()} is not a directory` };
      return { ok: false, reason: `${candidate} cannot be looked up (${errno(e) || (e as Error).message})` };
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return { ok: false, reason: `more than ${MAX_SYMLINKS} symbolic links (a loop: ${chain.slice(0, 4).join(", ")}, ...)` };
      let target: string;
      try {
        target = readlinkSync(paths.at(candidate), "utf8");
      } catch (e) {
        return { ok: false, reason: `the symbolic link ${candidate} cannot be read (${errno(e) || (e as Error).message})` };
      }
      chain.push(`${candidate} -> ${target}`);
      if (target.startsWith("/")) done.length = 0;
      pending.unshift(...target.split("/").filter((c) => c !== "").map((n) => ({ name: n, from: candidate })));
      continue;
    }
    // Anything after a file (even "." or ".."): the kernel says ENOTDIR.
    if (pending.length > 0 && !st.isDirectory()) return { ok: false, reason: `${candidate} is not a directory` };
    done.push(name);
  }
  if (dangling) return { ok: false, reason: dangling, path: here() };
  if (!missing) {
    try {
      stat = lstatSync(paths.at(here()));
    } catch {
      stat = null;
    }
  }
  return { ok: true, path: here(), viaLink: links > 0, stat };
}

/** What identifies the file a resolved path names: its device and inode when it exists, else the path. */
export function fileIdentity(r: ResolvedPath): string {
  return r.stat ? `inode ${r.stat.dev}:${r.stat.ino}` : `path ${r.path}`;
}
