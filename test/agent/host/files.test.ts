import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { removeStaleTemps, writeFileAtomic } from "../../../agent/host/files.js";

const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A PID that no process has: one that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("writeFileAtomic", () => {
  test("writes the data with exactly the mode asked for, whatever the umask, and leaves no temporary file", () => {
    const f = join(dir, "a.conf");
    const old = process.umask(0o077);
    try {
      writeFileAtomic(f, "one\n", 0o644);
    } finally {
      process.umask(old);
    }
    assert.equal(readFileSync(f, "utf8"), "one\n");
    assert.equal(statSync(f).mode & 0o777, 0o644);
    writeFileAtomic(f, Buffer.from("two\n"), 0o600);
    assert.equal(readFileSync(f, "utf8"), "two\n");
    assert.equal(statSync(f).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes("a.conf")), ["a.conf"]);
  });

  test("a symbolic link at the target is replaced, never written through", () => {
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep me\n");
    const f = join(dir, "linked.conf");
    symlinkSync(victim, f);
    writeFileAtomic(f, "new\n");
    assert.equal(readFileSync(victim, "utf8"), "keep me\n");
    assert.equal(lstatSync(f).isSymbolicLink(), false);
    assert.equal(readFileSync(f, "utf8"), "new\n");
  });

  test("temporary files of a writer that was killed are removed by the next write; a live writer's are kept", () => {
    const f = join(dir, "state.json");
    const dead = join(dir, `.state.json.${deadPid()}.0a1b2c.tmp`);
    const live = join(dir, `.state.json.${process.ppid}.0a1b2d.tmp`);
    const other = join(dir, `.other.json.${deadPid()}.0a1b2e.tmp`);
    for (const t of [dead, live, other]) writeFileSync(t, "half a fi");
    writeFileAtomic(f, "{}\n");
    const names = readdirSync(dir);
    assert.ok(!names.includes(dead.slice(dir.length + 1)), "the dead writer's temp file is gone");
    assert.ok(names.includes(live.slice(dir.length + 1)), "a running writer's temp file is left alone");
    assert.ok(names.includes(other.slice(dir.length + 1)), "another file's temp files are left alone");
    removeStaleTemps(join(dir, "other.json"));
    assert.ok(!readdirSync(dir).includes(other.slice(dir.length + 1)));
  });

  test("a write that fails leaves the old file and no temporary file", () => {
    const f = join(dir, "sub-missing", "x.conf");
    assert.throws(() => writeFileAtomic(f, "x"), /ENOENT/);
    const g = join(dir, "b.conf");
    writeFileAtomic(g, "old\n");
    // A directory in the way of the rename: the rename fails, the temporary file is removed.
    const d = join(dir, "c.conf");
    rmSync(d, { force: true, recursive: true });
    spawnSync("/bin/mkdir", ["-p", join(d, "inside")]);
    assert.throws(() => writeFileAtomic(d, "new\n"));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".c.conf.")), []);
    assert.equal(readFileSync(g, "utf8"), "old\n");
  });
});
