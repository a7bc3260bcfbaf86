import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { repoPath } from "../../support/helpers.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const DOC = JSON.stringify({
  ppt: [{ device: "4/0/1", bind: "live" }],
  guests: [
    { name: "late", cpus: 1, memory: "512M", bootrom: FW, start_order: 20 },
    { name: "early", cpus: 1, memory: "512M", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }], start_order: 1 },
  ],
});

describe("bhyve-agent facts, apply, status, shutdown, autostart against a sandbox host", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("facts --json has the keys the provider reads; text for people", () => {
    const r = h.cli(["facts", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const f = JSON.parse(r.stdout);
    for (const key of ["cpu", "nested_paging", "iommu", "vmm", "pci", "memory", "passthru_ready", "problems"]) assert.ok(key in f, key);
    assert.deepEqual(Object.keys(f.pci[0]).slice(0, 4), ["selector", "device", "driver", "unit"]);
    const text = h.cli(["facts"]);
    assert.match(text.stdout, /^passthrough ready: no$/m);
    assert.match(text.stdout, /^problem E_VMM_NOT_LOADED: /m);
  });

  test("apply --json: what changed; twice: nothing", () => {
    const r = h.cli(["apply", "-", "--json"], DOC);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.changed.map((c: { what: string }) => c.what), ["loader.conf", "vmm.ko", "ppt 4/0/1", "guest early", "guest late"]);
    assert.equal(out.reboot_required, false);
    const again = JSON.parse(h.cli(["apply", "-", "--json"], DOC).stdout);
    assert.deepEqual(again.changed, []);
    const text = h.cli(["apply", "-"], DOC);
    assert.equal(text.stdout, "no changes: the host matches the desired state\n");
  });

  test("status --json and text", async () => {
    await until(() => Object.values(h.machine().vms).filter((v) => v.process).length === 2, "two guests");
    const s = JSON.parse(h.cli(["status", "--json"]).stdout);
    assert.deepEqual(s.guests.map((g: { name: string; state: string }) => [g.name, g.state]), [["early", "running"], ["late", "running"]]);
    assert.ok(s.guests.every((g: { pid: number }) => g.pid > 0));
    // Each running guest's command line, as its bhyve runs it: the operator need not read the agent's files.
    for (const g of s.guests as Array<{ name: string; argv: string[] }>) {
      assert.deepEqual(g.argv, h.machine().vms[g.name]!.process!.argv, `${g.name}'s argv`);
      assert.equal(g.argv.at(-1), g.name);
    }
    assert.deepEqual(s.ppt, [{ device: "4/0/1", bound: true, driver: "ppt0" }]);
    assert.equal(s.reboot_required, false);
    assert.match(h.cli(["status"]).stdout, /^early +running +\d+ +0 +-$/m);
  });

  test("shutdown stops every guest, latest start order first; autostart brings them back in order", () => {
    const down = h.cli(["shutdown", "--json"]);
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(JSON.parse(down.stdout).changed.map((c: { what: string }) => c.what), ["guest late", "guest early"]);
    assert.deepEqual(JSON.parse(h.cli(["status", "--json"]).stdout).guests.map((g: { state: string; argv: unknown }) => [g.state, g.argv]), [["stopped", null], ["stopped", null]]);
    const up = h.cli(["autostart", "--json"]);
    assert.deepEqual(JSON.parse(up.stdout).changed.map((c: { what: string }) => c.what), ["guest early", "guest late"]);
  });

  test("bad documents and bad usage: one clear message, never a stack", () => {
    const bad = h.cli(["apply", "-"], "guests:\n  - { name: x, cpus: 1, memory: 1G, passthru: [{ device: 9/0/0, slot: 4 }] }\n");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^guests\[0\]\.passthru\[0\]\.device: 9\/0\/0 is not reserved on this host; add it to ppt$/m);
    assert.ok(!/^\s+at /m.test(bad.stderr));
    assert.equal(h.cli(["status", "extra"]).status, 64);
    assert.equal(h.cli(["facts", "--bogus"]).status, 64);
  });
});

test("the rc.d script is valid sh and follows rc.subr's conventions", () => {
  const path = repoPath("agent/rc.d/bhyve_agent");
  const r = spawnSync("/bin/sh", ["-n", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(path, "utf8");
  assert.match(text, /^# PROVIDE: bhyve_agent$/m);
  assert.match(text, /^rcvar="bhyve_agent_enable"$/m);
  assert.match(text, /: \$\{bhyve_agent_enable:="NO"\}/);
  assert.match(text, /"\$\{bhyve_agent_program\}" autostart/);
  assert.match(text, /^run_rc_command "\$1"$/m);
});

describe("bhyve-agent: hostile command names and a reader that goes away", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("inherited property names are unknown commands (exit 64), never a stack", () => {
    for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__", "__defineSetter__"]) {
      const r = h.cli([name]);
      assert.equal(r.status, 64, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /unknown command/);
      assert.ok(!/^\s+at /m.test(r.stderr), r.stderr);
    }
    const g = spawnSync(process.execPath, [repoPath("dist/bhyve-sandbox.mjs"), "guest", h.root, "x", "constructor"], { encoding: "utf8" });
    assert.equal(g.status, 64, g.stderr);
    const gone = h.cli(["sandbox", "profiles"]);
    assert.equal(gone.status, 64, "the sandbox is its own command (bhyve-sandbox), not part of the agent");
    assert.match(gone.stderr, /unknown command "sandbox"/);
  });

  test("apply whose stdout is closed (EPIPE) finishes the change, audits it and exits without a crash", async () => {
    const { spawn } = await import("node:child_process");
    const doc = JSON.stringify({ guests: [{ name: "piped", cpus: 1, memory: "512M", bootrom: FW }] });
    const child = spawn(process.execPath, [repoPath("dist/bhyve-agent.mjs"), "apply", "-", "--root", h.root], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(doc);
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(code, 0, stderr);
    assert.ok(!/internal error|^\s+at /m.test(stderr), stderr);
    await until(() => h.machine().vms.piped?.process != null, "the guest runs");
    const audit = h.cli(["audit", "--json"]);
    const entries = JSON.parse(audit.stdout) as Array<{ method: string; outcome: string }>;
    assert.deepEqual(entries.map((e) => [e.method, e.outcome]), [["apply", "ok"]]);
  });
});
