import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { isCi, prerequisite, repoPath } from "./helpers.js";

/** Runs the fixture suite in its own `node --test` (TAP), with CI and the missing prerequisite as given. */
function runSuite(ci: string | undefined, missing: string | undefined): { code: number | null; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A run inside this test run would otherwise report to it, not as TAP.
  delete env.NODE_TEST_CONTEXT;
  delete env.CI;
  delete env.PREREQUISITE_MISSING;
  if (ci !== undefined) env.CI = ci;
  if (missing !== undefined) env.PREREQUISITE_MISSING = missing;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", repoPath("test/fixtures/suites/prerequisite-suite.ts")], { cwd: repoPath("."), env, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

const WHY = "OpenSSH sshd is not installed";

test("CI=true (or 1) is a CI run; unset, empty or false is not", () => {
  assert.equal(isCi({ CI: "true" }), true);
  assert.equal(isCi({ CI: "1" }), true);
  assert.equal(isCi({}), false);
  assert.equal(isCi({ CI: "" }), false);
  assert.equal(isCi({ CI: "false" }), false);
});

test("prerequisite() with nothing missing changes nothing, CI or not", () => {
  assert.deepEqual(prerequisite("s", undefined, { CI: "true" }), {});
  assert.deepEqual(prerequisite("s", undefined, {}), {});
  for (const ci of ["true", undefined]) {
    const r = runSuite(ci, undefined);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^# pass 1$/m);
    assert.match(r.out, /^# skipped 0$/m);
  }
});

test("outside CI, a missing prerequisite skips the suite and says so in the summary and a # line", () => {
  const r = runSuite(undefined, WHY);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`^# "needs a thing" skipped: ${WHY}$`, "m"));
  assert.match(r.out, new RegExp(`^ok \\d+ - needs a thing # SKIP ${WHY}$`, "m"));
  assert.match(r.out, /^# skipped 1$/m, "counted in the run's summary");
  assert.match(r.out, /^# pass 0$/m, "the suite's test did not run");
});

test("under CI=true, a missing prerequisite fails the run with the reason", () => {
  const r = runSuite("true", WHY);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^not ok \d+ - prerequisite missing for "needs a thing"$/m);
  assert.match(r.out, new RegExp(`"needs a thing" cannot run: ${WHY}; under CI=true every end-to-end, terraform and native suite must run`));
  assert.match(r.out, /^# fail 1$/m);
});
