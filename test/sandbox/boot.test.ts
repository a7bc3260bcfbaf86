import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseDmesgBoot } from "../../agent/parse/dmesg-boot.js";
import { parsePciconf } from "../../agent/parse/pciconf.js";
import { parseSysctl } from "../../agent/parse/sysctl.js";
import { rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { TestSandbox, FW } from "../support/sandbox.js";

function drivers(sb: TestSandbox): Record<string, string> {
  return Object.fromEntries(parsePciconf(sb.run("pciconf", ["-l"]).stdout).entries.map((e) => [e.device, e.name]));
}

function setLoaderConf(sb: TestSandbox, extra: string): void {
  writeFileSync(join(sb.root, "boot/loader.conf"), STOCK_LOADER_CONF + extra);
}

describe("reboot applies loader.conf as FreeBSD does", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("pptdevs takes effect with vmm_load; a bridge, a missing device and a typo are silently ignored", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="3/0/0 3/0/1 0/1/0 9/0/0 4/0/l"\n');
    await rebootSandbox(sb.root);
    const d = drivers(sb);
    assert.equal(d["3/0/0"], "ppt0");
    assert.equal(d["3/0/1"], "ppt1");
    assert.equal(d["0/1/0"], "pcib0", "a bridge keeps its driver");
    assert.equal(d["4/0/1"], "igb1", "the typo 4/0/l matched nothing");
    const s = parseSysctl(sb.run("sysctl", ["hw.vmm.ppt.devices", "hw.vmm.iommu.initialized"]).stdout);
    assert.equal(s.get("hw.vmm.ppt.devices"), "2");
    assert.equal(s.get("hw.vmm.iommu.initialized"), "0", "the IOMMU initialises lazily, at the first passthrough VM");
    assert.equal(sb.run("kldstat", ["-q", "-m", "vmm"]).status, 0);
  });

  test("pptdevs2 and pptdevs3 are read too; commas are not separators; later lines win", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="3/0/0"\npptdevs2="3/0/1,4/0/0"\npptdevs3="5/0/0"\npptdevs3="4/0/1"\n');
    await rebootSandbox(sb.root);
    const d = drivers(sb);
    assert.deepEqual([d["3/0/0"], d["3/0/1"], d["4/0/0"], d["4/0/1"], d["5/0/0"]], ["ppt0", "ppt1", "igb0", "ppt2", "nvme0"]);
  });

  test("without vmm_load, pptdevs does nothing: the native drivers attach", async () => {
    setLoaderConf(sb, 'pptdevs="3/0/0 3/0/1"\n');
    await rebootSandbox(sb.root);
    const d = drivers(sb);
    assert.equal(d["3/0/0"], "vgapci0");
    assert.equal(d["3/0/1"], "hdac0");
    assert.equal(sb.run("sysctl", ["hw.vmm.ppt.devices"]).status, 1, "no vmm, no hw.vmm");
  });

  test("kldload vmm later: attached devices keep their drivers (vmm(4)'s right of refusal is lost)", () => {
    const r = sb.run("kldload", ["vmm"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(drivers(sb)["3/0/0"], "vgapci0");
    const again = sb.run("kldload", ["vmm"]);
    assert.equal(again.status, 1);
    assert.equal(again.stderr, "kldload: can't load vmm: module already loaded or in kernel\n");
    assert.equal(sb.run("kldload", ["-n", "vmm"]).status, 0);
  });

  test("a reboot kills running guests and empties /dev/vmm", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\n');
    await rebootSandbox(sb.root);
    const g = sb.start("bhyve", ["-c", "1", "-m", "512M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, "g1"]);
    await sb.waitRunning("g1");
    assert.deepEqual(readdirSync(join(sb.root, "dev/vmm")), ["g1"]);
    const before = sb.machine().bootCount;
    await rebootSandbox(sb.root);
    const exit = await g.exit;
    assert.equal(exit.code, null, "killed");
    assert.deepEqual(readdirSync(join(sb.root, "dev/vmm")), []);
    assert.deepEqual(sb.machine().vms, {});
    assert.equal(sb.machine().bootCount, before + 1);
  });
});

describe("AMD-Vi: hw.vmm.amdvi.enable is 0 until loader.conf sets it", () => {
  const sb = new TestSandbox("amd-vi");
  after(() => sb.destroy());

  test("the tunable, its legacy alias, and the IOMMU PCI function's driver in vmm.ko", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="3/0/0 3/0/1"\n');
    await rebootSandbox(sb.root);
    const s = parseSysctl(sb.run("sysctl", ["hw.vmm.amdvi", "hw.vmm.vmx.initialized", "hw.vmm.svm.features"]).stdout);
    assert.equal(s.get("hw.vmm.amdvi.enable"), "0");
    assert.equal(s.get("hw.vmm.amdvi.count"), "4");
    assert.equal(s.get("hw.vmm.vmx.initialized"), "0", "registered on AMD too, and 0 there");
    assert.notEqual(s.get("hw.vmm.svm.features"), "4294967295");
    assert.equal(drivers(sb)["0/0/2"], "amdiommu0");
    appendFileSync(join(sb.root, "boot/loader.conf"), "hw.vmm.amdvi_enable=1\n");
    await rebootSandbox(sb.root);
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.amdvi.enable"]).stdout, "1\n");
  });

  test("passthrough fails while hw.vmm.amdvi.enable is 0, with vmm's hint in the kernel messages, and works once it is 1", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="4/0/1"\n');
    await rebootSandbox(sb.root);
    const args = ["-c", "1", "-m", "1G", "-S", "-s", "0,hostbridge", "-s", "5,passthru,4/0/1", "-s", "31,lpc", "-l", `bootrom,${FW}`];
    const r = sb.run("bhyve", [...args, "nic0"]);
    assert.equal(r.status, 4);
    assert.equal(r.stderr, "bhyve: PCI device at 4/0/1 is not using the ppt(4) driver\nDevice emulation initialization error: Device not configured\n");
    assert.deepEqual(sb.machine().messages, ["bhyve: Found 4 AMD-Vi/IOMMU device(s), use hw.vmm.amdvi.enable=1 to enable pass-through."]);
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="4/0/1"\nhw.vmm.amdvi.enable="1"\n');
    await rebootSandbox(sb.root);
    const g = sb.start("bhyve", [...args, "nic0"]);
    await sb.waitRunning("nic0");
    assert.deepEqual(sb.machine().vms.nic0!.ppt, ["4/0/1"]);
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
  });

  test("tunables cannot be set at run time", () => {
    const r = sb.run("sysctl", ["hw.vmm.amdvi.enable=1"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "sysctl: oid 'hw.vmm.amdvi.enable' is a read only tunable\nsysctl: Tunable values are set in /boot/loader.conf\n");
    const w = sb.run("sysctl", ["vm.max_user_wired=1000"]);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /^vm\.max_user_wired: \d+ -> 1000\n$/);
    assert.equal(sb.run("sysctl", ["-n", "vm.max_user_wired"]).stdout, "1000\n");
  });
});

