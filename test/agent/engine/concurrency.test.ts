import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hostLockHeld, onHostLockWait, withHostLock } from "../../../agent/host/host-lock.js";
import { getHost, getReservation, status } from "../../../agent/engine/service.js";
import { repoPath } from "../../support/helpers.js";
import { AgentHost, FW } from "../../support/agent-host.js";
import { until } from "../../support/wait.js";

const AGENT = repoPath("dist/bhyve-agent.mjs");

function docWith(n: number) {
  return {
    ppt: [{ device: "4/0/1", bind: "live" }],
    guests: Array.from({ length: n }, (_, i) => ({ name: `g${n}-${i}`, cpus: 1, memory: "256M", bootrom: FW })),
  };
}

function applyProcess(root: string, doc: unknown): { done: Promise<{ code: number | null; stdout: string; ms: number }>; pid: number; stderr: () => string } {
  const started = Date.now();
  const child = spawn(process.execPath, [AGENT, "apply", "-", "--root", root, "--json"], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(JSON.stringify(doc));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stdout += d.toString();
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; ms: number }>((res) => child.on("close", (code) => res({ code, stdout, ms: Date.now() - started })));
  return { done, pid: child.pid!, stderr: () => stderr };
}

const WAITING = /waiting for the host lock .*host\.lock \(held by pid (\d+)\)/;

