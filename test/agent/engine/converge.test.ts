import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { rebootSandbox, guestAction, ignoreAcpi } from "../../../sandbox/host.js";
import { readLoaderConf, writeManagedSettings } from "../../../agent/host/loader-conf-store.js";
import { autostart, getGuest, getReservation, status, setGuestState, deleteGuestByName } from "../../../agent/engine/service.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { fixture, repoPath } from "../../support/helpers.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const EXAMPLE = parse(readFileSync(repoPath("examples/gpu-host/host.yaml"), "utf8")) as Record<string, any>;
const whats = (items: Array<{ what: string }>): string[] => items.map((i) => i.what);

describe("apply on an Intel VT-d host: reservations, loader.conf, guests, reboot, idempotence", () => {
  const h = new AgentHost("intel-vtd");
  const ODD = fixture("loader-conf/odd-valid.conf");
  before(() => writeFileSync(join(h.root, "boot/loader.conf"), ODD));
  after(() => h.destroy());

  test("first apply: block written, vmm loaded, the live NIC port bound now, the boot GPU pending, fw1 running", async () => {
    const r = await h.apply(EXAMPLE);
    assert.deepEqual(whats(r.changed), ["loader.conf", "vmm.ko", "ppt 4/0/1", "guest fw1"]);
    assert.deepEqual(whats(r.pending), ["ppt 3/0/0", "ppt 3/0/1", "guest ml1"]);
    assert.deepEqual(r.refused, []);
    assert.equal(r.reboot_required, true);
    assert.match(r.pending[2]!.detail, /^starts after the next boot: 3\/0\/0 is bound to ppt at the next boot/);
    const text = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    assert.ok(text.startsWith(ODD + "\n"), "every line of the file as it was, byte for byte (it had no final newline)");
    assert.match(text.slice(ODD.length), /^\n# BEGIN cdktf-bhyve managed block[^\n]*\nvmm_load="YES"\npptdevs="3\/0\/0 3\/0\/1 4\/0\/1"\n# END cdktf-bhyve managed block$/);
    assert.equal(readFileSync(join(h.root, "var/db/bhyve-agent/loader.conf.previous"), "utf8"), ODD, "the previous file is kept");
    assert.deepEqual(r.warnings, [], "the hand-written pptdevs line comes before the block, so the block wins");
    // Started: its bhyve comes up on its own time (slow on a loaded machine), so wait for it rather than assume it.
    await until(() => readGuest(h.paths, "fw1").state === "running", "fw1 to be running", 30_000);
    const fw1 = readGuest(h.paths, "fw1");
    assert.ok(fw1.argv!.includes("7:0,passthru,4/0/1"));
    assert.equal(fw1.argv![0], "/usr/sbin/bhyve", "argv as the host names it (the monitor runs the one under the root)");
    await until(() => h.machine().vms.fw1?.process != null, "fw1's bhyve");
    assert.deepEqual(h.machine().vms.fw1!.ppt, ["4/0/1"]);
  });

  test("a second apply changes nothing", async () => {
    const r = await h.apply(EXAMPLE);
    assert.deepEqual(r.changed, []);
    assert.deepEqual(r.refused, []);
    assert.equal(r.reboot_required, true, "still waiting for the reboot");
  });

  test("ppt.get and status tell what waits for the reboot", async () => {
    const gpu = await getReservation(h.paths, "3/0/0");
    assert.deepEqual([gpu.reserved, gpu.bind, gpu.bound, gpu.driver, gpu.in_loader_conf, gpu.reboot_required], [true, "boot", false, "vgapci0", true, true]);
    const nic = await getReservation(h.paths, "pci0:4:0:1");
    assert.deepEqual([nic.bound, nic.driver, nic.used_by, nic.reboot_required], [true, "ppt0", "fw1", false]);
    const s = await status(h.paths);
    assert.equal(s.reboot_required, true);
    assert.deepEqual(s.ppt, [{ device: "3/0/0", bound: false, driver: "vgapci0" }, { device: "3/0/1", bound: false, driver: "hdac0" }, { device: "4/0/1", bound: true, driver: "ppt0" }]);
  });

  test("after the reboot, autostart starts both guests in start order and nothing is pending", async () => {
    await rebootSandbox(h.root);
    const r = await autostart(h.paths, { settleMs: 600 });
    assert.deepEqual(whats(r.changed), ["guest fw1", "guest ml1"], "fw1 (start_order 5) before ml1 (10)");
    assert.equal(r.reboot_required, false);
    const s = await status(h.paths);
    assert.deepEqual(s.guests.map((g) => [g.name, g.state]), [["fw1", "running"], ["ml1", "running"]]);
    assert.deepEqual(s.ppt.map((p) => p.driver), ["ppt0", "ppt1", "ppt2"]);
    assert.equal((await h.apply(EXAMPLE)).changed.length, 0);
  });

  test("a guest that reboots itself is restarted by its monitor; that is not drift", async () => {
    await until(() => h.machine().vms.ml1?.process != null, "ml1 running");
    await guestAction(h.root, "ml1", "reboot");
    await until(() => readGuest(h.paths, "ml1").restarts === 1 && h.machine().vms.ml1?.process != null, "ml1 restarted");
    assert.equal(readGuest(h.paths, "ml1").last_exit!.code, 0);
    assert.deepEqual((await h.apply(EXAMPLE)).changed, []);
  });

  test("drift heals: a guest powered off, a guest crashed into its crash loop, a hand edit in the block", async () => {
    await until(() => h.machine().vms.ml1?.process != null && h.machine().vms.fw1?.process != null, "both bhyves");
    await guestAction(h.root, "fw1", "poweroff");
    await until(() => readGuest(h.paths, "fw1").state === "stopped", "fw1 stopped");
    for (let i = 0; i < 3; i++) {
      await until(() => h.machine().vms.ml1?.process != null, "ml1 running");
      await guestAction(h.root, "ml1", "crash");
      await until(() => readGuest(h.paths, "ml1").restarts === i + 2 || readGuest(h.paths, "ml1").state === "crashed", "ml1 restart or crash loop");
    }
    await until(() => readGuest(h.paths, "ml1").state === "crashed", "ml1 crashed");
    const conf = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    writeFileSync(join(h.root, "boot/loader.conf"), conf.replace('pptdevs="3/0/0 3/0/1 4/0/1"', 'pptdevs="3/0/0"'));
    const r = await h.apply(EXAMPLE);
    assert.deepEqual(r.changed.map((c) => [c.what, c.detail.split(" (")[0]]), [
      ["loader.conf", 'managed block: vmm_load="YES" pptdevs="3/0/0 3/0/1 4/0/1"'],
      ["guest fw1", "started"],
      ["guest ml1", "started again after a crash loop"],
    ]);
    assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), conf);
  });

  test("a changed guest is restarted with its new command line; guest.get shows what really runs", async () => {
    const doc = structuredClone(EXAMPLE);
    doc.guests[1].cpus = 1;
    const r = await h.apply(doc);
    assert.deepEqual(r.changed.map((c) => [c.what, c.detail]), [["guest fw1", "stopped to apply a changed configuration"], ["guest fw1", "started"]]);
    const g = await getGuest(h.paths, "fw1");
    assert.deepEqual(g.argv!.slice(1, 3), ["-c", "1"]);
    assert.equal(g.state, "running");
    assert.equal((g.desired as { cpus: number }).cpus, 1);
    assert.ok(g.events.some((e) => e.event === "exit" && e.fields.code === "1"), "the exit history is there");
  });

  test("stop is graceful, then forced for a guest that ignores the power button; start brings it back", async () => {
    await until(() => h.machine().vms.ml1?.process != null, "ml1 running");
    ignoreAcpi(h.root, "ml1");
    const r = await setGuestState(h.paths, "ml1", "stopped", { settleMs: 600 });
    assert.deepEqual(r.changed.map((c) => [c.what, c.detail]), [["guest ml1", "stopped"]]);
    const g = await getGuest(h.paths, "ml1");
    assert.equal(g.state, "stopped");
    assert.deepEqual(g.events.filter((e) => e.event === "stop").map((e) => e.fields.action), ["acpi-poweroff", "force-poweroff"]);
    assert.equal(h.machine().vms.ml1, undefined, "the VM was destroyed");
    const again = await setGuestState(h.paths, "ml1", "running", { settleMs: 600 });
    assert.deepEqual(whats(again.changed), ["guest ml1"]);
  });

  test("delete destroys the VM and removes the monitor's files; releasing a device in use is refused", async () => {
    const doc = structuredClone(EXAMPLE);
    doc.ppt = doc.ppt.filter((p: { device: string }) => p.device !== "4/0/1");
    doc.guests[1].passthru = [];
    doc.guests[1].cpus = 1;
    await until(() => h.machine().vms.fw1?.process != null, "fw1 running");
    const r = await h.apply(doc);
    assert.deepEqual(r.refused, [], "fw1 was restarted without the device first, then the device released");
    assert.deepEqual(r.changed.map((c) => c.what), ["loader.conf", "guest fw1", "ppt 4/0/1", "guest fw1"]);
    assert.match(r.changed[2]!.detail, /^released to igb1$/);
    const r2 = await deleteGuestByName(h.paths, "fw1", { settleMs: 600 });
    assert.deepEqual(r2.changed.map((c) => [c.what, c.detail]), [["guest fw1", "stopped and deleted (no longer in the desired state)"]]);
    assert.equal(readGuest(h.paths, "fw1").state, "missing");
    assert.ok(!existsSync(join(h.root, "var/db/bhyve-agent/guests/fw1")));
    assert.ok(!existsSync(join(h.root, "var/run/bhyve-agent/guests/fw1")));
    assert.ok(!existsSync(join(h.root, "dev/vmm/fw1")));
  });
});

