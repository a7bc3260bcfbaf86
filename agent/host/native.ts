/**
 * The native pieces, found where `npm install` built them (native/build/Release): the probe addon
 * (CPUID, flock) and the bhyve-monitor executable, and whether a locked pid file is live. The
 * agent works without the addon, with fewer pieces of evidence, and says so; it cannot run guests
 * without the monitor.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { processAlive } from "./pid-lock.js";

/** CPUID registers of one leaf. */
export interface CpuidRegs {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** What the addon offers. */
export interface NativeProbe {
  /** CPUID, or null where the CPU has no such leaf (or no CPUID: not x86). */
  cpuid(leaf: number, subleaf?: number): CpuidRegs | null;
  /** flock(2); false when `nonblocking` and someone else holds the lock. Throws with `errno` otherwise. */
  flock(fd: number, mode: "shared" | "exclusive" | "unlock", nonblocking?: boolean): boolean;
  /** False on CPUs without CPUID. */
  readonly cpuidAvailable: boolean;
  /** A new pseudo-terminal pair: the master's fd (the caller closes it) and the terminal's path. */
  openpt(): { fd: number; path: string };
}

/** The addon, or why it is not there. */
export type NativeProbeResult = { available: true; probe: NativeProbe; path: string } | { available: false; reason: string };

/** Where native/build/Release is: beside the bundle's parent (dist/) or two levels above this source file. */
export function nativeBuildDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../native/build/Release"), resolve(here, "../../native/build/Release")];
  return candidates.find((d) => existsSync(d)) ?? candidates[0]!;
}

let cached: NativeProbeResult | undefined;

/** Loads the probe addon once. */
export function loadNativeProbe(): NativeProbeResult {
  if (cached) return cached;
  const path = join(nativeBuildDir(), "bhyve_probe.node");
  if (!existsSync(path)) {
    cached = { available: false, reason: `the native addon is not built (${path} is missing; npm install builds it)` };
    return cached;
  }
  try {
    const probe = createRequire(import.meta.url)(path) as NativeProbe;
    cached = { available: true, probe, path };
  } catch (err) {
    cached = { available: false, reason: `the native addon at ${path} does not load: ${(err as Error).message}` };
  }
  return cached;
}

/** Path of the bhyve-monitor executable, or null when it was not built. */
export function monitorExecutable(): string | null {
  const path = join(nativeBuildDir(), "bhyve-monitor");
  return existsSync(path) ? path : null;
}

/**
 * The PID in a pid file that its owner keeps flock(2)ed for its whole life (as bhyve-monitor does
 * with monitor.pid), or null when the file is missing, empty, or stale: a pid file nobody holds
 * locked names a process that is gone, and its number may by now belong to an unrelated process,
 * which must never get a signal meant for the owner.
 *
 * The check takes a shared lock without waiting and drops it at once: shared, so that two agents
 * checking at the same moment do not take each other for the owner (an owner starting in that
 * instant retries its exclusive lock). Without the native addon there is no flock(2) in Node: the
 * PID then counts only when a process with that PID runs a program named `command` (ps -o comm).
 */
export function lockedPid(path: string, command: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const native = loadNativeProbe();
    if (native.available) {
      if (native.probe.flock(fd, "shared", true)) {
        native.probe.flock(fd, "unlock");
        return null;
      }
    }
    const pid = Number(readFileSync(fd, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return null;
    if (!native.available && processCommand(pid) !== command) return null;
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** The command name of a running process (ps -o comm=, on FreeBSD and Linux alike), or null. */
function processCommand(pid: number): string | null {
  try {
    return execFileSync("/bin/ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}
