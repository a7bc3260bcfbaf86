import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { getGuest, status } from "../../../agent/engine/service.js";
import { SessionSnapshots, withSessionSnapshots } from "../../../agent/host/snapshot.js";
import { TOOL_CALLS_FILE } from "../../../sandbox/tool-paths.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { instanceId } from "../../../agent/model/cloud-init.js";
import { readSandboxIso } from "../../../sandbox/tools/makefs.js";
import { rebootSandbox } from "../../../sandbox/host.js";
import { AgentHost, FAST_CONFIG, until } from "../../support/agent-host.js";

const GiB = 2 ** 30;
const POLICY = `${FAST_CONFIG}policy:\n  zvol_parents: [zroot/vm, zroot/images]\n`;

const guest = (name: string, disks: unknown[], more: Record<string, unknown> = {}) => ({ name, cpus: 1, memory: "512M", disks, ...more });
const doc = (...guests: unknown[]) => ({ guests });
const whatDetails = (items: Array<{ what: string; detail: string }>) => items.map((i) => `${i.what}: ${i.detail}`);

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail("expected a refusal");
}

describe("managed disks: create, grow, refuse a shrink, keep or destroy with the guest, clone, files", () => {
  const h = new AgentHost("intel-vtd");
  writeFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), POLICY);
  after(() => h.destroy());
  const zfsList = (ds: string) => h.run("zfs", ["list", "-H", "-p", "-o", "name,volsize,refreservation,volmode,bhyve-agent:guest", ds]).stdout;

  test("a new guest's zvol is created sparse with volmode=dev and marked as the guest's, before the guest starts", async () => {
    const r = await h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "20G", type: "nvme" }])));
    assert.deepEqual(r.refused, []);
    assert.deepEqual(whatDetails(r.changed).filter((d) => d.includes("volume")), ["guest app1: volume zroot/vm/app1/disk0 created (20G, sparse)"]);
    assert.equal(zfsList("zroot/vm/app1/disk0"), `zroot/vm/app1/disk0\t${20 * GiB}\t0\tdev\tapp1\n`);
    await until(() => readGuest(h.paths, "app1").state === "running", "app1 running");
    assert.ok(readGuest(h.paths, "app1").argv!.some((a) => a.endsWith(",nvme,/dev/zvol/zroot/vm/app1/disk0")));
    const again = await h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "20G", type: "nvme" }])));
    assert.deepEqual(again.changed, [], "nothing to do the second time");
  });

  test("a larger size grows the volume in place; a smaller one is refused with both sizes and nothing changes", async () => {
    const r = await h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme" }])));
    assert.deepEqual(whatDetails(r.changed), ["guest app1: volume zroot/vm/app1/disk0 grown from 20G to 30G (a running guest sees the new size when it next starts)"]);
    assert.equal(zfsList("zroot/vm/app1/disk0"), `zroot/vm/app1/disk0\t${30 * GiB}\t0\tdev\tapp1\n`);
    const e = await refusal(h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "10G", type: "nvme" }]))));
    assert.equal(e.code, "E_SHRINK");
    assert.match(e.message, /^guests\[0\]\.disks\[0\]\.size: size 10G is smaller than the 30G volume zroot\/vm\/app1\/disk0 has: disks only grow/);
    assert.equal(zfsList("zroot/vm/app1/disk0"), `zroot/vm/app1/disk0\t${30 * GiB}\t0\tdev\tapp1\n`);
  });

  test("drift: a volume shrunk or changed behind the agent's back shows in guest.get and status; apply sets it right", async () => {
    assert.equal(h.run("zfs", ["set", "volsize=25G", "volmode=geom", "zroot/vm/app1/disk0"]).status, 0);
    const g = await getGuest(h.paths, "app1");
    assert.deepEqual(g.disks[0]!.drift, ["volume zroot/vm/app1/disk0 is 25G, asked 30G", "volume zroot/vm/app1/disk0 has volmode geom, not dev"]);
    assert.equal(g.disks[0]!.size, 25 * GiB);
    const s = await status(h.paths);
    assert.deepEqual(s.disk_drift, [{ guest: "app1", path: "/dev/zvol/zroot/vm/app1/disk0", drift: g.disks[0]!.drift }]);
    const r = await h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme" }])));
    assert.equal(r.changed.length, 2, whatDetails(r.changed).join("\n"));
    assert.deepEqual((await status(h.paths)).disk_drift, []);
  });

  test("a dataset that exists and is not the agent's is refused, named by its field; so is another guest's", async () => {
    const foreign = await refusal(h.apply(doc(guest("db1", [{ zvol: "zroot/vm/db1", size: "20G" }]))));
    assert.equal(foreign.code, "E_DISK_NOT_OURS");
    assert.match(foreign.message, /^guests\[0\]\.disks\[0\]\.zvol: volume zroot\/vm\/db1 exists and the agent did not make it \(no bhyve-agent:guest property\): the agent never resizes or destroys it\. Use it as it is with path: \/dev\/zvol\/zroot\/vm\/db1/);
    const other = await refusal(h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme" }]), guest("app2", [{ zvol: "zroot/vm/app1/disk0", size: "30G" }]))));
    assert.equal(other.code, "E_SPEC_INVALID", "two guests on one volume fail the document first");
    const e = await refusal(h.apply(doc(guest("app2", [{ zvol: "zroot/vm/app1/disk0", size: "30G" }]))));
    assert.match(e.message, /the agent made it for guest app1/);
    assert.equal(zfsList("zroot/vm/app1/disk0"), `zroot/vm/app1/disk0\t${30 * GiB}\t0\tdev\tapp1\n`, "untouched");
  });

  test("outside zvol_parents: refused by the policy", async () => {
    const e = await refusal(h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme" }]), guest("x", [{ zvol: "zroot/other/x", size: "1G" }]))));
    assert.equal(e.code, "E_POLICY");
    assert.match(e.message, /guests\[1\]\.disks\[0\]\.zvol: zroot\/other\/x is outside the datasets the agent may create volumes in/);
  });

  test("deleting a guest keeps its disks unless on_delete: destroy, and then only what the agent made", async () => {
    const r1 = await h.apply(doc(
      guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme" }]),
      guest("app2", [{ zvol: "zroot/vm/app2/disk0", clone: "zroot/images/freebsd-14.3@base", size: "10G", on_delete: "destroy" }, { zvol: "zroot/vm/app2/data", size: "1G", sparse: false }]),
      guest("app3", [{ file: "/vm/app3/disk0.img", size: "2G", on_delete: "destroy" }]),
    ));
    assert.deepEqual(r1.refused, []);
    assert.ok(whatDetails(r1.changed).includes("guest app2: volume zroot/vm/app2/disk0 cloned from zroot/images/freebsd-14.3@base, grown to 10G"), whatDetails(r1.changed).join("\n"));
    assert.ok(whatDetails(r1.changed).includes("guest app3: image file /vm/app3/disk0.img created (2G, sparse)"));
    assert.equal(h.run("zfs", ["list", "-H", "-p", "-o", "origin,volsize", "zroot/vm/app2/disk0"]).stdout, `zroot/images/freebsd-14.3@base\t${10 * GiB}\n`);
    assert.notEqual(h.run("zfs", ["list", "-H", "-p", "-o", "refreservation", "zroot/vm/app2/data"]).stdout, "0\n", "sparse: false reserves");
    await until(() => h.machine().vms.app2?.process != null, "app2's bhyve");
    assert.equal(h.run("zfs", ["destroy", "zroot/vm/app2/data"]).stderr, "cannot destroy 'zroot/vm/app2/data': dataset is busy\n", "a volume a running bhyve has open");
    const img = join(h.root, "vm/app3/disk0.img");
    assert.equal(statSync(img).size, 2 * GiB);
    assert.equal(statSync(img).mode & 0o777, 0o600);
    assert.ok(statSync(img).blocks * 512 < 1024 * 1024, "sparse");

    // app1 goes (keep), app2 goes (disk0 destroy, data keep), app3 goes (destroy).
    const r2 = await h.apply(doc());
    assert.deepEqual(whatDetails(r2.changed).filter((d) => !d.endsWith("stopped and deleted (no longer in the desired state)")).sort(), [
      "guest app2: volume zroot/vm/app2/disk0 destroyed (on_delete: destroy)",
      "guest app3: image file /vm/app3/disk0.img removed (on_delete: destroy)",
    ]);
    assert.equal(zfsList("zroot/vm/app1/disk0"), `zroot/vm/app1/disk0\t${30 * GiB}\t0\tdev\tapp1\n`, "kept");
    assert.equal(h.run("zfs", ["list", "zroot/vm/app2/disk0"]).status, 1, "destroyed");
    assert.equal(h.run("zfs", ["list", "-H", "-o", "name", "zroot/vm/app2/data"]).stdout, "zroot/vm/app2/data\n", "kept: no on_delete");
    assert.ok(!existsSync(img));
    assert.ok(!existsSync(join(h.root, "dev/zvol/zroot/vm/app2/disk0")));
  });

  test("a recreated guest finds its kept volume again; on_delete: destroy spares a disk with snapshots (zfs refuses) and says so", async () => {
    const r = await h.apply(doc(guest("app1", [{ zvol: "zroot/vm/app1/disk0", size: "30G", type: "nvme", on_delete: "destroy" }])));
    assert.deepEqual(r.refused, []);
    assert.ok(!whatDetails(r.changed).some((d) => d.includes("volume") && d.includes("created")), "the volume was kept, not made again");
    assert.equal(h.run("zfs", ["snapshot", "zroot/vm/app1/disk0@before-upgrade"]).status, 0);
    const gone = await h.apply(doc());
    assert.match(whatDetails(gone.refused).join("\n"), /guest app1: disk \/dev\/zvol\/zroot\/vm\/app1\/disk0 not destroyed: zfs destroy zroot\/vm\/app1\/disk0 failed: cannot destroy 'zroot\/vm\/app1\/disk0': volume has children/);
    assert.equal(zfsList("zroot/vm/app1/disk0").split("\t")[0], "zroot/vm/app1/disk0");
  });

  test("a file in the way that the agent did not make is refused", async () => {
    mkdirSync(join(h.root, "vm"), { recursive: true });
    writeFileSync(join(h.root, "vm/hand.img"), "data");
    const e = await refusal(h.apply(doc(guest("h", [{ file: "/vm/hand.img", size: "1G" }]))));
    assert.equal(e.code, "E_DISK_NOT_OURS");
    assert.equal(readFileSync(join(h.root, "vm/hand.img"), "utf8"), "data");
  });

  test("an owner mark inherited from a parent marks nothing: a hand-made volume below a marked file system is refused", async () => {
    assert.equal(h.run("zfs", ["create", "-o", "bhyve-agent:guest=app9", "zroot/vm/inh"]).status, 0);
    assert.equal(h.run("zfs", ["create", "-s", "-V", "1G", "zroot/vm/inh/disk"]).status, 0);
    const e = await refusal(h.apply(doc(guest("app9", [{ zvol: "zroot/vm/inh/disk", size: "1G" }]))));
    assert.equal(e.code, "E_DISK_NOT_OURS");
  });

  test("clone sources are checked before anything changes: missing, a file system's snapshot, a size off the snapshot's block size", async () => {
    const missing = await refusal(h.apply(doc(guest("app8", [{ zvol: "zroot/vm/app8/root", clone: "zroot/images/freebsd-14.3@nope" }]))));
    assert.equal(missing.code, "E_DISK_SOURCE");
    assert.match(missing.message, /^guests\[0\]\.disks\[0\]\.clone: snapshot zroot\/images\/freebsd-14\.3@nope does not exist on this host/);
    assert.equal(h.run("zfs", ["snapshot", "zroot/vm/inh@fs"]).status, 0);
    const fs = await refusal(h.apply(doc(guest("app8", [{ zvol: "zroot/vm/app8/root", clone: "zroot/vm/inh@fs" }]))));
    assert.match(fs.message, /is not a snapshot of a volume/);
    assert.equal(h.run("zfs", ["list", "zroot/vm/app8/root"]).status, 1, "nothing made");
  });

  test("a file disk through a symbolic link is refused before it is made", async () => {
    mkdirSync(join(h.root, "vm/real"), { recursive: true });
    symlinkSync("/vm/real", join(h.root, "vm/linked"));
    const e = await refusal(h.apply(doc(guest("app7", [{ file: "/vm/linked/disk.img", size: "1G" }]))));
    assert.match(e.message, /^guests\[0\]\.disks\[0\]\.file: \/vm\/linked\/disk\.img goes through a symbolic link \(to \/vm\/real\/disk\.img\)/);
    assert.ok(!existsSync(join(h.root, "vm/real/disk.img")));
  });

  test("a disk accepted before and changed on the host since stops only its own guest: the others converge", async () => {
    const a = doc(guest("app5", [{ zvol: "zroot/vm/app5/disk0", size: "1G" }]), guest("app6", [{ zvol: "zroot/vm/app6/disk0", size: "1G" }]));
    assert.deepEqual((await h.apply(a)).refused, []);
    assert.ok(existsSync(join(h.root, "var/db/bhyve-agent/guests/app5/managed-disks.json")), "the guest's disks recorded beside its spec");
    // Grown behind the agent's back: the stored size is now a shrink, which the agent never does.
    assert.equal(h.run("zfs", ["set", "volsize=2G", "zroot/vm/app5/disk0"]).status, 0);
    const r = await h.apply(doc(guest("app5", [{ zvol: "zroot/vm/app5/disk0", size: "1G" }]), guest("app6", [{ zvol: "zroot/vm/app6/disk0", size: "2G" }])));
    assert.deepEqual(whatDetails(r.refused).map((d) => d.split(":").slice(0, 2).join(":")), ["guest app5: E_SHRINK"], "app5 keeps running; it is not started again while its disk is off");
    assert.ok(whatDetails(r.changed).includes("guest app6: volume zroot/vm/app6/disk0 grown from 1G to 2G (a running guest sees the new size when it next starts)"), whatDetails(r.changed).join("\n"));
  });

  test("a volume's origin is fixed: another clone source for an existing volume is refused", async () => {
    assert.deepEqual((await h.apply(doc(guest("app4", [{ zvol: "zroot/vm/app4/root", clone: "zroot/images/freebsd-14.3@base" }])))).refused, []);
    assert.equal(h.run("zfs", ["snapshot", "zroot/images/freebsd-14.3@v2"]).status, 0);
    const e = await refusal(h.apply(doc(guest("app4", [{ zvol: "zroot/vm/app4/root", clone: "zroot/images/freebsd-14.3@v2" }]))));
    assert.equal(e.code, "E_DISK_FIXED");
    assert.match(e.message, /^guests\[0\]\.disks\[0\]\.clone: volume zroot\/vm\/app4\/root was cloned from zroot\/images\/freebsd-14\.3@base; a volume's origin is fixed/);
  });

  test("a mark with a line break cannot forge another volume's owner line: the reading is refused, nothing is taken", async () => {
    assert.equal(h.run("zfs", ["create", "-s", "-V", "1G", "-o", "bhyve-agent:guest=x\nzroot/vm/app4/root\tbhyve-agent:guest\tapp3\tlocal", "zroot/vm/forged"]).status, 0);
    const e = await refusal(h.apply(doc(guest("app4", [{ zvol: "zroot/vm/app4/root", clone: "zroot/images/freebsd-14.3@base" }]), guest("app3", [{ zvol: "zroot/vm/forged", size: "1G" }]))));
    assert.equal(e.code, "E_ZFS");
    assert.match(e.message, /zfs get printed a line the agent did not ask for/);
    assert.equal(h.run("zfs", ["destroy", "zroot/vm/forged"]).status, 0);
  });

  test("a file disk is made under a temporary name and linked: no temporary file is left", async () => {
    assert.deepEqual((await h.apply(doc(guest("app4", [{ zvol: "zroot/vm/app4/root", clone: "zroot/images/freebsd-14.3@base" }, { file: "/vm/app4/scratch.img", size: "1M" }])))).refused, []);
    assert.deepEqual(readdirSync(join(h.root, "vm/app4")), ["scratch.img"]);
  });

  test("the reads of one session share one zfs get, whatever the number of guests; a converge's changes are read again", async () => {
    const three = doc(...["app5", "app6", "app4"].map((n) => guest(n, [{ zvol: `zroot/vm/${n}/disk0`, size: "2G" }])));
    await h.apply(three);
    const zfsRuns = () => readFileSync(join(h.root, TOOL_CALLS_FILE), "utf8").split("\n").filter((l) => l === "zfs").length;
    const before = zfsRuns();
    await withSessionSnapshots(new SessionSnapshots(), async () => {
      for (const n of ["app5", "app6", "app4"]) assert.equal((await getGuest(h.paths, n)).disks.length, 1);
      await status(h.paths);
      assert.equal(zfsRuns() - before, 1, "one zfs get for three guest.get and a status");
      await h.apply(doc(...["app5", "app6", "app4"].map((n) => guest(n, [{ zvol: `zroot/vm/${n}/disk0`, size: n === "app4" ? "3G" : "2G" }]))));
      assert.equal((await getGuest(h.paths, "app4")).disks[0]!.size, 3 * GiB, "read again after the converge grew it");
    });
  });

  test("volumes outlive a host reboot", async () => {
    await rebootSandbox(h.root);
    assert.equal(zfsList("zroot/vm/app2/data").split("\t")[0], "zroot/vm/app2/data");
  });
});

describe("cloud-init: a NoCloud seed built in the guest's directory and attached as a CD", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const ci = { user_data: "#cloud-config\npackages: [nginx]\n", network_config: "version: 2\n" };

  test("the seed holds user-data, meta-data (instance id, host name) and network-config, labelled cidata", async () => {
    const r = await h.apply(doc(guest("web1", [{ path: "/dev/zvol/zroot/vm/web1" }], { cloud_init: ci })));
    assert.deepEqual(r.refused, []);
    const iid = instanceId("web1", { userData: ci.user_data, networkConfig: ci.network_config });
    assert.ok(whatDetails(r.changed).includes(`guest web1: cloud-init seed built (instance-id ${iid}; the guest reads it at its next boot)`), whatDetails(r.changed).join("\n"));
    const iso = readSandboxIso(readFileSync(join(h.root, "var/db/bhyve-agent/guests/web1/seed.iso")));
    assert.deepEqual(iso, { label: "CIDATA", rockridge: true, files: { "meta-data": `local-hostname: web1\ninstance-id: ${iid}\n`, "network-config": "version: 2\n", "user-data": ci.user_data } });
    await until(() => readGuest(h.paths, "web1").state === "running", "web1 running");
    assert.ok(readGuest(h.paths, "web1").argv!.includes("5:0,ahci-cd,/var/db/bhyve-agent/guests/web1/seed.iso"));
    assert.equal((await getGuest(h.paths, "web1")).seed_present, true);
    assert.deepEqual((await h.apply(doc(guest("web1", [{ path: "/dev/zvol/zroot/vm/web1" }], { cloud_init: ci })))).changed, []);
  });

  test("changed user-data: a new instance id, the seed rebuilt, the running guest not restarted", async () => {
    const pid = readGuest(h.paths, "web1").pid;
    const r = await h.apply(doc(guest("web1", [{ path: "/dev/zvol/zroot/vm/web1" }], { cloud_init: { ...ci, user_data: "#cloud-config\npackages: [nginx, git]\n" } })));
    assert.equal(r.changed.length, 1);
    assert.match(r.changed[0]!.detail, /^cloud-init seed built \(instance-id iid-web1-[0-9a-f]{16};/);
    assert.equal(readGuest(h.paths, "web1").pid, pid);
    const iso = readSandboxIso(readFileSync(join(h.root, "var/db/bhyve-agent/guests/web1/seed.iso")));
    assert.equal(iso!.files["user-data"], "#cloud-config\npackages: [nginx, git]\n");
  });

  test("without cloud_init the seed is removed (the guest restarts without the CD)", async () => {
    const r = await h.apply(doc(guest("web1", [{ path: "/dev/zvol/zroot/vm/web1" }])));
    assert.ok(whatDetails(r.changed).includes("guest web1: cloud-init seed removed"), whatDetails(r.changed).join("\n"));
    assert.ok(!existsSync(join(h.root, "var/db/bhyve-agent/guests/web1/seed.iso")));
  });
});
