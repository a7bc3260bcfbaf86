import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { HostPaths } from "../../../agent/host/paths.js";
import { fileIdentity, resolveHostPath, type ResolvedPath } from "../../../agent/host/resolve-path.js";

const root = mkdtempSync(join(tmpdir(), "cdktf-bhyve-resolve-"));
const paths = new HostPaths(root);
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "vm/sub"), { recursive: true });
mkdirSync(join(root, "dev/zvol/zroot/vm"), { recursive: true });
mkdirSync(join(root, "etc"), { recursive: true });
writeFileSync(join(root, "vm/a.img"), "a");
writeFileSync(join(root, "dev/zvol/zroot/vm/disk0"), "");
writeFileSync(join(root, "etc/passwd"), "root:*:0:0::0:0:Charlie &:/root:/bin/sh\n");
const ok = (p: string): ResolvedPath => {
  const r = resolveHostPath(paths, p);
  assert.ok(r.ok, `${p}: ${!r.ok && r.reason}`);
  return r;
};

test("a plain path resolves to itself; a missing last component is taken as written", () => {
  assert.deepEqual([ok("/vm/a.img").path, ok("/vm/a.img").viaLink, ok("/vm/a.img").stat?.isFile()], ["/vm/a.img", false, true]);
  const missing = ok("/vm/new.img");
  assert.deepEqual([missing.path, missing.stat], ["/vm/new.img", null]);
});

test("links are followed inside the root: an absolute target starts at the root, .. stops at it", () => {
  symlinkSync("/dev/zvol/zroot/vm/disk0", join(root, "vm/abs.img"));
  assert.equal(ok("/vm/abs.img").path, "/dev/zvol/zroot/vm/disk0");
  assert.ok(ok("/vm/abs.img").viaLink);
  symlinkSync("../../../../../../../etc/passwd", join(root, "vm/sub/climb.img"));
  const climb = ok("/vm/sub/climb.img");
  assert.equal(climb.path, "/etc/passwd", "as a chroot would: never above the root");
  assert.ok(climb.stat?.isFile(), "the file inside the root, not the real /etc/passwd");
  symlinkSync("/dev/ada0", join(root, "vm/evil.img"));
  assert.deepEqual(resolveHostPath(paths, "/vm/evil.img"), { ok: false, reason: "the symbolic link /vm/evil.img leads to /dev/ada0, which does not exist", path: "/dev/ada0" }, "where it leads is said, for the prefix check");
  symlinkSync("sub", join(root, "vm/dir"));
  assert.equal(ok("/vm/dir/../a.img").path, "/vm/a.img", ".. after a link to a directory goes up from where the link leads");
});

test("a loop, a dangling link and a file used as a directory do not resolve", () => {
  symlinkSync("/vm/loop2.img", join(root, "vm/loop1.img"));
  symlinkSync("loop1.img", join(root, "vm/loop2.img"));
  const loop = resolveHostPath(paths, "/vm/loop1.img");
  assert.ok(!loop.ok);
  assert.match(loop.reason, /^more than 32 symbolic links \(a loop: \/vm\/loop1\.img -> \/vm\/loop2\.img, \/vm\/loop2\.img -> loop1\.img/);
  symlinkSync("gone/disk.img", join(root, "vm/dangling.img"));
  const dangling = resolveHostPath(paths, "/vm/dangling.img");
  assert.ok(!dangling.ok);
  assert.equal(dangling.reason, "the symbolic link /vm/dangling.img leads to /vm/gone, which does not exist");
  assert.equal(dangling.path, "/vm/gone/disk.img");
  const notDir = resolveHostPath(paths, "/vm/a.img/x");
  assert.ok(!notDir.ok);
  assert.equal(notDir.reason, "/vm/a.img is not a directory");
});

test("one file under two names has one identity: a link and a hard link", () => {
  symlinkSync("a.img", join(root, "vm/alias.img"));
  linkSync(join(root, "vm/a.img"), join(root, "vm/hard.img"));
  const id = fileIdentity(ok("/vm/a.img"));
  assert.equal(fileIdentity(ok("/vm/alias.img")), id);
  assert.equal(fileIdentity(ok("/vm/hard.img")), id);
  assert.notEqual(fileIdentity(ok("/dev/zvol/zroot/vm/disk0")), id);
  assert.equal(fileIdentity(ok("/vm/none.img")), "path /vm/none.img", "a file that does not exist is known by its path");
});
