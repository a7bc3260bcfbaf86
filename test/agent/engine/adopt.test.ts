/**
 * Adoption on a sandbox host where vm-bhyve runs four guests (a UEFI guest on a switch, a guest it
 * loads with bhyveload, a GPU passthrough guest, and one with a device the model lacks): host.foreign
 * reads each with its command line from vm-bhyve's log; a guest with adopt that renders to another
 * machine is refused and nothing changes; one that renders to the running machine is taken over
 * without a restart (the same bhyve, vm-bhyve's runner stopped), after which it is the agent's like
 * any guest; the VM adopt does not name stays vm-bhyve's.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { foreignReport, type ForeignReport } from "../../../agent/guests/adopt.js";
import { adoptRunningVm, readGuest, specFor } from "../../../agent/guests/lifecycle.js";
import { checkGuestAlone } from "../../../agent/model/validate.js";
import { isZombie, processAlive } from "../../../agent/host/pid-lock.js";
import { guestAction, rebootSandbox, STOCK_LOADER_CONF } from "../../../sandbox/host.js";
import { setupVmBhyve, vmBhyveStart, writeVmBhyveGuest, type VmBhyveStarted } from "../../../sandbox/vm-bhyve.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";
import { VM_BHYVE_GUESTS } from "../../support/vm-bhyve-guests.js";

/** A process that runs (not one that ended and waits to be collected: pid 1 collects orphans when it gets to it). */
const runs = (pid: number): boolean => processAlive(pid) && !isZombie(pid);
const CONFS = VM_BHYVE_GUESTS;
const PPT = [{ device: "3/0/0", bind: "boot" }, { device: "3/0/1", bind: "boot" }];

