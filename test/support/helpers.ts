/** Shared test helpers. */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** Absolute path of a file under the repository root. */
export function repoPath(rel: string): string {
  return fileURLToPath(new URL(`../../${rel}`, import.meta.url));
}

/** A fixture's text. */
export function fixture(rel: string): string {
  return readFileSync(repoPath(`test/fixtures/${rel}`), "utf8");
}

/** A deep copy of plain data, to mutate in a test. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** True when the run is a CI run (CI=true, as CI services set it). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1)$/i.test(env.CI ?? "");
}

/**
 * The options of a suite (or test) that needs something this machine may lack: pass `reason`
 * (why it cannot run here, e.g. sshdSkipReason()) or undefined when it can. With a reason:
 * - under CI=true, a test named after the suite fails with the reason, so the run fails (CI must
 *   run every end-to-end, terraform and native suite); the suite itself is skipped;
 * - elsewhere, a skipped test named after the suite counts it in the run's summary ("# skipped")
 *   and prints a `# <suite> skipped: <reason>` diagnostic; the suite is skipped.
 * Call it at the top level of a test file (it declares that test there).
 */
export function prerequisite(suite: string, reason: string | undefined, env: NodeJS.ProcessEnv = process.env): { skip?: string } {
  if (!reason) return {};
  if (isCi(env)) {
    test(`prerequisite missing for "${suite}"`, () => {
      assert.fail(`"${suite}" cannot run: ${reason}; under CI=true every end-to-end, terraform and native suite must run`);
    });
  } else {
    test(`prerequisite missing for "${suite}"`, (t) => {
      t.diagnostic(`"${suite}" skipped: ${reason}`);
      t.skip(reason);
    });
  }
  return { skip: reason };
}

/**
 * Makes a directory outside the repository able to run an app that imports cdktf-bhyve (a generated
 * app, as `npm install` would leave it): node_modules links to this checkout and to its cdktf,
 * constructs and tsx, so that the app and the constructs share one copy of each.
 */
export function linkAppDependencies(dir: string): void {
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(repoPath("."), join(dir, "node_modules", "cdktf-bhyve"));
  for (const dep of ["cdktf", "cdktn", "constructs", "tsx"]) symlinkSync(repoPath(`node_modules/${dep}`), join(dir, "node_modules", dep));
}
