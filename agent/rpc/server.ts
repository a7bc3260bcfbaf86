/**
 * Newline-delimited JSON-RPC 2.0 over a byte stream (the SSH channel): many requests per session,
 * answered in order, each line size-limited; the server ends at EOF once the last answer is out.
 * Errors carry a stable `data.code` and a message that says what to do; a bug answers
 * E_INTERNAL and keeps its stack on stderr.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { agentDirectory } from "../host/files.js";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { jsonDepthExceeds } from "../model/limits.js";
import type { HostPaths } from "../host/paths.js";
import { METHODS } from "./methods.js";
import { changesHost } from "./protocol.js";
import type { Socket } from "node:net";
import { connectConsole, connectVnc } from "../guests/console.js";
import { consoleSocketOf, vncTargetOf } from "../engine/service.js";

import { SessionSnapshots, withSessionSnapshots } from "../host/snapshot.js";
import { shown } from "../model/limits.js";
import { beginAudit, finishAudit, outcomeOf, requestDigest, requestForLog, requester } from "../host/audit.js";
import { AgentError, isProblemsError } from "../model/errors.js";

/** The methods after whose answer the session carries a guest's stream instead of requests. */
const STREAM_METHODS = ["guest.console", "guest.vnc"] as const;
type StreamMethod = (typeof STREAM_METHODS)[number];


/** Deepest nesting of a request's JSON (documents themselves are limited the same way). */
const MAX_DEPTH = 64;

/** Longest request line: a maximal document (1 MiB) escaped into JSON, with room to spare. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;
/** Requests of one session carried out at the same time; reading waits while this many are unanswered. */
const MAX_IN_FLIGHT = 16;

interface RpcError {
  code: number;
  message: string;
  data: { code: string; problems?: unknown; total?: number };
}

/**
 * Where a bug's details go: the agent's error log on the host (never the answer, which a client
 * of the deploy key reads); stderr when even that cannot be written.
 */
function recordBug(paths: HostPaths | undefined, err: unknown): string {
  const ref = randomBytes(4).toString("hex");
  const text = `${new Date().toISOString()} ${ref} ${(err as Error)?.stack ?? String(err)}\n`;
  try {
    if (!paths) throw new Error("no agent root");
    agentDirectory(paths.logDir, 0o750);
    appendFileSync(join(paths.logDir, "errors.log"), text, { mode: 0o640 });
  } catch {
    process.stderr.write(`bhyve-agent: internal error ${text}`);
  }
  return ref;
}

/** Maps an error to its JSON-RPC error object. */
export function rpcError(err: unknown, paths?: HostPaths): RpcError {
  // On the wire a problem is its path and message (the segments are the model's, for its own front-ends).
  if (isProblemsError(err)) return { code: -32602, message: err.message, data: { code: err.code, problems: err.problems.map(({ path, message }) => ({ path, message })), total: err.total } };
  if (err instanceof AgentError) return { code: err.code === "E_INVALID_PARAMS" ? -32602 : -32000, message: err.message, data: { code: err.code } };
  const ref = recordBug(paths, err);
  return { code: -32603, message: `internal error (reference ${ref}): the agent could not finish this request; its details are in var/log/bhyve-agent/errors.log on the host`, data: { code: "E_INTERNAL" } };
}

function invalid(id: string | number | null, message: string, code = "E_INVALID_REQUEST"): object {
  return { jsonrpc: "2.0", id, error: { code: -32600, message, data: { code } } };
}

