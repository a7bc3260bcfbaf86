/**
 * `npm run torture [-- --kills N] [--seed S] [--check-every N] [--no-tool-server]`: SIGKILL an apply at random moments,
 * N times (default 1000), checking after each that nothing the agent writes is torn and no guest
 * runs twice, and that the next uninterrupted apply converges. Exit 1 on any violation.
 */
import { runTorture, summary } from "./torture-lib.js";

function option(args: string[], flag: string): number | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`${flag} needs a whole number\nusage: npm run torture -- [--kills N] [--seed S] [--check-every N] [--no-tool-server]\n`);
    process.exit(64);
  }
  return v;
}

const args = process.argv.slice(2);
const kills = option(args, "--kills") ?? 1000;
const seed = option(args, "--seed");
const checkEvery = option(args, "--check-every") ?? 1;
const toolServer = !args.includes("--no-tool-server");
const line = (s: string): void => void process.stdout.write(`${new Date().toISOString()} ${s}\n`);
// Interrupted: finish the apply in flight, run the final checks, destroy the sandbox host, report.
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    line(`${sig}: stopping after this apply (again to quit at once, leaving the sandbox host behind)`);
  });
}
try {
  const r = await runTorture({ kills, seed, checkEvery: Math.max(1, checkEvery), log: line, stop: () => stopping, toolServer });
  line(summary(r));
  for (const v of r.violations) line(`violation: ${v}`);
  if (r.kills < kills) line(`stopped early: ${r.kills} of ${kills} kills`);
  process.exitCode = r.violations.length || r.kills < kills ? 1 : 0;
} catch (err) {
  line(`torture failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
