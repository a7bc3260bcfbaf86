/**
 * Newline-delimited JSON-RPC 2.0 over a byte stream (the SSH channel): many requests per session,
 * answered in order, each line size-limited; the server ends at EOF once the last answer is out.
 * Errors carry a stable `data.code` and a message that says what to do; a bug answers
 * E_INTERNAL and keeps its stack on stderr.
 */
import type { Readable, Writable } from "node:stream";
import { SpecError } from "../spec/problems.js";
import { LoaderConfError } from "../parse/loader-conf.js";
import type { HostPaths } from "../host/paths.js";
import { METHODS, ParamsError } from "./methods.js";
import { appendAudit, outcomeOf, requestForLog, requester } from "../host/audit.js";

/** The methods that change the host: each call is written to the audit log with its outcome. */
export const CHANGE_METHODS = new Set(["host.apply", "host.configure", "host.release", "ppt.put", "ppt.delete", "guest.put", "guest.delete", "guest.start", "guest.stop", "agent.upgrade"]);

/** Longest request line: a maximal document (1 MiB) escaped into JSON, with room to spare. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

interface RpcError {
  code: number;
  message: string;
  data: { code: string; problems?: unknown };
}

/** Maps an error to its JSON-RPC error object. */
export function rpcError(err: unknown): RpcError {
  if (err instanceof SpecError) return { code: -32602, message: err.message, data: { code: err.code, problems: err.problems } };
  if (err instanceof ParamsError) return { code: -32602, message: err.message, data: { code: err.code } };
  if (err instanceof LoaderConfError) return { code: -32000, message: err.message, data: { code: err.code } };
  const code = (err as { code?: unknown })?.code;
  if (err instanceof Error && typeof code === "string" && /^E_[A-Z_]+$/.test(code)) return { code: -32000, message: err.message, data: { code } };
  process.stderr.write(`bhyve-agent: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return { code: -32603, message: `internal error: ${(err as Error)?.message ?? String(err)}`, data: { code: "E_INTERNAL" } };
}

async function handle(paths: HostPaths, line: string): Promise<object | null> {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch (err) {
    return { jsonrpc: "2.0", id: null, error: { code: -32700, message: `parse error: ${(err as Error).message}`, data: { code: "E_PARSE" } } };
  }
  const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  const id = typeof r?.id === "string" || typeof r?.id === "number" ? r.id : null;
  const notification = typeof r === "object" && r !== null && !("id" in r);
  if (typeof r !== "object" || r === null || r.jsonrpc !== "2.0" || typeof r.method !== "string") {
    return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request: expected {\"jsonrpc\": \"2.0\", \"id\", \"method\", \"params\"}", data: { code: "E_INVALID_REQUEST" } } };
  }
  const method = METHODS[r.method];
  if (!method) {
    return { jsonrpc: "2.0", id, error: { code: -32601, message: `no method ${r.method}; methods: ${Object.keys(METHODS).join(", ")}`, data: { code: "E_NO_METHOD" } } };
  }
  const params = r.params === undefined ? {} : r.params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return { jsonrpc: "2.0", id, error: { code: -32602, message: "params must be an object", data: { code: "E_INVALID_PARAMS" } } };
  }
  let result: unknown;
  let failure: unknown;
  try {
    result = await method(paths, params as Record<string, unknown>);
  } catch (err) {
    failure = err ?? new Error("undefined thrown");
  }
  if (CHANGE_METHODS.has(r.method)) {
    try {
      appendAudit(paths, { ...requester(), method: r.method, request: requestForLog(r.method, params as Record<string, unknown>), ...outcomeOf(result, failure) });
    } catch (err) {
      // The change is made; say loudly that it is not on record.
      process.stderr.write(`bhyve-agent: cannot write the audit log: ${(err as Error).message}\n`);
      if (failure === undefined) failure = Object.assign(new Error(`the change was made, but the audit log could not be written: ${(err as Error).message}`), { code: "E_AUDIT" });
    }
  }
  if (notification) return null;
  return failure === undefined ? { jsonrpc: "2.0", id, result: result ?? null } : { jsonrpc: "2.0", id, error: rpcError(failure) };
}

/** Serves requests from `input` until EOF; resolves when every answer is written. */
export async function serve(paths: HostPaths, input: Readable, output: Writable): Promise<void> {
  const write = (o: object): Promise<void> => new Promise((res) => (output.write(`${JSON.stringify(o)}\n`) ? res() : output.once("drain", res)));
  let pending: Buffer = Buffer.alloc(0);
  let skipping = false;
  for await (const chunk of input as AsyncIterable<Buffer>) {
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
      const line = tooLong ? "" : pending.subarray(0, nl).toString("utf8").replace(/\r$/, "");
      pending = pending.subarray(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      if (tooLong) {
        await write({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `request line longer than ${MAX_LINE_BYTES} bytes`, data: { code: "E_TOO_LARGE" } } });
        continue;
      }
      if (line.trim() === "") continue;
      const answer = await handle(paths, line);
      if (answer) await write(answer);
    }
  }
}
