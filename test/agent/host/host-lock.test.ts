import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hostLockHeld, onHostLockWait, withHostLock } from "../../../agent/host/host-lock.js";
import { HostPaths } from "../../../agent/host/paths.js";
import { acquireLock } from "../../../agent/host/pid-lock.js";

const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-lock-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the host lock", () => {
  const paths = new HostPaths(join(dir, "root"));

  test("held while a change runs, free before and after (a non-blocking try)", async () => {
    assert.equal(hostLockHeld(paths), false);
    await withHostLock(paths, async () => {
      assert.equal(hostLockHeld(paths), true);
    });
    assert.equal(hostLockHeld(paths), false);
  });

  test("a second change waits, is told who holds the lock, and runs only after the first", async () => {
    const order: string[] = [];
    const told: Array<[string, number | null]> = [];
    onHostLockWait((file, holder) => told.push([file, holder]));
    try {
      let second: Promise<void> | undefined;
      await withHostLock(paths, async () => {
        order.push("first start");
        second = withHostLock(paths, async () => void order.push("second"));
        await until(() => told.length === 1, "the second change to wait");
        order.push("first end");
      });
      await second;
    } finally {
      onHostLockWait(undefined);
    }
    assert.deepEqual(order, ["first start", "first end", "second"]);
    assert.deepEqual(told, [[paths.lockFile, process.pid]]);
  });
});

describe("the host lock within one agent process (the requests of one session)", () => {
  const paths = new HostPaths(join(dir, "queue"));

  test("changes run one at a time in the order they asked, each told it waits; a release hands on at once", async () => {
    const order: string[] = [];
    let inside = 0;
    let told = 0;
    onHostLockWait(() => told++);
    try {
      const change = (name: string, early = false) => withHostLock(paths, async (release) => {
        inside++;
        assert.equal(inside, 1, `${name} ran beside another change`);
        assert.equal(hostLockHeld(paths), true, "the flock is held too: other processes wait");
        order.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 10));
        order.push(`${name} end`);
        inside--;
        if (early) {
          release();
          // After an early release the next change may run while this one finishes its watch.
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${name} watched`);
        }
      });
      await Promise.all([change("a"), change("b", true), change("c"), change("d")]);
    } finally {
      onHostLockWait(undefined);
    }
    assert.deepEqual(order.filter((o) => !o.endsWith("watched")), ["a start", "a end", "b start", "b end", "c start", "c end", "d start", "d end"]);
    assert.ok(order.indexOf("b watched") > order.indexOf("c start"), `c ran while b watched: ${order.join(", ")}`);
    assert.equal(told, 3, "the three that waited were told");
  });

  test("a change that waits longer than its timeout is E_LOCKED and gives its turn up; the next still runs", async () => {
    const order: string[] = [];
    let late: Promise<unknown> | undefined;
    let next: Promise<unknown> | undefined;
    await withHostLock(paths, async () => {
      late = withHostLock(paths, async () => void order.push("late"), 50).catch((e: { code?: string }) => order.push(e.code ?? "?"));
      next = withHostLock(paths, async () => void order.push("next"));
      await late;
      order.push("first end");
    });
    await next;
    assert.deepEqual(order, ["E_LOCKED", "first end", "next"]);
  });
});

describe("the PID lock file (the host lock without the native addon)", () => {
  test("appears whole with the owner's PID, leaves no temporary file, and a dead owner's lock is taken over", async () => {
    const f = join(dir, "a.lock");
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    writeFileSync(f, String(dead));
    let waited = 0;
    const release = await acquireLock(f, 10_000, () => waited++);
    assert.equal(readFileSync(f, "utf8"), String(process.pid));
    assert.ok(waited <= 1);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith("a.lock.")), []);
    // Held by a live process (this one): a second try waits and is told so once.
    let told = 0;
    await assert.rejects(acquireLock(f, 200, () => told++), { code: "E_LOCK_TIMEOUT" });
    assert.equal(told, 1);
    release();
    assert.equal(existsSync(f), false);
  });
});