describe("what the agent refuses", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("a reservation whose ids do not match the hardware: refused, nothing changed", async () => {
    const before = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    const doc = { ppt: [{ device: "4/0/1", vendor_id: 0x10de, bind: "live" }] };
    await assert.rejects(h.apply(doc), (e: Error & { code?: string }) => e.code === "E_SPEC_INVALID" && /ppt\[0\]\.vendor_id: expected 0x10de, but the device at 4\/0\/1 has 0x8086/.test(e.message));
    assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), before);
    assert.ok(!existsSync(join(h.root, "var/db/bhyve-agent/state.json")));
  });

  test("a reservation that guests of the document still use cannot go", async () => {
    await h.apply({ ppt: [{ device: "4/0/1", bind: "live" }], guests: [{ name: "nic", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }] }] });
    await assert.rejects(h.apply({ ppt: [], guests: [{ name: "nic", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }] }] }),
      /guests\[0\]\.passthru\[0\]\.device: 4\/0\/1 is not reserved on this host/);
  });

  test("releasing a device that a VM the agent does not manage holds is refused, with devctl's word", async () => {
    await h.apply({ ppt: [{ device: "4/0/0", bind: "live" }] });
    const foreign = h.start("bhyve", ["-c", "1", "-m", "512M", "-S", "-s", "0,hostbridge", "-s", "5,passthru,4/0/0", "-s", "31,lpc", "-l", `bootrom,${FW}`, "foreign"]);
    await until(() => h.machine().vms.foreign?.process != null, "foreign VM");
    const r = await h.apply({ ppt: [] });
    assert.deepEqual(r.refused.map((x) => x.what), ["ppt 4/0/0"]);
    assert.match(r.refused[0]!.detail, /^cannot be released: devctl set driver -f pci0:4:0:0 igb failed: devctl: Failed to set pci0:4:0:0 driver to igb: Device busy/);
    process.kill(foreign.child.pid!, "SIGTERM");
    await foreign.exit;
    assert.equal(h.run("bhyvectl", ["--vm=foreign", "--destroy"]).status, 0);
    const again = await h.apply({ ppt: [] });
    assert.deepEqual(again.refused, []);
    assert.ok(again.changed.some((c) => c.what === "ppt 4/0/0" && c.detail === "released to igb0"));
  });

  test("loader.conf changed between read and write: nothing written", () => {
    const snap = readLoaderConf(h.paths);
    writeFileSync(join(h.root, "boot/loader.conf"), `${snap.text}# edited meanwhile\n`);
    assert.throws(() => writeManagedSettings(h.paths, snap, [["vmm_load", "NO"]]), (e: Error & { code?: string }) => e.code === "E_LOADER_CONF_CHANGED");
    assert.match(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), /# edited meanwhile\n$/);
  });
});

