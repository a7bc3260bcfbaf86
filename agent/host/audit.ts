/**
 * The audit log: every change request the agent is given, appended as one JSON line to
 * var/log/bhyve-agent/audit.log with the time, who asked (the SSH client address and the key's
 * fingerprint, as sshd passes them: SSH_CONNECTION, and SSH_USER_AUTH when sshd has
 * `ExposeAuthInfo yes`; or the console), the request and the outcome. Appends are single
 * O_APPEND writes, so sessions running at once do not interleave lines.
 *
 * A change request is on record before it is made: `beginAudit` appends a line with who asked,
 * the method, and the request's size and SHA-256 (outcome `pending`), and a request whose line
 * cannot be written is refused. `finishAudit` appends the outcome under the same id; the request's
 * parameters are kept only for a request that was carried out, so refused or invalid requests
 * (anybody's garbage) cost a line each, not their size. Guests' files never live in this
 * directory's top level (they are under guests/NAME/), so no guest name can reach the log.
 */
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { agentDirectory } from "./files.js";
import { join } from "node:path";
import type { HostPaths } from "./paths.js";
import { AgentError } from "../model/errors.js";

/** Who made a request. */
export interface Requester {
  readonly via: "ssh" | "console";
  /** "ADDRESS PORT" of the SSH client. */
  readonly client: string | null;
  /** SHA256 fingerprint of the key the session authenticated with, when sshd exposes it. */
  readonly key: string | null;
}

/** One line of the audit log. */
export interface AuditEntry {
  readonly time: string;
  /** Joins a request's line to its outcome's line. */
  readonly id?: string;
  /** When the outcome was written. */
  readonly finished?: string;
  readonly via: Requester["via"];
  readonly client: string | null;
  readonly key: string | null;
  readonly method: string;
  readonly request: unknown;
  /** ok: done; refused: nothing or not everything was done, with why; error: it failed; pending: no outcome on record (the agent stopped during the change). */
  readonly outcome: "ok" | "refused" | "error" | "pending";
  readonly code?: string;
  readonly message?: string;
  readonly changed?: unknown[];
  readonly refused?: unknown[];
}

/** The audit log's path. */
export function auditLogPath(paths: HostPaths): string {
  return join(paths.logDir, "audit.log");
}

/** Who is asking, from sshd's environment (or the console when there is no SSH session). */
export function requester(env: NodeJS.ProcessEnv = process.env): Requester {
  const conn = (env.SSH_CONNECTION ?? "").trim().split(/\s+/);
  if (conn.length !== 4) return { via: "console", client: null, key: null };
  let key: string | null = null;
  if (env.SSH_USER_AUTH && existsSync(env.SSH_USER_AUTH)) {
    // "publickey TYPE BASE64" lines, one per method used; the last public key is the one that let the session in.
    const keys = readFileSync(env.SSH_USER_AUTH, "utf8").split("\n").flatMap((l) => {
      const m = /^publickey \S+ ([A-Za-z0-9+/]+={0,3})/.exec(l);
      return m ? [m[1]!] : [];
    });
    const last = keys[keys.length - 1];
    if (last) key = `SHA256:${createHash("sha256").update(Buffer.from(last, "base64")).digest("base64").replace(/=+$/, "")}`;
  }
  return { via: "ssh", client: `${conn[0]} ${conn[1]}`, key };
}

const MAX_REQUEST_JSON = 64 * 1024;

/** The request as logged: an agent bundle by its size and hash; anything large by its size and hash. */
export function requestForLog(method: string, params: Record<string, unknown>): unknown {
  const p = { ...params };
  if (method === "agent.upgrade" && typeof p.bundle === "string") {
    const bytes = Buffer.from(p.bundle, "base64");
    p.bundle = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  }
  const text = JSON.stringify(p);
  if (text.length <= MAX_REQUEST_JSON) return p;
  return { bytes: text.length, sha256: createHash("sha256").update(text).digest("hex"), note: "request larger than 64 KiB, logged by its hash" };
}

