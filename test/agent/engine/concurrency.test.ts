import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { withHostLock } from "../../../agent/host/host-lock.js";
import { parseLoaderConf, withManagedBlock } from "../../../agent/parse/loader-conf.js";
import { renderLoaderConf } from "../../../agent/spec/render.js";
import { decodeDesired, getHost, getReservation, status } from "../../../agent/engine/service.js";
import { repoPath } from "../../helpers.js";
import { AgentHost, FW } from "../agent-helpers.js";

const AGENT = repoPath("dist/bhyve-agent.mjs");

function docWith(n: number) {
  return {
    ppt: [{ device: "4/0/1", bind: "live" }],
    guests: Array.from({ length: n }, (_, i) => ({ name: `g${n}-${i}`, cpus: 1, memory: "256M", bootrom: FW })),
  };
}

function applyProcess(root: string, doc: unknown): { done: Promise<{ code: number | null; stdout: string; ms: number }>; pid: number } {
  const started = Date.now();
  const child = spawn(process.execPath, [AGENT, "apply", "-", "--root", root, "--json"], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(JSON.stringify(doc));
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; ms: number }>((res) => child.on("exit", (code) => res({ code, stdout, ms: Date.now() - started })));
  return { done, pid: child.pid! };
}

describe("one change at a time", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("an apply waits for the host lock held by another change", async () => {
    let applyFinishedAt = 0;
    let releasedAt = 0;
    await withHostLock(h.paths, async () => {
      const lockText = readFileSync(join(h.root, "var/run/bhyve-agent/host.lock"), "utf8");
      assert.equal(lockText, `${process.pid}\n`, "the holder's pid is in the lock file");
      const a = applyProcess(h.root, docWith(1));
      void a.done.then(() => (applyFinishedAt = Date.now()));
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(applyFinishedAt, 0, "still waiting");
      releasedAt = Date.now();
      (h as unknown as { pending?: Promise<unknown> }).pending = a.done;
    });
    const r = await (h as unknown as { pending: Promise<{ code: number | null; stdout: string }> }).pending;
    assert.equal(r.code, 0, r.stdout);
    assert.ok(applyFinishedAt >= releasedAt);
  });

  test("host.get, ppt.get and status wait for a change in progress (no half-written state is read)", async () => {
    const settled: string[] = [];
    let reads: Array<Promise<unknown>> = [];
    await withHostLock(h.paths, async () => {
      reads = [
        getHost(h.paths).then(() => settled.push("host.get")),
        getReservation(h.paths, "4/0/1").then(() => settled.push("ppt.get")),
        status(h.paths).then(() => settled.push("status")),
      ];
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(settled, [], "the reads wait while the lock is held");
    });
    await Promise.all(reads);
    assert.deepEqual([...settled].sort(), ["host.get", "ppt.get", "status"]);
  });

  test("two applies at once: one after the other, never interleaved; the last one wins whole", async () => {
    const a = applyProcess(h.root, docWith(2));
    const b = applyProcess(h.root, docWith(3));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stdout);
    assert.equal(rb.code, 0, rb.stdout);
    const state = JSON.parse(readFileSync(join(h.root, "var/db/bhyve-agent/state.json"), "utf8"));
    const names = (state.desired.guests as Array<{ name: string }>).map((g) => g.name);
    assert.ok(JSON.stringify(names) === JSON.stringify(["g2-0", "g2-1"]) || JSON.stringify(names) === JSON.stringify(["g3-0", "g3-1", "g3-2"]), names.join(","));
    const running = Object.keys(h.machine().vms).filter((n) => h.machine().vms[n]!.process).sort();
    assert.deepEqual(running, [...names].sort(), "exactly the guests of the apply that ran last");
    // The one that ran second saw the first one's guests and deleted them: its changes name them.
    const second = JSON.parse(names.length === 2 ? ra.stdout : rb.stdout);
    assert.ok(second.changed.some((c: { detail: string }) => /deleted/.test(c.detail)));
  });
});

describe("SIGKILL in the middle of an apply", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("loader.conf is always the old or the new file, never torn, and a rerun converges", async () => {
    const original = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    const docs = [docWith(2), { ...docWith(1), ppt: [{ device: "3/0/0", bind: "boot" }, { device: "4/0/1", bind: "live" }] }];
    // The only files an apply may leave: the original, or the original with either document's block.
    const complete = new Set([original, ...docs.map((d) => withManagedBlock(parseLoaderConf(original), renderLoaderConf(decodeDesired(d), { cpuVendor: "intel" })))]);
    for (let i = 0; i < 8; i++) {
      const doc = docs[i % 2]!;
      const before = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
      const a = applyProcess(h.root, doc);
      await new Promise((r) => setTimeout(r, 40 + i * 45));
      process.kill(a.pid, "SIGKILL");
      await a.done;
      const text = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
      assert.ok(complete.has(text), `killed after ${40 + i * 45} ms, loader.conf is neither the old nor a new file:\n${text}`);
      assert.ok(text === before || complete.has(text));
    }
    const final = docs[1]!;
    const r1 = applyProcess(h.root, final);
    const out1 = await r1.done;
    assert.equal(out1.code, 0, out1.stdout);
    const r2 = applyProcess(h.root, final);
    const out2 = await r2.done;
    const result = JSON.parse(out2.stdout);
    assert.deepEqual(result.changed, [], "converged: a second run changes nothing");
    assert.match(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), /pptdevs="3\/0\/0 4\/0\/1"/);
  });

  test("a file torn by hand (half a managed block) is refused with what to do", async () => {
    const text = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    writeFileSync(join(h.root, "boot/loader.conf"), text.replace(/# END cdktf-bhyve managed block\n?/, ""));
    const a = applyProcess(h.root, docWith(1));
    const r = await a.done;
    assert.equal(r.code, 1);
  });
});