describe("passthrough on hosts that are not ready", () => {
  const hosts: AgentHost[] = [];
  after(async () => {
    for (const x of hosts) await x.destroy();
  });
  const guestDoc = { name: "gpu", cpus: 2, memory: "2G", bootrom: FW, passthru: [{ device: "3/0/0", slot: 6 }, { device: "3/0/1", slot: 6 }] };

  test("no-iommu: the guest is refused with the reason; a guest without passthrough runs", async () => {
    const h = new AgentHost("no-iommu");
    hosts.push(h);
    const r = await h.apply({ ppt: [{ device: "1/0/0", bind: "live" }, { device: "1/0/1", bind: "live" }], guests: [
      { ...guestDoc, passthru: [{ device: "1/0/0", slot: 6 }, { device: "1/0/1", slot: 6 }] },
      { name: "plain", cpus: 1, memory: "1G", bootrom: FW },
    ] });
    assert.deepEqual(r.refused.map((x) => x.what), ["guest gpu"]);
    assert.match(r.refused[0]!.detail, /^not started: passthrough needs an IOMMU: no DMAR ACPI table/);
    assert.ok(r.changed.some((c) => c.what === "guest plain"));
    assert.equal(h.cli(["apply", "-"], JSON.stringify({ ppt: [{ device: "1/0/0", bind: "live" }], guests: [{ ...guestDoc, passthru: [{ device: "1/0/0", slot: 6 }] }] })).status, 1, "apply exits 1 when something was refused");
  });

  test("amd-vi: the guest waits for the reboot that turns AMD-Vi on, then runs", async () => {
    const h = new AgentHost("amd-vi");
    hosts.push(h);
    const doc = { ppt: [{ device: "3/0/0", bind: "boot" }, { device: "3/0/1", bind: "boot" }], guests: [guestDoc] };
    const r = await h.apply(doc);
    assert.match(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), /^hw\.vmm\.amdvi\.enable="1"$/m, "auto means on for AMD");
    assert.deepEqual(r.refused, []);
    assert.deepEqual(whats(r.pending), ["ppt 3/0/0", "ppt 3/0/1", "host amdvi_enable", "guest gpu"]);
    assert.match(r.pending[3]!.detail, /passthrough waits for AMD-Vi: hw\.vmm\.amdvi\.enable=1 is in loader\.conf; AMD-Vi turns on at the next boot/);
    await rebootSandbox(h.root);
    const after = await autostart(h.paths, { settleMs: 600 });
    assert.deepEqual(whats(after.changed), ["guest gpu"]);
    assert.equal(after.reboot_required, false);
  });

  test("no-ept: nothing runs, with the reason", async () => {
    const h = new AgentHost("no-ept");
    hosts.push(h);
    const r = await h.apply({ guests: [{ name: "plain", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/zroot/vm/disk0" }] }] });
    assert.deepEqual(r.refused.map((x) => x.what), ["guest plain"]);
    assert.match(r.refused[0]!.detail, /no EPT/);
  });
});

describe("bhyve's own failure reaches the operator with the guest's name", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("a disk that does not exist", async () => {
    // The watch ends at bhyve's failure; the window only bounds a bhyve that does not fail.
    const r = await h.apply({ guests: [{ name: "broken", cpus: 1, memory: "1G", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/nope" }] }] }, 60_000);
    assert.deepEqual(r.refused.map((x) => x.what), ["guest broken"]);
    assert.match(r.refused[0]!.detail, /^bhyve exited 4: Could not open backing file: No such file or directory/);
  });

  test("guests the agent did not create are left alone; guests it created and that leave the document go", async () => {
    assert.equal(h.run("bhyvectl", ["--vm=handmade", "--create"]).status, 0);
    const r = await h.apply({ guests: [{ name: "keep", cpus: 1, memory: "1G", bootrom: FW }] });
    assert.deepEqual(r.changed.map((c) => c.what), ["guest broken", "guest keep"]);
    assert.match(r.changed[0]!.detail, /deleted/);
    assert.ok(existsSync(join(h.root, "dev/vmm/handmade")));
  });

  test("a guest that reboots during its start watch was started; one whose restart policy is never is reported stopped", async () => {
    const keep = { name: "keep", cpus: 1, memory: "1G", bootrom: FW };
    const rebootAtStart = async (name: string, guest: Record<string, unknown>) => {
      // A long window that stays open: a framebuffer that waits for a viewer holds bhyve before it
      // activates the vCPUs (the watch ends early only for a bhyve past that), so the reboot surely falls inside it.
      const held = { framebuffer: { wait: true } };
      const applying = h.apply({ guests: [keep, { name, cpus: 1, memory: "512M", bootrom: FW, ...held, ...guest }] }, 5_000);
      await until(() => h.machine().vms[name]?.process != null, `${name} running`);
      assert.equal(await guestAction(h.root, name, "reboot"), 0);
      return applying;
    };
    const r = await rebootAtStart("rb", {});
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.changed.map((c) => [c.what, c.detail]), [["guest rb", "created and started"]]);
    await until(() => readGuest(h.paths, "rb").restarts === 1 && h.machine().vms.rb?.process != null, "rb started again by its monitor");

    const never = await rebootAtStart("rbn", { restart: "never" });
    assert.deepEqual(never.refused.map((x) => x.what), ["guest rbn"]);
    assert.match(never.refused[0]!.detail, /^bhyve exited 0 \(the guest rebooted, and its restart policy never leaves it stopped\)/);
  });
});

describe("the start watch", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("a guest that starts well is reported once bhyve is past its initialisation (its vCPUs active), not at the end of the window", { timeout: 30_000 }, async () => {
    const r = await h.apply({ guests: [{ name: "quick", cpus: 2, memory: "1G", bootrom: FW }] }, 120_000);
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.changed.filter((c) => c.what.startsWith("guest")).map((c) => [c.what, c.detail]), [["guest quick", "created and started"]]);
    assert.equal(h.run("bhyvectl", ["--vm=quick", "--get-active-cpus", "--get-debug-cpus"]).stdout, "active cpus:\t 0, 1\ndebug cpus:\t 1\n");
    assert.deepEqual((await h.apply({ guests: [] })).changed.map((c) => c.what), ["guest quick"]);
  });
});