/** A request by its size and hash only. */
export function requestDigest(text: string): { bytes: number; sha256: string } {
  const bytes = Buffer.from(text, "utf8");
  return { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function appendLine(paths: HostPaths, line: Record<string, unknown>): void {
  agentDirectory(paths.logDir, 0o750);
  appendFileSync(auditLogPath(paths), `${JSON.stringify(line)}\n`, { mode: 0o640 });
}

/** Puts a change request on record before it is made; returns the id its outcome is written under. Throws when the log cannot be written: refuse the change then. */
export function beginAudit(paths: HostPaths, entry: Pick<AuditEntry, "via" | "client" | "key" | "method"> & { request: { bytes: number; sha256: string } }): string {
  const id = randomBytes(8).toString("hex");
  appendLine(paths, { time: new Date().toISOString(), id, ...entry, outcome: "pending" });
  return id;
}

/** Appends the outcome of the request `id`; `request` (the parameters) only for a request that was carried out. */
export function finishAudit(paths: HostPaths, id: string, method: string, request: unknown, outcome: ReturnType<typeof outcomeOf>): void {
  appendLine(paths, { time: new Date().toISOString(), id, method, ...(request !== undefined && outcome.code === undefined ? { request } : {}), ...outcome, end: true });
}

/** Runs one change with its request on record first and its outcome after (the console commands). */
export async function audited<T>(paths: HostPaths, method: string, request: unknown, work: () => Promise<T>): Promise<T> {
  let id: string;
  try {
    id = beginAudit(paths, { ...requester(), method, request: requestDigest(JSON.stringify(request)) });
  } catch (err) {
    throw new AgentError(`refused: the audit log ${auditLogPath(paths)} cannot be written (${(err as Error).message}); nothing was changed`, "E_AUDIT");
  }
  let result: T;
  try {
    result = await work();
  } catch (err) {
    finishAudit(paths, id, method, undefined, outcomeOf(undefined, err));
    throw err;
  }
  finishAudit(paths, id, method, requestForLog(method, (request ?? {}) as Record<string, unknown>), outcomeOf(result, undefined));
  return result;
}

/** The outcome fields of a finished change: a converge result, or the error that stopped it. */
export function outcomeOf(result: unknown, err: unknown): Pick<AuditEntry, "outcome" | "code" | "message" | "changed" | "refused"> {
  if (err !== undefined) {
    const code = (err as { code?: unknown })?.code;
    const refusal = typeof code === "string" && /^E_(SPEC_INVALID|POLICY|FOREIGN_VM|EMPTY_DOCUMENT|TOO_DEEP|TOO_LARGE|ENCODING|INVALID_PARAMS|CHECKSUM|VERSION_MISMATCH|BUNDLE_BROKEN|NOT_INSTALLED|LOCKED|STATE)$/.test(code);
    return { outcome: refusal ? "refused" : "error", code: typeof code === "string" ? code : "E_INTERNAL", message: (err as Error)?.message ?? String(err) };
  }
  const r = result as { changed?: unknown[]; refused?: unknown[] } | null;
  const refused = Array.isArray(r?.refused) ? r!.refused : [];
  return { outcome: refused.length ? "refused" : "ok", ...(Array.isArray(r?.changed) ? { changed: r!.changed } : {}), ...(refused.length ? { refused } : {}) };
}

/**
 * Reads the log (entries at or after `since`), each request joined with its outcome; a request
 * without one stays `pending`. A torn last line (a crash mid-write) is skipped.
 */
export function readAudit(paths: HostPaths, since?: Date): AuditEntry[] {
  const file = auditLogPath(paths);
  if (!existsSync(file)) return [];
  const entries: AuditEntry[] = [];
  const open = new Map<string, number>();
  for (const l of readFileSync(file, "utf8").split("\n")) {
    if (!l.trim()) continue;
    let e: AuditEntry & { end?: boolean };
    try {
      e = JSON.parse(l) as AuditEntry & { end?: boolean };
    } catch {
      continue;
    }
    if (typeof e !== "object" || e === null || typeof e.time !== "string") continue;
    if (e.end === true && typeof e.id === "string") {
      const i = open.get(e.id);
      if (i === undefined) continue;
      open.delete(e.id);
      const { end: _end, time, id: _id, method: _m, ...rest } = e;
      entries[i] = { ...entries[i]!, ...rest, finished: time };
      continue;
    }
    if (typeof e.id === "string") open.set(e.id, entries.length);
    entries.push(e);
  }
  return since ? entries.filter((e) => Date.parse(e.time) >= since.getTime()) : entries;
}

/** Text from the log made safe for a terminal: control, bidirectional and zero-width characters escaped. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}
