/**
 * The host lock: one change at a time on a host, across agent processes (two SSH sessions, an
 * rc.d autostart and an apply). flock(2) through the native addon, so that a killed agent
 * releases it with its last file descriptor; without the addon, a PID lock file.
 */
import { closeSync, openSync, ftruncateSync, readFileSync, writeSync } from "node:fs";
import { agentDirectory } from "./files.js";
import { dirname } from "node:path";
import { loadNativeProbe } from "./native.js";
import type { HostPaths } from "./paths.js";
import { acquireLock, processAlive } from "./pid-lock.js";
import { AgentError } from "../model/errors.js";

/** Another change holds the host lock. */
function hostLocked(timeoutMs: number): AgentError {
  return new AgentError(`another change to this host is in progress (the host lock was not free within ${timeoutMs} ms); try again when it has finished`, "E_LOCKED");
}

/** Default wait for the host lock. */
export const HOST_LOCK_TIMEOUT_MS = 120_000;

/** Told once per wait when the host lock is not free at once: the lock file and the PID it names (null when unknown). */
export type HostLockWaitListener = (lockFile: string, holder: number | null) => void;

let waitListener: HostLockWaitListener | undefined;

/**
 * Sets (or clears) the listener told when a change has to wait for the host lock. The console
 * commands print a line, so that an operator sees why a command does not proceed; tests use it
 * to know that a second change is really blocked on the lock.
 */
export function onHostLockWait(listener: HostLockWaitListener | undefined): void {
  waitListener = listener;
}

function holderOf(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether another process holds the host lock now (a non-blocking try, released at once). */
export function hostLockHeld(paths: HostPaths): boolean {
  const native = loadNativeProbe();
  if (!native.available) {
    const holder = holderOf(`${paths.lockFile}.pid`);
    return holder !== null && holder !== process.pid && processAlive(holder);
  }
  agentDirectory(dirname(paths.lockFile), 0o750);
  const fd = openSync(paths.lockFile, "a+", 0o600);
  try {
    if (!native.probe.flock(fd, "exclusive", true)) return true;
    native.probe.flock(fd, "unlock");
    return false;
  } finally {
    closeSync(fd);
  }
}

/** This process's queue per lock file: the promise that settles when the last one in line is done. */
const queues = new Map<string, Promise<void>>();

/**
 * Waits for this process's turn at `lockFile` (the changes of one agent process, such as the
 * requests of one RPC session, queue in order and hand the lock on at once, without polling the
 * flock); resolves with the function that ends the turn. Told to the wait listener like a wait for
 * another process; a wait longer than `timeoutMs` is E_LOCKED and gives its turn up.
 */
async function localTurn(lockFile: string, timeoutMs: number): Promise<() => void> {
  const before = queues.get(lockFile);
  let end!: () => void;
  const turn = new Promise<void>((r) => (end = r));
  const tail = (before ?? Promise.resolve()).then(() => turn);
  queues.set(lockFile, tail);
  void tail.then(() => {
    if (queues.get(lockFile) === tail) queues.delete(lockFile);
  });
  if (before) {
    waitListener?.(lockFile, process.pid);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([before.then(() => "turn" as const), new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)))]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      end();
      throw hostLocked(timeoutMs);
    }
  }
  return end;
}

/**
 * Runs `fn` holding the host lock. `fn` may give the lock up before it returns by calling
 * `release` (a change that only watches what it started); the lock is released at the end
 * otherwise.
 */
export async function withHostLock<T>(paths: HostPaths, fn: (release: () => void) => Promise<T>, timeoutMs = HOST_LOCK_TIMEOUT_MS): Promise<T> {
  agentDirectory(dirname(paths.lockFile), 0o750);
  const started = Date.now();
  const endTurn = await localTurn(paths.lockFile, timeoutMs);
  try {
    return await withProcessLock(paths, (release) => fn(() => {
      release();
      endTurn();
    }), Math.max(0, timeoutMs - (Date.now() - started)), timeoutMs);
  } finally {
    endTurn();
  }
}

/** The cross-process part of the host lock: flock, or the PID lock file without the addon. */
async function withProcessLock<T>(paths: HostPaths, fn: (release: () => void) => Promise<T>, timeoutMs: number, statedTimeoutMs: number): Promise<T> {
  const native = loadNativeProbe();
  if (!native.available) {
    let unlock: () => void;
    try {
      unlock = await acquireLock(`${paths.lockFile}.pid`, timeoutMs, () => waitListener?.(`${paths.lockFile}.pid`, holderOf(`${paths.lockFile}.pid`)));
    } catch (err) {
      throw (err as { code?: string }).code === "E_LOCK_TIMEOUT" ? hostLocked(statedTimeoutMs) : err;
    }
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      unlock();
    };
    try {
      return await fn(release);
    } finally {
      release();
    }
  }
  const fd = openSync(paths.lockFile, "a+", 0o600);
  let open = true;
  const release = (): void => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  try {
    const deadline = Date.now() + timeoutMs;
    let wait = 5;
    let told = false;
    while (!native.probe.flock(fd, "exclusive", true)) {
      if (!told) {
        told = true;
        waitListener?.(paths.lockFile, holderOf(paths.lockFile));
      }
      if (Date.now() > deadline) throw hostLocked(statedTimeoutMs);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 100);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    return await fn(release);
  } finally {
    release();
  }
}
