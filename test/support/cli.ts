/** Runs the built CLIs as a user would, with an argv array (no shell). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { repoPath } from "./helpers.js";

/** What a finished command printed and returned. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dist/<bin>.mjs` with `args`, optional stdin, a 2 min deadline (it bounds only a failure). */
export function runBin(bin: "bhyve-agent" | "bhyve-sandbox" | "cdktf-bhyve", args: string[], input?: string): RunResult {
  const path = repoPath(`dist/${bin}.mjs`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" first (npm test does)`);
  const r = spawnSync(process.execPath, [path, ...args], { input: input ?? "", encoding: "utf8", timeout: 120_000, cwd: repoPath(".") });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
