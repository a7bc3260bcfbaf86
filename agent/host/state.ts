/**
 * What the agent keeps between runs (var/db/bhyve-agent/state.json): the desired state it was
 * given (host settings, reservations, the guests it created), and the host driver each device had
 * before it was bound to ppt, so that releasing it can give it back.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { checkDocumentData } from "../spec/validate.js";
import { toDocument } from "../spec/document.js";
import type { DesiredState } from "../spec/types.js";
import { writeFileAtomic } from "./files.js";
import type { HostPaths } from "./paths.js";

/** The stored state. */
export interface AgentState {
  readonly desired: DesiredState;
  /** B/S/F → driver seen before ppt took the device. */
  readonly hostDrivers: Readonly<Record<string, string>>;
  /** Devices (B/S/F) released from the desired state that are still bound to ppt: tried again on each run. */
  readonly releasing: readonly string[];
  /** Host settings were given (host.configure or host.apply) and not released: the managed block stays even with nothing else in it. */
  readonly hostManaged: boolean;
}

const EMPTY: DesiredState = {
  host: { vmmLoad: true, amdviEnable: "auto", requireIommu: true, requireNestedPaging: true },
  ppt: [],
  guests: [],
};

/** Reads the state; a missing file is the empty state. A corrupt one is an error, never silently reset. */
export function readAgentState(paths: HostPaths): AgentState {
  if (!existsSync(paths.stateFile)) return { desired: EMPTY, hostDrivers: {}, releasing: [], hostManaged: false };
  const raw = JSON.parse(readFileSync(paths.stateFile, "utf8")) as { desired: unknown; hostDrivers?: Record<string, string>; releasing?: string[]; hostManaged?: boolean };
  const r = checkDocumentData(raw.desired);
  if (!r.ok) throw new Error(`${paths.stateFile} holds an invalid desired state: ${r.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return { desired: r.state, hostDrivers: raw.hostDrivers ?? {}, releasing: raw.releasing ?? [], hostManaged: raw.hostManaged ?? true };
}

/** Writes the state atomically. */
export function writeAgentState(paths: HostPaths, state: AgentState): void {
  mkdirSync(paths.dbDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(paths.stateFile, `${JSON.stringify({ desired: toDocument(state.desired), hostDrivers: state.hostDrivers, releasing: state.releasing, hostManaged: state.hostManaged }, null, 1)}\n`, 0o600);
}
