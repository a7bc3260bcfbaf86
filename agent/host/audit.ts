/**
 * The audit log: every change request the agent is given, appended as one JSON line to
 * var/log/bhyve-agent/audit.log with the time, who asked (the SSH client address and the key's
 * fingerprint, as sshd passes them: SSH_CONNECTION, and SSH_USER_AUTH when sshd has
 * `ExposeAuthInfo yes`; or the console), the request and the outcome. Appends are single
 * O_APPEND writes, so sessions running at once do not interleave lines.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HostPaths } from "./paths.js";

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
  readonly via: Requester["via"];
  readonly client: string | null;
  readonly key: string | null;
  readonly method: string;
  readonly request: unknown;
  /** ok: done; refused: nothing or not everything was done, with why; error: it failed. */
  readonly outcome: "ok" | "refused" | "error";
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

/** Appends one entry. A log that cannot be written fails the request's answer loudly, not silently. */
export function appendAudit(paths: HostPaths, entry: Omit<AuditEntry, "time">): void {
  mkdirSync(paths.logDir, { recursive: true, mode: 0o750 });
  appendFileSync(auditLogPath(paths), `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`, { mode: 0o640 });
}

/** The outcome fields of a finished change: a converge result, or the error that stopped it. */
export function outcomeOf(result: unknown, err: unknown): Pick<AuditEntry, "outcome" | "code" | "message" | "changed" | "refused"> {
  if (err !== undefined) {
    const code = (err as { code?: unknown })?.code;
    const refusal = typeof code === "string" && /^E_(SPEC_INVALID|POLICY|INVALID_PARAMS|CHECKSUM|VERSION_MISMATCH|BUNDLE_BROKEN|NOT_INSTALLED|LOCKED)$/.test(code);
    return { outcome: refusal ? "refused" : "error", code: typeof code === "string" ? code : "E_INTERNAL", message: (err as Error)?.message ?? String(err) };
  }
  const r = result as { changed?: unknown[]; refused?: unknown[] } | null;
  const refused = Array.isArray(r?.refused) ? r!.refused : [];
  return { outcome: refused.length ? "refused" : "ok", ...(Array.isArray(r?.changed) ? { changed: r!.changed } : {}), ...(refused.length ? { refused } : {}) };
}

/** Reads the log (entries at or after `since`); a torn last line (a crash mid-write) is skipped. */
export function readAudit(paths: HostPaths, since?: Date): AuditEntry[] {
  const file = auditLogPath(paths);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").flatMap((l) => {
    if (!l.trim()) return [];
    try {
      const e = JSON.parse(l) as AuditEntry;
      return !since || Date.parse(e.time) >= since.getTime() ? [e] : [];
    } catch {
      return [];
    }
  });
}
