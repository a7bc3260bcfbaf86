/**
 * What the agent keeps between runs (var/db/bhyve-agent/state.json): the desired state it was
 * given (host settings, reservations, the guests it created), and the host driver each device had
 * before it was bound to ppt, so that releasing it can give it back.
 *
 * Crash safety: state.json is only ever replaced atomically (files.ts), and before each write that
 * changes it the current file, when it is a valid state, is copied to state.json.previous (also
 * atomically). A state.json that is nonetheless corrupt (truncated, not JSON, the wrong shape: a
 * disk fault, a hand edit) is never reset silently: every read raises StateError (E_STATE), which
 * names the file and the last good copy, and nothing on the host is changed until it is repaired.
 */
import { existsSync, readFileSync } from "node:fs";
import { checkDocumentData } from "../model/validate.js";
import { toDocument } from "../model/document.js";
import type { DesiredState } from "../model/types.js";
import { DEFAULT_HOST_SETTINGS } from "../model/decode.js";
import { agentDirectory, writeFileAtomic } from "./files.js";
import type { HostPaths } from "./paths.js";
import { AgentError } from "../model/errors.js";

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

/** The agent's state file cannot be used; nothing was changed. */
export class StateError extends AgentError {
  constructor(
    /** The state file at fault. */
    readonly file: string,
    /** What is wrong with it (one line). */
    readonly reason: string,
    /** The last good copy (state.json.previous), or null when there is none that is valid. */
    readonly previous: string | null,
    previousProblem: string,
  ) {
    super(
      `${file} is not a valid agent state (${reason}); the agent changes nothing on this host until it is repaired. ` +
        (previous
          ? `The last good copy is ${previous}: check it and copy it over ${file}, or remove ${file} to start again from an empty desired state`
          : `There is no good copy to go back to (${previousProblem}): remove ${file} to start again from an empty desired state, then apply the host's document`),
      "E_STATE",
    );
    this.name = "StateError";
  }
}

/** The file name of the last good copy of a state file. */
export function previousStateFile(paths: HostPaths): string {
  return `${paths.stateFile}.previous`;
}

const EMPTY: DesiredState = {
  host: DEFAULT_HOST_SETTINGS,
  ppt: [],
  switches: [],
  guests: [],
};

const EMPTY_STATE: AgentState = { desired: EMPTY, hostDrivers: {}, releasing: [], hostManaged: false };

/** One line, at most `max` characters: JSON.parse's messages quote the text they choked on. */
function oneLine(s: string, max = 160): string {
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const BSF = /^\d{1,3}\/\d{1,2}\/\d$/;

/** Decodes the text of a state file: the state, or why it is not one. */
export function decodeAgentState(text: string): { ok: true; state: AgentState } | { ok: false; reason: string } {
  if (text.trim() === "") return { ok: false, reason: "the file is empty" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON, perhaps truncated: ${oneLine((err as Error).message)}` };
  }
  if (!isRecord(raw)) return { ok: false, reason: "expected a JSON object at the top level" };
  if (!("desired" in raw)) return { ok: false, reason: "desired: missing" };
  const r = checkDocumentData(raw.desired);
  if (!r.ok) {
    const shown = r.problems.slice(0, 3).map((p) => `desired.${p.path}: ${p.message}`).join("; ");
    return { ok: false, reason: oneLine(`${shown}${r.problems.length > 3 ? ` (and ${r.problems.length - 3} more)` : ""}`, 300) };
  }
  const hostDrivers = raw.hostDrivers ?? {};
  if (!isRecord(hostDrivers) || Object.entries(hostDrivers).some(([k, v]) => !BSF.test(k) || typeof v !== "string" || !/^[A-Za-z0-9_.-]+$/.test(v))) {
    return { ok: false, reason: "hostDrivers: expected a mapping of B/S/F to driver names" };
  }
  const releasing = raw.releasing ?? [];
  if (!Array.isArray(releasing) || releasing.some((d) => typeof d !== "string" || !BSF.test(d))) {
    return { ok: false, reason: "releasing: expected a list of B/S/F device addresses" };
  }
  const hostManaged = raw.hostManaged ?? true;
  if (typeof hostManaged !== "boolean") return { ok: false, reason: "hostManaged: expected true or false" };
  return { ok: true, state: { desired: r.state, hostDrivers: hostDrivers as Record<string, string>, releasing: releasing as string[], hostManaged } };
}

function readIfPresent(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Reads the state; a missing file is the empty state (nothing was ever applied). A file that is
 * there but not a valid state raises StateError, never a silent reset.
 */
export function readAgentState(paths: HostPaths): AgentState {
  let text: string | null;
  try {
    text = readIfPresent(paths.stateFile);
  } catch (err) {
    throw stateError(paths, `cannot be read: ${oneLine((err as Error).message)}`);
  }
  if (text === null) return EMPTY_STATE;
  const r = decodeAgentState(text);
  if (!r.ok) throw stateError(paths, r.reason);
  return r.state;
}

function stateError(paths: HostPaths, reason: string): StateError {
  const previous = previousStateFile(paths);
  let problem = `${previous} does not exist`;
  let good = false;
  try {
    const text = readIfPresent(previous);
    if (text !== null) {
      const r = decodeAgentState(text);
      good = r.ok;
      if (!r.ok) problem = `${previous} is not valid either: ${r.reason}`;
    }
  } catch (err) {
    problem = `${previous} cannot be read: ${oneLine((err as Error).message)}`;
  }
  return new StateError(paths.stateFile, reason, good ? previous : null, problem);
}

/** The text of a state file. */
export function encodeAgentState(state: AgentState): string {
  return `${JSON.stringify({ desired: toDocument(state.desired), hostDrivers: state.hostDrivers, releasing: state.releasing, hostManaged: state.hostManaged }, null, 1)}\n`;
}

/**
 * Writes the state atomically when it differs from the file. The file it replaces, when valid, is
 * first kept as state.json.previous: a crash at any point leaves state.json old or new and whole,
 * and a good copy beside it.
 */
export function writeAgentState(paths: HostPaths, state: AgentState): void {
  const text = encodeAgentState(state);
  agentDirectory(paths.dbDir, 0o700);
  const current = existsSync(paths.stateFile) ? readIfPresent(paths.stateFile) : null;
  if (current === text) return;
  if (current !== null && decodeAgentState(current).ok) writeFileAtomic(previousStateFile(paths), current, 0o600);
  writeFileAtomic(paths.stateFile, text, 0o600);
}
