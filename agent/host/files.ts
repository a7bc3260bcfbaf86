/**
 * Host file writes that survive a crash or a SIGKILL at any moment: the data goes to a fresh
 * temporary file beside the target (created with O_EXCL|O_NOFOLLOW, so that nothing planted there
 * is followed or reused), is fsync'ed, renamed over the target, and the directory is fsync'ed so
 * that the rename itself is on disk. A reader, or the next boot, sees the old file or the new one,
 * never a mix. Temporary files left by a writer that was killed are removed by the next write.
 */
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { processAlive } from "./pid-lock.js";

/** The temporary names of `base` in its directory: `.BASE.PID.RANDOM.tmp`. */
function tempPattern(base: string): RegExp {
  const quoted = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${quoted}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

/** Removes temporary files of `path` whose writer is no longer running (a writer killed half way). */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const pattern = tempPattern(basename(path));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // someone else cleaned it up first
    }
  }
}

/**
 * Makes one of the agent's own directories (state 0700, run and log 0750) and gives it exactly
 * `mode`, whatever the umask or an earlier version left: parents are made as the system's
 * directories are (0755 less the umask) and left as they are.
 */
export function agentDirectory(path: string, mode: 0o700 | 0o750): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
}

/** fsync of a directory, where the system allows it (FreeBSD and Linux do; some file systems refuse). */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0));
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EBADF on file systems without directory fsync: the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

/** Whether the file at `path` holds exactly `text` (false when it is missing or unreadable): an unchanged file need not be written again. */
export function fileHolds(path: string, text: string): boolean {
  try {
    return readFileSync(path, "utf8") === text;
  } catch {
    return false;
  }
}

/**
 * Replaces `path` with `data` so that a reader (or a crash) sees the old or the new file, never a
 * mix; `durable`: synced to disk, file and directory (false for what lives only until the next boot).
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644, durable = true): void {
  removeStaleTemps(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  let renamed = false;
  try {
    try {
      fchmodSync(fd, mode); // the exact mode, whatever the umask
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
  if (durable) fsyncDirectory(dirname(path));
}