async function handle(paths: HostPaths, line: string): Promise<object | null> {
  let req: unknown;
  if (jsonDepthExceeds(line, MAX_DEPTH)) {
    return { jsonrpc: "2.0", id: null, error: { code: -32600, message: `request nested deeper than ${MAX_DEPTH} levels`, data: { code: "E_TOO_DEEP" } } };
  }
  try {
    req = JSON.parse(line);
  } catch (err) {
    return { jsonrpc: "2.0", id: null, error: { code: -32700, message: `parse error: ${(err as Error).message}`, data: { code: "E_PARSE" } } };
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) return invalid(null, "invalid request: expected {\"jsonrpc\": \"2.0\", \"id\", \"method\", \"params\"}");
  const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  // JSON-RPC 2.0: an id is a string, a number or null; a request without one is a notification,
  // which is carried out and never answered, not even with an error.
  const notification = !Object.hasOwn(r, "id");
  const idOk = notification || r.id === null || typeof r.id === "string" || (typeof r.id === "number" && Number.isFinite(r.id));
  const id = idOk && !notification ? (r.id as string | number | null) : null;
  if (!idOk) return invalid(null, "invalid request: id must be a string, a number or null");
  if (r.jsonrpc !== "2.0" || typeof r.method !== "string") {
    return notification ? null : invalid(id, "invalid request: expected {\"jsonrpc\": \"2.0\", \"id\", \"method\", \"params\"}");
  }
  const name = r.method;
  const method = METHODS.get(name);
  if (!method) {
    if (notification) return null;
    return { jsonrpc: "2.0", id, error: { code: -32601, message: `no method ${shown(name)}; methods: ${[...METHODS.keys()].join(", ")}`, data: { code: "E_NO_METHOD" } } };
  }
  const params = r.params === undefined ? {} : r.params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return notification ? null : { jsonrpc: "2.0", id, error: { code: -32602, message: "params must be an object", data: { code: "E_INVALID_PARAMS" } } };
  }
  const p = params as Record<string, unknown>;
  // A change is on record before it is made: when the audit log cannot be written, it is refused.
  let entry: string | null = null;
  // The methods that change the host (protocol.ts) are written to the audit log with their outcome.
  if (changesHost(name)) {
    try {
      entry = beginAudit(paths, { ...requester(), method: name, request: requestDigest(line) });
    } catch (err) {
      process.stderr.write(`bhyve-agent: cannot write the audit log: ${(err as Error).message}\n`);
      if (notification) return null;
      return { jsonrpc: "2.0", id, error: { code: -32000, message: `refused: the audit log cannot be written (${(err as Error).message}); nothing was changed`, data: { code: "E_AUDIT" } } };
    }
  }
  let result: unknown;
  let failure: unknown;
  try {
    result = await method(paths, p);
  } catch (err) {
    failure = err ?? new Error("undefined thrown");
  }
  if (entry !== null) {
    try {
      finishAudit(paths, entry, name, failure === undefined ? requestForLog(name, p) : undefined, outcomeOf(result, failure));
    } catch (err) {
      // The change is made and its request is on record; say loudly that its outcome is not.
      process.stderr.write(`bhyve-agent: cannot write the audit log: ${(err as Error).message}\n`);
      if (failure === undefined) failure = new AgentError(`the change was made and its request is in the audit log, but its outcome could not be written: ${(err as Error).message}`, "E_AUDIT");
    }
  }
  if (notification) return null;
  return failure === undefined ? { jsonrpc: "2.0", id, result: result ?? null } : { jsonrpc: "2.0", id, error: rpcError(failure, paths) };
}

