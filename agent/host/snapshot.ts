/**
 * One snapshot of the host's facts per RPC session, instead of running the tools again for every
 * request: a `terraform plan` asks one host about each of its devices and guests, and each answer
 * needs the same facts (PCI drivers, vmm.ko, IOMMU). The snapshot is shared by the requests of a
 * session (concurrent ones wait for the same gathering) and is taken again when the host's
 * generation changes: every change that can alter the facts (a device bound or released, vmm.ko
 * loaded) bumps a host-wide counter under the host lock, so a session never serves facts older than
 * another session's change. What changes behind the agent's back (devctl by hand, a reboot) shows
 * in the next session.
 *
 * Outside a session (the one-shot console commands, and code called in-process) every call
 * gathers the facts afresh, as before.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { agentDirectory, writeFileAtomic } from "./files.js";
import { join } from "node:path";
import { gatherFacts, type HostFacts } from "./facts.js";
import type { HostPaths } from "./paths.js";

/** The facts a session has gathered, per agent root, with the generation they were gathered at. */
export class SessionSnapshots {
  readonly byRoot = new Map<string, { generation: string; facts: Promise<HostFacts> }>();
  /** Other readings of a host shared the same way (`ifconfig -a` for the guests' network), by root and name. */
  readonly readings = new Map<string, { generation: string; value: Promise<unknown> }>();
}

const scope = new AsyncLocalStorage<SessionSnapshots>();

/** Runs `fn` (one RPC session) with its own snapshots: the calls within it share facts. */
export function withSessionSnapshots<T>(snapshots: SessionSnapshots, fn: () => T): T {
  return scope.run(snapshots, fn);
}

function generationFile(paths: HostPaths): string {
  return join(paths.runDir, "generation");
}

/** A generation stamp as written in `file`; "0" before the first change. */
function readStamp(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "0";
  }
}

let bumps = 0;

/** Writes a new generation stamp (unique to this process and call) to `file` in the run directory; returns it. */
function writeStamp(paths: HostPaths, file: string): string {
  const next = `${Date.now()}-${process.pid}-${++bumps}`;
  agentDirectory(paths.runDir, 0o750);
  // Not synced to disk: the run directory does not outlive a boot, and neither need the stamps.
  writeFileAtomic(file, `${next}\n`, 0o644, false);
  return next;
}

/** The host's generation now: bumped by every change that can alter the facts. */
export function hostGeneration(paths: HostPaths): string {
  return readStamp(generationFile(paths));
}

/**
 * Marks the host's facts as changed (call it holding the host lock, after the change): every
 * session's snapshot is stale from now on; this session keeps `fresh` when given (facts gathered
 * after the change).
 */
export function hostFactsChanged(paths: HostPaths, fresh?: HostFacts): void {
  const next = writeStamp(paths, generationFile(paths));
  const s = scope.getStore();
  if (!s) return;
  if (fresh) s.byRoot.set(paths.root, { generation: next, facts: Promise.resolve(fresh) });
  else s.byRoot.delete(paths.root);
  for (const k of [...s.readings.keys()]) if (k.startsWith(`${paths.root}\0`)) s.readings.delete(k);
}

/**
 * A reading of the host (`name`: what `read` gathers) shared by the requests of a session while
 * the host's generation is unchanged, as {@link hostFacts}; outside a session, read afresh. For
 * reads only: a change reads the host itself, and bumps the generation when it changed something.
 */
export function sessionReading<T>(paths: HostPaths, name: string, read: () => Promise<T>): Promise<T> {
  const s = scope.getStore();
  if (!s) return read();
  const key = `${paths.root}\0${name}`;
  const generation = `${hostGeneration(paths)}/${readStamp(readingFile(paths, name))}`;
  const have = s.readings.get(key);
  if (have && have.generation === generation) return have.value as Promise<T>;
  const value = read();
  s.readings.set(key, { generation, value });
  value.catch(() => {
    if (s.readings.get(key)?.value === value) s.readings.delete(key);
  });
  return value;
}

/** The host's facts: this session's snapshot while the host's generation is unchanged, else gathered now. */
export function hostFacts(paths: HostPaths): Promise<HostFacts> {
  const s = scope.getStore();
  if (!s) return gatherFacts(paths);
  const generation = hostGeneration(paths);
  const have = s.byRoot.get(paths.root);
  if (have && have.generation === generation) return have.facts;
  const facts = gatherFacts(paths);
  s.byRoot.set(paths.root, { generation, facts });
  facts.catch(() => {
    if (s.byRoot.get(paths.root)?.facts === facts) s.byRoot.delete(paths.root);
  });
  return facts;
}

function readingFile(paths: HostPaths, name: string): string {
  return join(paths.runDir, `generation.${name}`);
}

/**
 * Marks one reading (see {@link sessionReading}) as changed on the host, leaving the facts alone:
 * the network's `ifconfig` after a bridge, vlan or tap was made or changed (by a converge, or by a
 * guest's monitor running net-up, outside any session).
 */
export function readingChanged(paths: HostPaths, name: string): void {
  writeStamp(paths, readingFile(paths, name));
  const s = scope.getStore();
  s?.readings.delete(`${paths.root}\0${name}`);
}