describe("one change at a time", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const stateFile = () => join(h.root, "var/db/bhyve-agent/state.json");

  test("an apply is blocked on the host lock held by another change: it writes nothing until the lock is free", async () => {
    const loaderBefore = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    let pending: Promise<{ code: number | null; stdout: string }> | undefined;
    await withHostLock(h.paths, async () => {
      const lockText = readFileSync(join(h.root, "var/run/bhyve-agent/host.lock"), "utf8");
      assert.equal(lockText, `${process.pid}\n`, "the holder's pid is in the lock file");
      const a = applyProcess(h.root, docWith(1));
      let exited = false;
      void a.done.then(() => (exited = true));
      // The apply says it waits for the lock, naming its holder: it tried the lock and did not get it.
      await until(() => WAITING.test(a.stderr()) || exited, "the apply to wait for the host lock");
      assert.equal(exited, false, `the apply ran while the lock was held: ${a.stderr()}`);
      assert.equal(Number(WAITING.exec(a.stderr())![1]), process.pid);
      // Still blocked: nothing written.
      assert.equal(existsSync(stateFile()), false, "state.json written while the lock was held");
      assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), loaderBefore);
      assert.equal(existsSync(join(h.root, "var/db/bhyve-agent/guests")), false);
      pending = a.done;
    });
    const r = await pending!;
    assert.equal(r.code, 0, r.stdout);
    assert.ok(existsSync(stateFile()));
    assert.equal(readFileSync(join(h.root, "var/run/bhyve-agent/host.lock"), "utf8").trim() !== String(process.pid), true, "the apply took the lock");
  });

  test("the lock is held while an apply changes the host: a non-blocking try by another process fails", async () => {
    // Three guests none of which exists yet: the apply has work to do under the lock (start three
    // monitors) after it took it; it gives the lock up only to watch the started guests.
    const a = applyProcess(h.root, docWith(3));
    let exited = false;
    void a.done.then(() => (exited = true));
    const lockFile = join(h.root, "var/run/bhyve-agent/host.lock");
    await until(() => readFileSync(lockFile, "utf8").trim() === String(a.pid) || exited, "the apply to take the lock");
    assert.equal(exited, false, "the apply ended before it was seen taking the lock");
    // It took the lock (its pid is in the file): a non-blocking try now fails.
    assert.equal(hostLockHeld(h.paths), true, "the lock was free while the apply ran");
    const r = await a.done;
    assert.equal(r.code, 0, r.stdout);
    assert.equal(hostLockHeld(h.paths), false, "released when the apply ends");
  });

  test("host.get, ppt.get and status wait for a change in progress (no half-written state is read)", async () => {
    const settled: string[] = [];
    let reads: Array<Promise<unknown>> = [];
    let waiting = 0;
    onHostLockWait(() => waiting++);
    try {
      await withHostLock(h.paths, async () => {
        reads = [
          getHost(h.paths).then(() => settled.push("host.get")),
          getReservation(h.paths, "4/0/1").then(() => settled.push("ppt.get")),
          status(h.paths).then(() => settled.push("status")),
        ];
        await until(() => waiting === 3 || settled.length > 0, "the three reads to wait for the lock");
        assert.deepEqual(settled, [], "a read went ahead while the lock was held");
        assert.equal(waiting, 3);
      });
    } finally {
      onHostLockWait(undefined);
    }
    await Promise.all(reads);
    assert.deepEqual([...settled].sort(), ["host.get", "ppt.get", "status"]);
  });

  test("two applies at once: one after the other, never interleaved; the second sees the first's whole result", async () => {
    // Neither apply's guests exist before (the test before left docWith(3)'s running): whichever
    // gets the lock first creates its guests, and the other deletes them and creates its own.
    const cleared = await h.apply({ ppt: [{ device: "4/0/1", bind: "live" }], guests: [] });
    assert.deepEqual(cleared.refused, []);
    let a: ReturnType<typeof applyProcess> | undefined;
    let b: ReturnType<typeof applyProcess> | undefined;
    // Both are lined up behind a lock the test holds, so that they really start together when it is released.
    await withHostLock(h.paths, async () => {
      a = applyProcess(h.root, docWith(2));
      b = applyProcess(h.root, docWith(3));
      await until(() => WAITING.test(a!.stderr()) && WAITING.test(b!.stderr()), "both applies to wait for the lock");
    });
    const [ra, rb] = await Promise.all([a!.done, b!.done]);
    assert.equal(ra.code, 0, ra.stdout);
    assert.equal(rb.code, 0, rb.stdout);
    const state = JSON.parse(readFileSync(stateFile(), "utf8"));
    const names = (state.desired.guests as Array<{ name: string }>).map((g) => g.name);
    const lastIsB = names.length === 3;
    assert.deepEqual(names, lastIsB ? ["g3-0", "g3-1", "g3-2"] : ["g2-0", "g2-1"]);
    const running = Object.keys(h.machine().vms).filter((n) => h.machine().vms[n]!.process).sort();
    assert.deepEqual(running, [...names].sort(), "exactly the guests of the apply that ran last");
    // The first one created all its guests; the second one found them all, whole, and deleted them.
    const [first, second] = lastIsB ? [JSON.parse(ra.stdout.slice(ra.stdout.indexOf("{"))), JSON.parse(rb.stdout.slice(rb.stdout.indexOf("{")))] : [JSON.parse(rb.stdout.slice(rb.stdout.indexOf("{"))), JSON.parse(ra.stdout.slice(ra.stdout.indexOf("{")))];
    const firstNames = lastIsB ? ["g2-0", "g2-1"] : ["g3-0", "g3-1", "g3-2"];
    const detail = (r: { changed: Array<{ what: string; detail: string }> }, what: string) => r.changed.find((c) => c.what === what)?.detail;
    for (const n of firstNames) {
      assert.match(detail(first, `guest ${n}`) ?? "", /created and started/, `the first apply started ${n}: ${JSON.stringify(first)}`);
      assert.match(detail(second, `guest ${n}`) ?? "", /deleted/, `the second apply saw ${n} and deleted it: ${JSON.stringify(second)}`);
    }
  });
});

// SIGKILL at any moment of an apply: test/agent/engine/torture.test.ts (and npm run torture).
describe("loader.conf torn by hand", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("a file torn by hand (half a managed block) is refused with what to do", async () => {
    assert.equal((await applyProcess(h.root, docWith(1)).done).code, 0);
    const text = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    writeFileSync(join(h.root, "boot/loader.conf"), text.replace(/# END cdktf-bhyve managed block\n?/, ""));
    const a = applyProcess(h.root, docWith(1));
    const r = await a.done;
    assert.equal(r.code, 1);
    assert.match(r.stdout, /managed block/);
    assert.doesNotMatch(r.stdout, /internal error/);
  });
});