/** Serves requests from `input` until EOF; resolves when every answer is written. */
export async function serve(paths: HostPaths, input: Readable, output: Writable): Promise<void> {
  // A client that went away (EPIPE) must not stop the session half way: answers to nobody are
  // dropped, and every request already read is carried out and audited.
  output.on("error", () => {});
  const write = (o: object): Promise<void> =>
    new Promise((res) => {
      if (output.destroyed || !output.writable) return res();
      if (output.write(`${JSON.stringify(o)}\n`)) return res();
      output.once("drain", res);
      output.once("close", res);
      output.once("error", res);
    });
  // One snapshot of the host's facts for the whole session (host/snapshot.ts).
  const snapshots = new SessionSnapshots();
  // ignoreBOM: a byte order mark is kept, so that JSON.parse refuses it rather than it vanishing.
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  /** Answers one line's bytes (without its newline). */
  const answerLine = async (bytes: Buffer): Promise<void> => {
    let line: string;
    try {
      line = utf8.decode(bytes).replace(/\r$/, "");
    } catch {
      // Never read with U+FFFD put in: a name or a path would then be other than the one sent.
      await write({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error: the request line is not UTF-8 text", data: { code: "E_ENCODING" } } });
      return;
    }
    if (line.trim() === "") return;
    const answer = await withSessionSnapshots(snapshots, () => handle(paths, line));
    if (answer) await write(answer);
  };
  // Requests are carried out as they arrive, up to MAX_IN_FLIGHT at a time, and answered as each
  // finishes (JSON-RPC matches answers by id): a read does not wait behind a change, and changes
  // take turns on the host lock. Reading stops while the session is at the limit.
  const inFlight = new Set<Promise<void>>();
  const begin = async (bytes: Buffer): Promise<void> => {
    const p = answerLine(bytes).finally(() => inFlight.delete(p));
    inFlight.add(p);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  };
  let pending: Buffer = Buffer.alloc(0);
  let skipping = false;
  // guest.console and guest.vnc: once answered, the session is the guest's console (or its VNC
  // stream) both ways (see relayTo).
  let relay: Socket | null = null;
  // Decided on the parsed request (an escaped name is the same name); a stream method in a batch
  // cannot be given a stream, so it is refused there rather than answered.
  const streamRequest = (bytes: Buffer): StreamMethod | "batched" | null => {
    if (bytes.indexOf("guest.") < 0 && bytes.indexOf("\\u") < 0) return null;
    const isStream = (r: unknown): r is { method: StreamMethod } =>
      r !== null && typeof r === "object" && STREAM_METHODS.includes((r as { method?: unknown }).method as StreamMethod);
    try {
      const r = JSON.parse(bytes.toString("utf8")) as unknown;
      if (Array.isArray(r)) return r.some(isStream) ? "batched" : null;
      return isStream(r) ? r.method : null;
    } catch {
      return null;
    }
  };
  const relayTo = async (method: StreamMethod, guest: string, rest: Buffer): Promise<Socket | null> => {
    let sock: Socket;
    try {
      sock = method === "guest.console" ? await connectConsole(consoleSocketOf(paths, guest), guest) : await connectVnc(vncTargetOf(paths, guest), guest);
    } catch {
      return null; // gone between the answer and now: the session ends
    }
    sock.on("data", (d: Buffer) => void output.write(d));
    sock.on("error", () => {});
    sock.once("close", () => {
      if (input instanceof Readable) input.destroy();
    });
    if (rest.length) sock.write(rest);
    return sock;
  };
  try {
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (relay) {
      relay.write(chunk);
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const nl = pending.indexOf(10);
      if (nl < 0) {
        if (pending.length > MAX_LINE_BYTES && !skipping) {
          skipping = true;
          await write({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `request line longer than ${MAX_LINE_BYTES} bytes`, data: { code: "E_TOO_LARGE" } } });
        }
        if (skipping) pending = Buffer.alloc(0);
        break;
      }
      const tooLong = nl > MAX_LINE_BYTES;
      const line = pending.subarray(0, nl);
      pending = pending.subarray(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      if (tooLong) {
        await write({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `request line longer than ${MAX_LINE_BYTES} bytes`, data: { code: "E_TOO_LARGE" } } });
        continue;
      }
      const stream = streamRequest(line);
      if (stream === "batched") {
        await write({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `${STREAM_METHODS.join(" and ")} take a session of their own: send one alone, not in a batch`, data: { code: "E_REQUEST" } } });
        continue;
      }
      if (stream) {
        // Every earlier request is answered first; after a successful answer the rest of the
        // input, what is already read included, is the stream's.
        await Promise.all(inFlight);
        const answer = await withSessionSnapshots(snapshots, () => handle(paths, line.toString("utf8")));
        if (answer) await write(answer);
        const ok = answer as { result?: { guest?: unknown } } | null;
        if (ok?.result && typeof ok.result.guest === "string") {
          relay = await relayTo(stream, ok.result.guest, pending);
          pending = Buffer.alloc(0);
          if (!relay) return;
          break;
        }
        continue;
      }
      await begin(line);
    }
  }
  } catch (err) {
    // The input destroyed when the console closed ends the relay; anything else is an error.
    if (!relay) throw err;
  }
  if (relay) {
    relay.end();
    return;
  }
  // A last request without its newline is still a request (a client that ends its input with it).
  if (!skipping && pending.length > 0) await begin(pending);
  await Promise.all(inFlight);
}
