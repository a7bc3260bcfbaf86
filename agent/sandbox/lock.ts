/**
 * A lock file for the sandbox machine state: created with O_EXCL, holding the owner's PID. A lock
 * whose owner no longer runs is taken over. Node has no flock(2); the agent's own host lock uses
 * the native addon, but the sandbox must work without it.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

/** Raised when the lock cannot be had before the deadline. */
export class LockTimeoutError extends Error {
  readonly code = "E_LOCK_TIMEOUT";
  constructor(path: string, ms: number) {
    super(`could not lock ${path} within ${ms} ms`);
  }
}

/** True when a process with this PID exists (kill(pid, 0), as on FreeBSD). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs `fn` holding the lock at `path`; waits up to `timeoutMs` (default 10 s) for it. */
export function withLock<T>(path: string, fn: () => T, timeoutMs = 10_000): T {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, String(process.pid));
        return fn();
      } finally {
        closeSync(fd);
        unlinkSync(path);
      }
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, "utf8"));
    } catch {
      continue; // released between our open and read
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    if (Date.now() > deadline) throw new LockTimeoutError(path, timeoutMs);
    Atomics.wait(sleeper, 0, 0, wait);
    wait = Math.min(wait * 2, 20);
  }
}