describe("hw.vmm.iommu.enable=0 turns passthrough off", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("the tunable shows, devices still bind, and bhyve cannot assign them", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="4/0/1"\nhw.vmm.iommu.enable="0"\n');
    await rebootSandbox(sb.root);
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.iommu.enable"]).stdout, "0\n");
    assert.equal(drivers(sb)["4/0/1"], "ppt0");
    const r = sb.run("bhyve", ["-c", "1", "-m", "1G", "-S", "-s", "0,hostbridge", "-s", "5,passthru,4/0/1", "-s", "31,lpc", "-l", `bootrom,${FW}`, "g"]);
    assert.equal(r.status, 4);
    assert.equal(r.stderr, "bhyve: PCI device at 4/0/1 is not using the ppt(4) driver\nDevice emulation initialization error: Device not configured\n");
  });
});

describe("no-ept: vmm.ko refuses to load", () => {
  const sb = new TestSandbox("no-ept");
  after(() => sb.destroy());

  test("kldload fails with the generic message; the kernel says why in dmesg at the next boot", async () => {
    const r = sb.run("kldload", ["vmm"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "kldload: an error occurred while loading module vmm. Please check dmesg(8) for more details.\n");
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="2/0/0"\n');
    await rebootSandbox(sb.root);
    const dmesg = readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8");
    assert.match(dmesg, /^vmx_init: processor does not support desired secondary processor-based controls$/m);
    assert.ok(!parseDmesgBoot(dmesg).vtx!.features.includes("EPT"));
    assert.equal(drivers(sb)["2/0/0"], "em0", "no vmm, no ppt");
    const b = sb.run("bhyve", ["-c", "1", "-m", "512M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, "g"]);
    assert.equal(b.status, 4);
    assert.equal(b.stderr, "vm_create: No such file or directory\n");
  });
});

describe("no-iommu: passthrough fails at the first VM", () => {
  const sb = new TestSandbox("no-iommu");
  after(() => sb.destroy());

  test("devices bind to ppt, but bhyve cannot assign them", async () => {
    setLoaderConf(sb, 'vmm_load="YES"\npptdevs="2/0/0"\n');
    await rebootSandbox(sb.root);
    assert.equal(drivers(sb)["2/0/0"], "ppt0");
    const b = sb.run("bhyve", ["-c", "1", "-m", "512M", "-S", "-s", "0,hostbridge", "-s", "5,passthru,2/0/0", "-s", "31,lpc", "-l", `bootrom,${FW}`, "g"]);
    assert.equal(b.status, 4);
    assert.equal(b.stderr, "bhyve: PCI device at 2/0/0 is not using the ppt(4) driver\nDevice emulation initialization error: Device not configured\n");
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.iommu.initialized"]).stdout, "0\n");
  });
});
