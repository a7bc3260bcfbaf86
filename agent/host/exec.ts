/** Running host tools: argv arrays and absolute paths only, each run with a deadline. */
import { execFile } from "node:child_process";
import { AgentError } from "../model/errors.js";

/** What a tool run printed and how it ended. */
export interface ToolResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Default deadline of one tool run. */
export const TOOL_TIMEOUT_MS = 30_000;

/** Runs `path` with `args`; resolves with its status (non-zero is not an error here), rejects with ToolError. */
export function runTool(path: string, args: readonly string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024, env: { PATH: "/sbin:/bin:/usr/sbin:/usr/bin", LC_ALL: "C" } }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new AgentError(`${path} is missing`, "E_TOOL_MISSING", { cause: err }));
        return;
      }
      if (err && (err as { killed?: boolean }).killed) {
        reject(new AgentError(`${path} ${args.join(" ")} did not finish within ${timeoutMs} ms`, "E_TOOL_TIMEOUT", { cause: err }));
        return;
      }
      if (err && typeof (err as { code?: unknown }).code !== "number" && !(err as { signal?: unknown }).signal) {
        reject(new AgentError(`${path} could not be run: ${err.message}`, "E_TOOL_FAILED", { cause: err }));
        return;
      }
      const status = err ? ((err as { code?: number }).code ?? null) : 0;
      const signal = err ? ((err as { signal?: NodeJS.Signals }).signal ?? null) : null;
      resolve({ status: typeof status === "number" ? status : null, signal, stdout, stderr });
    });
  });
}
