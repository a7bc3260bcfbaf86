/** The pid-file lock (the sandbox's, and the agent's fallback without the native addon). */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { withLock } from "../../../agent/host/pid-lock.js";

const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-pidlock-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a lock whose holder died unreaped (a zombie of the very process that waits) is taken over", () => {
  const lock = join(dir, "machine.lock");
  // The holder exits at once; this process blocks below without running its event loop, so
  // nothing collects the child: it stays a zombie, which kill(pid, 0) still finds.
  const child = spawn("/bin/sh", ["-c", "exit 0"], { stdio: "ignore" });
  writeFileSync(lock, String(child.pid));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  assert.equal(withLock(lock, () => "taken", 10_000), "taken");
});

test("a lock held by a live process is not taken", () => {
  const lock = join(dir, "live.lock");
  writeFileSync(lock, String(process.pid));
  assert.throws(() => withLock(lock, () => "taken", 600), (err: Error & { code?: string }) => err.code === "E_LOCK_TIMEOUT");
});
