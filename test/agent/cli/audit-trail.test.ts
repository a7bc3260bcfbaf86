/**
 * The audit trail and the agent's own directories, from the console: a guest cannot reach the
 * audit log (not even one named "audit"), a console change is refused when its request cannot be
 * put on record first, and the state, run and log directories have the agent's modes whatever
 * was there before.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const auditDoc = (guests: string[]): string => JSON.stringify({ guests: guests.map((name) => ({ name, cpus: 1, memory: "256M", bootrom: FW })) });

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

describe("the audit trail, from the console", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const log = (): string => join(h.paths.logDir, "audit.log");
  const entries = (): Array<{ id: string; method: string; outcome: string }> => readFileSync(log(), "utf8").trim().split("\n").map((l) => JSON.parse(l));

  test("a guest named audit lives in its own directory: creating, restarting and deleting it leaves the audit log whole", async () => {
    const up = h.cli(["apply", "-", "--json"], auditDoc(["audit", "web"]));
    assert.equal(up.status, 0, up.stderr);
    await until(() => Object.values(h.machine().vms).filter((v) => v.process).length === 2, "both guests running");
    const first = entries();
    assert.deepEqual(first.map((e) => [e.method, e.outcome]), [["apply", "pending"], ["apply", "ok"]]);
    // Everything of a guest is under guests/NAME/ in the log, run and state directories.
    for (const dir of [h.paths.logDir, h.paths.runDir, h.paths.dbDir]) {
      const outside = filesUnder(dir).filter((f) => !f.startsWith("guests/") && f !== "audit.log");
      assert.deepEqual(outside.filter((f) => /audit|web/.test(f)), [], `no guest file outside guests/ in ${dir}`);
    }
    assert.deepEqual(filesUnder(h.paths.logDir).filter((f) => !f.startsWith("guests/")), ["audit.log"]);
    assert.ok(filesUnder(join(h.paths.logDir, "guests/audit")).length > 0, "the guest's console log is in its directory");

    const down = h.cli(["apply", "-", "--json"], auditDoc(["web"]));
    assert.equal(down.status, 0, down.stderr);
    assert.equal(existsSync(join(h.paths.logDir, "guests/audit")), false, "the guest's files went with it");
    const all = entries();
    assert.deepEqual(all.slice(0, 2), first, "the earlier entries are all there");
    assert.deepEqual(all.slice(2).map((e) => [e.method, e.outcome]), [["apply", "pending"], ["apply", "ok"]]);
    assert.ok(existsSync(log()));
  });

  test("a console change whose request cannot be put on record is refused with E_AUDIT, and nothing changes", () => {
    const conf = readFileSync(h.paths.loaderConf, "utf8");
    const vms = Object.keys(h.machine().vms).sort();
    const saved = readFileSync(log());
    rmSync(log());
    mkdirSync(log());
    try {
      const r = h.cli(["apply", "-"], JSON.stringify({ host: { vmm_load: false }, guests: [] }));
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /E_AUDIT|audit log .*cannot be written/);
      assert.match(r.stderr, /nothing was changed/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(readFileSync(h.paths.loaderConf, "utf8"), conf, "loader.conf untouched");
      assert.deepEqual(Object.keys(h.machine().vms).sort(), vms, "the guests are untouched");
    } finally {
      rmSync(log(), { recursive: true });
      writeFileSync(log(), saved);
    }
  });

  test("the state directory is 0700, the run and log directories 0750, even when they were made wider before", () => {
    for (const dir of [h.paths.dbDir, h.paths.runDir, h.paths.logDir]) chmodSync(dir, 0o777);
    const r = h.cli(["apply", "-"], auditDoc(["web"]));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(statSync(h.paths.dbDir).mode & 0o777, 0o700, "state");
    assert.equal(statSync(h.paths.runDir).mode & 0o777, 0o750, "run");
    assert.equal(statSync(h.paths.logDir).mode & 0o777, 0o750, "log");
  });
});
