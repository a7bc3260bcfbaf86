/**
 * `npm run torture [-- --kills N] [--seed S] [--check-every N]`: SIGKILL an apply at random moments,
 * N times (default 1000), checking after each that nothing the agent writes is torn and no guest
 * runs twice, and that the next uninterrupted apply converges. Exit 1 on any violation.
 */
import { runTorture, summary } from "./torture-lib.js";

function option(args: string[], flag: string): number | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`${flag} needs a whole number\nusage: npm run torture -- [--kills N] [--seed S] [--check-every N]\n`);
    process.exit(64);
  }
  return v;
}

const args = process.argv.slice(2);
const kills = option(args, "--kills") ?? 1000;
const seed = option(args, "--seed");
const checkEvery = option(args, "--check-every") ?? 100;
const line = (s: string): void => void process.stdout.write(`${new Date().toISOString()} ${s}\n`);
try {
  const r = await runTorture({ kills, seed, checkEvery: Math.max(1, checkEvery), log: line });
  line(summary(r));
  for (const v of r.violations) line(`violation: ${v}`);
  process.exitCode = r.violations.length ? 1 : 0;
} catch (err) {
  line(`torture failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
}
