/**
 * Shared pieces of the hostile-input corpus: the checks every refusal must pass (no stack trace,
 * no internal detail), and a snapshot of what a sandbox host holds, to show that a refusal
 * changed nothing.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoPath } from "../../support/helpers.js";
import type { AgentHost } from "../../support/agent-host.js";

/** The checkout the agent runs from: a refusal never names it. */
const AGENT_DIR = repoPath("").replace(/\/$/, "");

/** What gives away the agent's internals in a message meant for whoever sent the input. */
const INTERNALS: ReadonlyArray<[RegExp, string]> = [
  [/^\s*at .+[(:]/m, "a stack frame"],
  [/\b[\w.-]+\.(?:ts|mts|mjs|cjs)\b/, "a source file name"],
  [/internal error|E_INTERNAL/, "an internal error"],
  [/Maximum call stack|call stack size/i, "a stack overflow"],
  [/\b(?:TypeError|ReferenceError|RangeError|SyntaxError|AssertionError)\b/, "a JavaScript error name"],
  [/\bundefined\b|\[object Object\]/, "an undefined value or an object printed as text"],
  [/node_modules|node:internal/, "a module path"],
];

/**
 * Asserts that `text` (a message, a problem, a whole answer) holds no stack trace and no internal
 * detail: no source file, no error class, not the agent's own directory, none of `secrets` (such as
 * the agent root of an RPC session, which its client never gave).
 */
export function assertNoLeak(text: string, what: string, secrets: readonly string[] = []): void {
  for (const [re, kind] of INTERNALS) assert.doesNotMatch(text, re, `${what}: ${kind} leaked:\n${text.slice(0, 2000)}`);
  for (const s of [AGENT_DIR, ...secrets]) assert.ok(!text.includes(s), `${what}: ${s} leaked:\n${text.slice(0, 2000)}`);
}

/** A readable test title for a hostile value: escapes, cut short. */
export function label(v: unknown): string {
  let s: string;
  try {
    s = typeof v === "string" ? JSON.stringify(v) : typeof v === "number" && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Everything of a sandbox host that a refused request must leave as it was. */
export interface HostSnapshot {
  readonly loaderConf: string;
  readonly state: string;
  readonly dbFiles: readonly string[];
  readonly vms: string;
  readonly drivers: string;
  readonly vmmLoaded: boolean;
  readonly bootCount: number;
}

/** Takes the snapshot: loader.conf and state.json bytes, the files under var/db/bhyve-agent, the VMs and PCI drivers. */
export function snapshot(h: AgentHost): HostSnapshot {
  const read = (p: string): string => (existsSync(p) ? readFileSync(p).toString("base64") : "(absent)");
  const m = h.machine();
  return {
    loaderConf: read(h.paths.loaderConf),
    state: read(h.paths.stateFile),
    dbFiles: existsSync(h.paths.dbDir) ? (readdirSync(h.paths.dbDir, { recursive: true }) as string[]).sort() : [],
    vms: JSON.stringify(m.vms),
    drivers: JSON.stringify(m.pci.map((f) => [f.bus, f.slot, f.function, f.driver ?? null])),
    vmmLoaded: m.vmmLoaded,
    bootCount: m.bootCount,
  };
}

/** Asserts that nothing of the host changed since `before` (the audit log may grow: refusals are audited). */
export function assertUnchanged(h: AgentHost, before: HostSnapshot, what: string): void {
  const now = snapshot(h);
  for (const key of Object.keys(before) as Array<keyof HostSnapshot>) {
    assert.deepEqual(now[key], before[key], `${what}: the host's ${key} changed`);
  }
}

/** The lines of the audit log, to tell a refusal that was audited from one that was not. */
export function auditLines(h: AgentHost): string[] {
  const p = join(h.paths.logDir, "audit.log");
  return existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
}
