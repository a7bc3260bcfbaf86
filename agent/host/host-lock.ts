/**
 * The host lock: one change at a time on a host, across agent processes (two SSH sessions, an
 * rc.d autostart and an apply). flock(2) through the native addon, so that a killed agent
 * releases it with its last file descriptor; without the addon, a PID lock file.
 */
import { closeSync, mkdirSync, openSync, ftruncateSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { loadNativeProbe } from "./native.js";
import type { HostPaths } from "./paths.js";
import { acquireLock } from "./pid-lock.js";

/** Another change holds the lock past the deadline. */
export class HostLockedError extends Error {
  readonly code = "E_LOCKED";
  constructor(timeoutMs: number) {
    super(`another change to this host is in progress (the host lock was not free within ${timeoutMs} ms); try again when it has finished`);
  }
}

/** Default wait for the host lock. */
export const HOST_LOCK_TIMEOUT_MS = 120_000;

/** Runs `fn` holding the host lock. */
export async function withHostLock<T>(paths: HostPaths, fn: () => Promise<T>, timeoutMs = HOST_LOCK_TIMEOUT_MS): Promise<T> {
  mkdirSync(dirname(paths.lockFile), { recursive: true });
  const native = loadNativeProbe();
  if (!native.available) {
    let release: () => void;
    try {
      release = await acquireLock(`${paths.lockFile}.pid`, timeoutMs);
    } catch (err) {
      throw (err as { code?: string }).code === "E_LOCK_TIMEOUT" ? new HostLockedError(timeoutMs) : err;
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }
  const fd = openSync(paths.lockFile, "a+", 0o600);
  try {
    const deadline = Date.now() + timeoutMs;
    let wait = 5;
    while (!native.probe.flock(fd, "exclusive", true)) {
      if (Date.now() > deadline) throw new HostLockedError(timeoutMs);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 100);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    return await fn();
  } finally {
    closeSync(fd);
  }
}
