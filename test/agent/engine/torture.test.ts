/**
 * The SIGKILL torture of test/torture (npm run torture runs 1000 kills), 50 kills: an apply killed
 * at random moments never leaves loader.conf or state.json torn, never a guest running twice, and
 * the next uninterrupted apply converges.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runTorture, summary } from "../../torture/torture-lib.js";

test("SIGKILL at 50 random moments of applies: nothing torn, no guest twice, the next apply converges", async () => {
  const lines: string[] = [];
  // Five kills in a row between checks: most kills land on an apply that starts from a torn state.
  const r = await runTorture({ kills: 50, checkEvery: 5, log: (l) => lines.push(l) });
  const report = `${summary(r)}\n${lines.join("\n")}`;
  assert.equal(r.kills, 50, report);
  assert.deepEqual(r.violations, [], report);
  assert.equal(r.torn, 0, report);
  assert.equal(r.duplicates, 0, report);
  assert.equal(r.converged, r.convergeChecks, report);
  assert.ok(r.convergeChecks >= 10, report);
});
