/**
 * A lock file created with O_EXCL and holding the owner's PID; a lock whose owner no longer runs
 * is taken over. Node has no flock(2): the agent's host lock uses the native addon's flock and
 * falls back to this where the addon is not built; the sandbox always uses this.
 */
import { execFileSync } from "node:child_process";
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { AgentError } from "../model/errors.js";

/** True when a process with this PID exists (kill(pid, 0), as on FreeBSD). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when the process is a zombie: it has exited and waits for its parent to collect it, which
 * may never happen while that parent is the one blocked on this lock (ps shows state Z on FreeBSD
 * and Linux alike). Unknown counts as not a zombie.
 */
export function isZombie(pid: number): boolean {
  try {
    return execFileSync("/bin/ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().startsWith("Z");
  } catch {
    return false;
  }
}

/** After this long waiting, a holder is also checked for being a zombie (a ps run per attempt). */
const ZOMBIE_CHECK_AFTER_MS = 250;

/**
 * One attempt: a release function when the lock was taken, undefined when someone else holds it.
 * The lock file appears whole, already holding our PID (written to a private file, then linked
 * into place, which fails when the lock exists): a holder killed at any moment leaves a file that
 * names it, never an empty one that nobody could take over.
 */
function tryAcquire(path: string, checkZombie = false): (() => void) | undefined {
  const mine = `${path}.${process.pid}.tmp`;
  const fd = openSync(mine, "w", 0o600);
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(mine, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, "utf8"));
    } catch {
      return undefined; // released between our link and read: try again
    }
    if (Number.isInteger(owner) && owner > 0 && (!processAlive(owner) || (checkZombie && isZombie(owner)))) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter took it over first
      }
    }
    return undefined;
  } finally {
    unlinkSync(mine);
  }
  return () => unlinkSync(path);
}

/** The lock at `path` was not free before the deadline. */
function lockTimeout(path: string, ms: number): AgentError {
  return new AgentError(`could not lock ${path} within ${ms} ms`, "E_LOCK_TIMEOUT");
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs `fn` holding the lock at `path`, waiting (synchronously) up to `timeoutMs` (default 10 s). */
export function withLock<T>(path: string, fn: () => T, timeoutMs = 10_000): T {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let wait = 1;
  for (;;) {
    const release = tryAcquire(path, Date.now() - started > ZOMBIE_CHECK_AFTER_MS);
    if (release) {
      try {
        return fn();
      } finally {
        release();
      }
    }
    if (Date.now() > deadline) throw lockTimeout(path, timeoutMs);
    Atomics.wait(sleeper, 0, 0, wait);
    wait = Math.min(wait * 2, 20);
  }
}

/** Takes the lock, waiting asynchronously up to `timeoutMs`; resolves with its release function. `onWait` is called once when it has to wait. */
export async function acquireLock(path: string, timeoutMs: number, onWait?: () => void): Promise<() => void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let wait = 5;
  let told = false;
  for (;;) {
    const release = tryAcquire(path, Date.now() - started > ZOMBIE_CHECK_AFTER_MS);
    if (release) return release;
    if (!told) {
      told = true;
      onWait?.();
    }
    if (Date.now() > deadline) throw lockTimeout(path, timeoutMs);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 100);
  }
}
