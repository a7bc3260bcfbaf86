import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { destroySandbox } from "../../sandbox/host.js";
import { processAlive } from "../../sandbox/machine.js";
import { PROFILES } from "../../sandbox/profiles.js";
import { TOOL_PATHS } from "../../sandbox/tool-paths.js";
import { runBin } from "../support/cli.js";
import { TestSandbox, FW } from "../support/sandbox.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "cdktf-bhyve-host-"));

describe("bhyve-sandbox, as a user runs it", () => {
  const parent = tmp();
  after(() => rmSync(parent, { recursive: true, force: true }));

  test("profiles lists every profile", () => {
    const r = runBin("bhyve-sandbox", ["profiles"]);
    assert.equal(r.status, 0);
    assert.deepEqual(r.stdout.trimEnd().split("\n").map((l) => l.split(" ")[0]), PROFILES.map((p) => p.name));
    for (const name of ["intel-vtd", "amd-vi", "no-iommu", "no-ept", "freebsd12"]) assert.match(r.stdout, new RegExp(`^${name} `, "m"));
  });

  test("create lays out a FreeBSD tree with executable tools at the real paths, firmware and volumes", () => {
    const dir = join(parent, "h1");
    const r = runBin("bhyve-sandbox", ["create", dir, "--profile", "amd-vi"]);
    assert.equal(r.status, 0, r.stderr);
    for (const rel of Object.values(TOOL_PATHS)) {
      assert.ok(statSync(join(dir, rel)).mode & 0o111, `${rel} is executable`);
      // Node and the bundle, behind the tool client when it was built (it hands the run to a tool server).
      assert.match(readFileSync(join(dir, rel), "utf8"), /^#!(?:\S+sandbox-tool-client )?\S+node\S* \S+sandbox-tool\.mjs\n$/);
    }
    for (const rel of ["boot/loader.conf", "var/run/dmesg.boot", "dev/vmm", FW.slice(1), "dev/zvol/zroot/vm/ml1", "dev/zvol/zroot/vm/fw1"]) {
      assert.ok(existsSync(join(dir, rel)), rel);
    }
    assert.match(readFileSync(join(dir, "boot/loader.conf"), "utf8"), /^zfs_load="YES"$/m);
  });

  test("create refuses a non-empty directory and an unknown profile, without a stack trace", () => {
    const again = runBin("bhyve-sandbox", ["create", join(parent, "h1"), "--profile", "amd-vi"]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists and is not empty/);
    const unknown = runBin("bhyve-sandbox", ["create", join(parent, "h2"), "--profile", "sparc"]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /unknown profile "sparc"; profiles: intel-vtd, amd-vi/);
    assert.equal(runBin("bhyve-sandbox", ["create", join(parent, "h2")]).status, 64);
    assert.ok(!/^\s+at /m.test(again.stderr + unknown.stderr));
  });

  test("reboot and guest from the command line", () => {
    const dir = join(parent, "h1");
    writeFileSync(join(dir, "boot/loader.conf"), 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\npptdevs="3/0/0 3/0/1"\n');
    const r = runBin("bhyve-sandbox", ["reboot", dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /vmm loaded; ppt: 3\/0\/0 3\/0\/1$/m);
    const g = runBin("bhyve-sandbox", ["guest", dir, "nobody", "reboot"]);
    assert.equal(g.status, 1);
    assert.match(g.stderr, /guest nobody is not running/);
    assert.equal(runBin("bhyve-sandbox", ["guest", dir, "x", "explode"]).status, 64);
  });

  test("destroy removes the tree, and refuses a directory that is not a sandbox", () => {
    const plain = join(parent, "not-a-sandbox");
    mkdirSync(plain);
    writeFileSync(join(plain, "precious"), "keep me");
    const no = runBin("bhyve-sandbox", ["destroy", plain]);
    assert.equal(no.status, 1);
    assert.match(no.stderr, /is not a sandbox host; not removing it/);
    assert.ok(existsSync(join(plain, "precious")));
    assert.equal(runBin("bhyve-sandbox", ["destroy", join(parent, "h1")]).status, 0);
    assert.ok(!existsSync(join(parent, "h1")));
  });
});

describe("destroy stops the sandbox's guests by PID", () => {
  test("running guests are killed and the tree removed", async () => {
    const sb = new TestSandbox("intel-vtd");
    const g = sb.start("bhyve", ["-c", "1", "-m", "512M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, "k1"]);
    await sb.waitRunning("k1");
    const pid = g.child.pid!;
    await destroySandbox(sb.root);
    assert.equal((await g.exit).code, null);
    assert.ok(!processAlive(pid));
    assert.ok(!existsSync(sb.root));
    rmSync(join(sb.root, ".."), { recursive: true, force: true });
  });
});

describe("fifty sandbox guests at once", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("all run together, each its own bhyve process, and all stop with the sandbox", async () => {
    const guests = Array.from({ length: 50 }, (_, i) =>
      sb.start("bhyve", ["-c", "1", "-m", "256M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, `vm${i}`]));
    await Promise.all(guests.map((_, i) => sb.waitRunning(`vm${i}`, 60_000)));
    const vms = Object.values(sb.machine().vms);
    assert.equal(vms.length, 50);
    assert.equal(new Set(vms.map((v) => v.process!.pid)).size, 50);
    assert.ok(vms.every((v) => processAlive(v.process!.pid)));
    await sb.destroy();
    const exits = await Promise.all(guests.map((g) => g.exit));
    assert.ok(exits.every((e) => e.code === null), "killed by the destroy");
  });
});
