import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { runBin } from "../../support/cli.js";
import { repoPath } from "../../support/helpers.js";

test("npm run demo: deploys the fleet over SSH, shows drift, heals it, destroys, stops everything, exits 0", async () => {
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [repoPath("dist/cdktf-bhyve.mjs"), "demo"], { cwd: repoPath("."), timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Apply complete! Resources: 15 added, 0 changed, 0 destroyed\./);
  assert.match(r.stdout, /^ {2}gpu1 +127\.0\.1\.31:\d+ +yes +vt-d enabled +no +3\/0\/0 live \(ppt\), 3\/0\/1 live \(ppt\) +gpu1-ml running, gpu1-web0 running$/m);
  assert.match(r.stdout, /exit 2: the plan shows it/);
  assert.match(r.stdout, /~ state += "stopped" -> "running"/);
  assert.match(r.stdout, /~ loader_conf_in_sync = false -> true/);
  assert.match(r.stdout, /Apply complete! Resources: 0 added, 3 changed, 0 destroyed\./);
  assert.match(r.stdout, /Destroy complete! Resources: 15 destroyed\./);
  assert.match(r.stdout, /loader\.conf of all 3 hosts is back byte for byte/);
  assert.match(r.stdout, /guests\[0\]\.disks\[0\]\.slot: slot 6 is already taken by passthru\[0\] \(3\/0\/0\)/);
  assert.match(r.stdout, /demo finished$/m);
  // Everything it started is gone: its scratch directory, and every process that ran from it.
  const work = r.stdout.match(/scratch directory (\S+)/)![1]!;
  assert.equal(existsSync(work), false);
  const ps = spawnSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" }).stdout;
  assert.deepEqual(ps.split("\n").filter((l) => l.includes(work) && !/^\s*\d+\s+Z/.test(l)), []);
});

test("bench refuses bad arguments; unknown commands are usage errors", () => {
  const b = runBin("cdktf-bhyve", ["bench", "--hosts", "0"]);
  assert.equal(b.status, 64);
  assert.match(b.stderr, /--runs and --hosts take positive whole numbers/);
  assert.equal(runBin("cdktf-bhyve", ["bench", "--nope"]).status, 64);
  assert.equal(runBin("cdktf-bhyve", ["nope"]).status, 64);
});
