/**
 * The native pieces, found where `npm install` built them (native/build/Release): the probe addon
 * (CPUID, flock) and the bhyve-monitor executable. The agent works without the addon, with fewer
 * pieces of evidence, and says so; it cannot run guests without the monitor.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