describe("adopting vm-bhyve's guests", () => {
  const h = new AgentHost("intel-vtd");
  const started: Record<string, VmBhyveStarted> = {};
  let report: ForeignReport;
  const doc_ = (name: string) => ({ ...report.vms.find((v) => v.name === name)!.document!, adopt: true, ...(name === "web" ? { state: "stopped" } : {}) });
  const doc = (name: string, extra: Record<string, unknown> = {}) => ({ ...report.vms.find((v) => v.name === name)!.document!, adopt: true, ...extra });
  const bhyvePid = (name: string) => h.machine().vms[name]?.process?.pid ?? null;

  before(async () => {
    writeFileSync(join(h.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="3/0/0 3/0/1"\n`);
    await rebootSandbox(h.root);
    setupVmBhyve(h.root, { switches: ["public"] });
    for (const [name, conf] of Object.entries(CONFS)) {
      writeVmBhyveGuest(h.root, name, conf);
      started[name] = await vmBhyveStart(h.root, name);
    }
  });
  after(() => h.destroy());

  test("host.foreign: each VM with its bhyve, vm-bhyve's runner, the command line from its log, the guest it reads as; what the model lacks named", async () => {
    report = await foreignReport(h.paths);
    assert.deepEqual(report.vms.map((v) => v.name), ["fbsd", "gpu", "rnd", "web"]);
    assert.deepEqual(report.pptdevs, ["3/0/0", "3/0/1"]);
    assert.equal(report.vm_bhyve.vm_dir, "/vm");
    for (const v of report.vms) {
      assert.equal(v.pid, started[v.name]!.bhyvePid, v.name);
      assert.deepEqual([v.parent?.pid, v.parent?.kind], [started[v.name]!.runnerPid, "vm-bhyve"], v.name);
      assert.deepEqual(v.argv?.slice(1), started[v.name]!.argv.slice(1), `${v.name}: the log's command line is the one vm-bhyve ran`);
    }
    const by = (n: string) => report.vms.find((v) => v.name === n)!;
    for (const n of ["web", "fbsd", "gpu"]) assert.deepEqual([n, by(n).unsupported], [n, []]);
    assert.match(by("rnd").unsupported.join(), /the model has no virtio-rnd device/);
    assert.equal(by("rnd").adoptable, false);
    assert.deepEqual((by("gpu").document!.passthru as unknown[]).length, 2);
    assert.equal(by("web").document!.exit_on_pause, false, "vm-bhyve's UEFI guests run without -P");
    assert.match(by("web").notes.join(), /nics\[0\] is on tap\d+/);
    assert.deepEqual((by("web").document!.nics as Array<Record<string, unknown>>).map((n) => [n.slot, n.function ?? 0]), [[15, 0], [15, 1]], "vm-bhyve's NIC packing kept");
  });

  test("a guest with adopt that renders another machine is refused (E_ADOPT_MISMATCH, the difference named); nothing changes", async () => {
    const loader = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    await assert.rejects(h.apply({ ppt: PPT, guests: [doc("web", { memory: "2G" })] }), (err: Error & { code?: string; problems?: Array<{ path: string; message: string }> }) => {
      assert.equal(err.code, "E_ADOPT_MISMATCH");
      assert.equal(err.problems?.[0]?.path, "guests[0].adopt");
      assert.match(err.problems![0]!.message, /VM web runs another machine than this guest renders to.*-m: runs 1G, renders 2G/);
      return true;
    });
    assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), loader, "loader.conf untouched");
    assert.equal(bhyvePid("web"), started.web!.bhyvePid);
    assert.ok(runs(started.web!.runnerPid), "vm-bhyve's runner goes on");
    assert.equal(readGuest(h.paths, "web").vm_foreign, true);
  });

  test("adopt: the three are taken over as they run (the same bhyve, its runner stopped, the agent's monitor on it); a second apply changes nothing", async () => {
    const r = await h.apply({ ppt: PPT, guests: ["web", "fbsd", "gpu"].map((n) => doc(n)) });
    assert.deepEqual(r.refused, []);
    for (const n of ["web", "fbsd", "gpu"]) {
      assert.ok(r.changed.some((c) => c.what === `guest ${n}` && /^adopted: its bhyve \(pid \d+\) runs on unchanged/.test(c.detail)), `${n}: ${JSON.stringify(r.changed)}`);
      assert.equal(bhyvePid(n), started[n]!.bhyvePid, `${n} was not restarted`);
      const g = readGuest(h.paths, n);
      assert.deepEqual([g.state, g.pid, g.vm_foreign], ["running", started[n]!.bhyvePid, false], n);
      assert.notEqual(g.monitor_pid, null);
      await until(() => !runs(started[n]!.runnerPid), `${n}'s vm-bhyve runner stopped`);
    }
    assert.ok(!r.changed.some((c) => /^guest .* (started|restarted)/.test(`${c.what} ${c.detail}`)), JSON.stringify(r.changed));
    const again = await h.apply({ ppt: PPT, guests: ["web", "fbsd", "gpu"].map((n) => doc(n)) });
    assert.deepEqual(again.changed.filter((c) => c.what.startsWith("guest ")), []);
    for (const n of ["web", "fbsd", "gpu"]) assert.equal(bhyvePid(n), started[n]!.bhyvePid);
    // The VM the document does not adopt is still vm-bhyve's.
    assert.equal(readGuest(h.paths, "rnd").vm_foreign, true);
    assert.ok(runs(started.rnd!.runnerPid));
  });

  test("once adopted it is the agent's: a reboot of the adopted bhyve (its exit status unknown here) stops it, the next apply starts it as the monitor's own; a stop powers it off", async () => {
    const all = () => ({ ppt: PPT, guests: ["web", "fbsd", "gpu"].map((n) => doc(n)) });
    assert.equal(await guestAction(h.root, "fbsd", "reboot"), 0);
    await until(() => readGuest(h.paths, "fbsd").monitor_pid === null, "fbsd's monitor stopped");
    assert.equal(readGuest(h.paths, "fbsd").reason, "exit-unknown");
    const r = await h.apply(all());
    assert.ok(r.changed.some((c) => c.what === "guest fbsd"), JSON.stringify(r.changed));
    await until(() => readGuest(h.paths, "fbsd").state === "running", "fbsd running again");
    assert.notEqual(bhyvePid("fbsd"), started.fbsd!.bhyvePid);
    await h.apply({ ppt: PPT, guests: [doc("web", { state: "stopped" }), doc("fbsd"), doc("gpu")] });
    assert.equal(runs(started.web!.bhyvePid), false, "the adopted bhyve was powered off");
    assert.equal(h.machine().vms.web, undefined, "its VM destroyed");
  });

  test("a bhyve vm-bhyve's log does not describe is refused (E_ADOPT_UNKNOWN): its runner gone and the log's run older than the bhyve", async () => {
    writeVmBhyveGuest(h.root, "late", CONFS.fbsd!.replace("disk2", "disk0").replace("512M", "256M"));
    const s = await vmBhyveStart(h.root, "late");
    process.kill(s.runnerPid, "SIGKILL");
    await until(() => !runs(s.runnerPid), "the runner gone");
    // The log's start line said an hour earlier than the bhyve that runs.
    const log = join(h.root, "vm/late/vm-bhyve.log");
    const text = readFileSync(log, "utf8").split("\n");
    const at = text.findLastIndex((l) => l.includes("starting bhyve (run 1)"));
    const hourAgo = new Date(Date.now() - 3_600_000);
    const stamp = `${hourAgo.toLocaleString("en-US", { month: "short" })} ${String(hourAgo.getDate()).padStart(2, "0")} ${hourAgo.toTimeString().slice(0, 8)}`;
    text[at] = `${stamp}: starting bhyve (run 1)`;
    writeFileSync(log, text.join("\n"));
    const late = (await foreignReport(h.paths)).vms.find((v) => v.name === "late")!;
    assert.equal(late.adoptable, false);
    const ppid = late.parent?.pid;
    assert.match(late.unsupported.join(), ppid === 1 ? /vm-bhyve's log says it started run 1 at .*: the log does not describe the bhyve that runs/ : /not of vm-bhyve's runner: the log does not describe it/);
    const doc = { ...report.vms.find((v) => v.name === "fbsd")!.document!, name: "late", memory: "256M", disks: [{ path: "/dev/zvol/zroot/vm/disk0", type: "virtio-blk", slot: 4 }], adopt: true };
    await assert.rejects(h.apply({ ppt: PPT, guests: [...["web", "fbsd", "gpu"].map((n) => doc_(n)), doc] }), (err: Error & { code?: string }) => err.code === "E_ADOPT_UNKNOWN");
    assert.equal(bhyvePid("late"), s.bhyvePid, "left as it runs");
  });

  test("a VM the host's policy would refuse (a disk outside disk_prefixes) is reported with the policy's words, not as adoptable", async () => {
    mkdirSync(join(h.root, "srv"), { recursive: true });
    writeFileSync(join(h.root, "srv/far.img"), Buffer.alloc(1024 * 1024));
    writeVmBhyveGuest(h.root, "far", 'loader="uefi"\ncpu=1\nmemory=256M\ndisk0_type="virtio-blk"\ndisk0_dev="custom"\ndisk0_name="/srv/far.img"\n');
    const s = await vmBhyveStart(h.root, "far");
    const far = (await foreignReport(h.paths)).vms.find((v) => v.name === "far")!;
    assert.equal(far.adoptable, false);
    assert.match(far.unsupported.join(), /the host's policy \(.*\) refuses it: .*\/srv\/far\.img/);
    assert.equal(bhyvePid("far"), s.bhyvePid);
  });

  test("vm-bhyve's files count only when nobody but root can write them: a log others may write is not read", async () => {
    const log = join(h.root, "vm/rnd/vm-bhyve.log");
    chmodSync(log, 0o666);
    try {
      const rnd = (await foreignReport(h.paths)).vms.find((v) => v.name === "rnd")!;
      assert.equal(rnd.argv, null);
      assert.match(rnd.unsupported.join(), /\/vm\/rnd\/vm-bhyve\.log can be written by others than its owner \(mode 666\): vm-bhyve's record of it is not to be trusted/);
    } finally {
      chmodSync(log, 0o644);
    }
  });

  test("a takeover that fails leaves no mark: an owner file naming the bhyve it was to adopt goes when its monitor fails (the VM stays foreign)", async () => {
    assert.equal(h.run("bhyvectl", ["--create", "--vm=orphan"]).status, 0);
    mkdirSync(h.paths.guestRunDir("orphan"), { recursive: true });
    // As a monitor killed at the agent's deadline, after its claim and before it undid it, leaves it.
    writeFileSync(h.paths.guestOwnerFile("orphan"), "name=orphan\ncreated=2026-12-03T00:00:00Z\nadopted_pid=999999\n");
    const g = checkGuestAlone({ name: "orphan", cpus: 1, memory: "256M", bootrom: FW, uuid: "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0" });
    assert.ok(g.ok);
    await assert.rejects(adoptRunningVm(h.paths, "orphan", specFor(h.paths, g.guest, { host: { vmmLoad: true, amdviEnable: "auto", requireIommu: true, requireNestedPaging: true }, ppt: [], switches: [], guests: [g.guest] }), 999999), (err: Error & { code?: string }) => err.code === "E_ADOPT_GONE");
    assert.equal(existsSync(h.paths.guestOwnerFile("orphan")), false);
    assert.equal(readGuest(h.paths, "orphan").vm_foreign, true);
    assert.ok(h.machine().vms.orphan, "the VM is untouched");
  });
});
