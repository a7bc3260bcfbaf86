import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gatherFacts } from "../../../agent/host/facts.js";
import { HostPaths } from "../../../agent/host/paths.js";
import { rebootSandbox, STOCK_LOADER_CONF } from "../../../sandbox/host.js";
import { TestSandbox } from "../../support/sandbox.js";
import { fixture } from "../../support/helpers.js";
import { AgentHost } from "../../support/agent-host.js";

async function bootWith(sb: TestSandbox, extra: string) {
  writeFileSync(join(sb.root, "boot/loader.conf"), STOCK_LOADER_CONF + extra);
  await rebootSandbox(sb.root);
  return gatherFacts(new HostPaths(sb.root));
}

const codes = (f: { problems: Array<{ code: string }> }): string[] => f.problems.map((p) => p.code);

describe("verdicts per sandbox profile, each with its evidence", () => {
  const boxes: TestSandbox[] = [];
  const box = (p: string): TestSandbox => {
    const b = new TestSandbox(p);
    boxes.push(b);
    return b;
  };
  after(async () => {
    for (const b of boxes) await b.destroy();
  });

  test("intel-vtd: ready once vmm.ko loads; EPT, unrestricted guest, VT-d", async () => {
    const sb = box("intel-vtd");
    const cold = await gatherFacts(new HostPaths(sb.root));
    assert.equal(cold.passthru_ready, false);
    assert.deepEqual(codes(cold), ["E_VMM_NOT_LOADED"]);
    assert.match(cold.problems[0]!.message, /set vmm_load .* and reboot/);
    const f = await bootWith(sb, 'vmm_load="YES"\n');
    assert.equal(f.cpu.vendor, "intel");
    assert.deepEqual([f.nested_paging.ok, f.nested_paging.kind, f.nested_paging.unrestricted_guest], [true, "ept", true]);
    assert.deepEqual([f.iommu.kind, f.iommu.enabled, f.iommu.initialized], ["vt-d", true, false]);
    assert.equal(f.vmm.loaded, true);
    assert.equal(f.passthru_ready, true);
    assert.deepEqual(f.problems, []);
    assert.ok(f.nested_paging.evidence.some((e) => e.source === "/var/run/dmesg.boot" && /VT-x: .*EPT,UG/.test(e.said)));
    assert.ok(f.nested_paging.evidence.some((e) => e.source === "sysctl hw.vmm.vmx.initialized" && e.said === "1"));
    assert.ok(f.iommu.evidence.some((e) => e.source === "acpidump -t" && /DMAR/.test(e.said)));
    assert.ok(f.cpu.evidence.some((e) => e.source === "cpuid" && /not used: the agent root is not \//.test(e.said)), "CPUID is not the sandbox's CPU");
    assert.equal(f.memory.max_user_wired! % 4096, 0);
    assert.ok(f.memory.max_user_wired! > 40 * 2 ** 30);
    const gpu = f.pci.find((p) => p.device === "3/0/0")!;
    assert.deepEqual([gpu.selector, gpu.driver, gpu.unit, gpu.vendor_id, gpu.device_id, gpu.class, gpu.bridge], ["pci0:3:0:0", "vgapci", 0, "0x10de", "0x1e07", "0x030000", false]);
    assert.equal(f.pci.find((p) => p.device === "0/1/0")!.bridge, true);
  });

  test("amd-vi: not ready until amdvi_enable and a reboot, and says exactly that", async () => {
    const sb = box("amd-vi");
    const f = await bootWith(sb, 'vmm_load="YES"\n');
    assert.deepEqual([f.cpu.vendor, f.nested_paging.ok, f.nested_paging.kind], ["amd", true, "npt"]);
    assert.deepEqual([f.iommu.kind, f.iommu.enabled, f.passthru_ready], ["amd-vi", false, false]);
    assert.deepEqual(f.problems, [{ code: "E_AMDVI_DISABLED", message: "AMD-Vi is present (ACPI IVRS, 4 unit(s)) but hw.vmm.amdvi.enable is 0: set amdvi_enable (hw.vmm.amdvi.enable=1 in loader.conf) and reboot" }]);
    assert.ok(f.iommu.evidence.some((e) => e.source === "sysctl hw.vmm.amdvi.enable" && e.said === "0"));
    // Written but not yet booted: the message says only the reboot is left.
    writeFileSync(join(sb.root, "boot/loader.conf"), 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\n');
    const pending = await gatherFacts(new HostPaths(sb.root));
    assert.deepEqual(pending.problems, [{ code: "E_AMDVI_DISABLED", message: "AMD-Vi is present (ACPI IVRS, 4 unit(s)) but hw.vmm.amdvi.enable is 0: loader.conf already sets hw.vmm.amdvi.enable=1: reboot the host" }]);
    const on = await bootWith(sb, 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\n');
    assert.deepEqual([on.iommu.enabled, on.passthru_ready, on.problems], [true, true, []]);
  });

  test("no-iommu: not ready, no DMAR", async () => {
    const f = await bootWith(box("no-iommu"), 'vmm_load="YES"\n');
    assert.equal(f.passthru_ready, false);
    assert.equal(f.nested_paging.ok, true);
    assert.deepEqual(codes(f), ["E_NO_IOMMU"]);
    assert.match(f.problems[0]!.message, /no DMAR ACPI table/);
  });

  test("no-ept: not ready, no EPT, vmm.ko cannot load", async () => {
    const f = await bootWith(box("no-ept"), 'vmm_load="YES"\n');
    assert.deepEqual([f.nested_paging.ok, f.vmm.loaded, f.passthru_ready], [false, false, false]);
    assert.deepEqual(codes(f), ["E_NO_NESTED_PAGING", "E_NO_IOMMU"]);
    assert.match(f.problems[0]!.message, /no EPT \(dmesg\.boot VT-x: HLT,PAUSE\)/);
  });

  test("verbose-boot: dmesg.boot's boot_verbose VT-x block (the Basic word in its Exit/Entry lines) reads as EPT and UG, before and after vmm loads", async () => {
    const sb = box("verbose-boot");
    const cold = await gatherFacts(new HostPaths(sb.root));
    assert.deepEqual([cold.nested_paging.ok, cold.nested_paging.kind, cold.nested_paging.unrestricted_guest], [true, "ept", true]);
    assert.deepEqual(codes(cold), ["E_VMM_NOT_LOADED"], "no false E_NO_NESTED_PAGING");
    assert.ok(cold.nested_paging.evidence.some((e) => e.source === "/var/run/dmesg.boot" && / \(read from the boot_verbose control registers\)$/.test(e.said) && /EPT,UG/.test(e.said)), JSON.stringify(cold.nested_paging.evidence));
    const f = await bootWith(sb, 'boot_verbose="YES"\nvmm_load="YES"\n');
    assert.deepEqual([f.nested_paging.ok, f.nested_paging.unrestricted_guest, f.passthru_ready], [true, true, true]);
    assert.deepEqual(f.problems, []);
    assert.ok(f.nested_paging.evidence.some((e) => /boot_verbose/.test(e.said)), "still a verbose boot after the reboot");
  });

  test("freebsd12: the old pciconf format reads the same", async () => {
    const f = await bootWith(box("freebsd12"), 'vmm_load="YES"\npptdevs="3/0/0"\n');
    assert.equal(f.passthru_ready, true);
    const gpu = f.pci.find((p) => p.device === "3/0/0")!;
    assert.deepEqual([gpu.driver, gpu.vendor_id, gpu.device_id], ["ppt", "0x10de", "0x1e07"]);
    assert.equal(f.os.release, "12.4-RELEASE");
  });
});

describe("issue 17 item 1: nested paging read the way real Intel hosts print it", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());
  const dmesg = (text: string): void => writeFileSync(join(sb.root, "var/run/dmesg.boot"), text);
  const head = "---<<BOOT>>---\nFreeBSD 14.3-RELEASE GENERIC amd64\nCPU: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz (2200.00-MHz K8-class CPU)\n  Origin=\"GenuineIntel\"  Id=0x50657  Family=0x6  Model=0x55  Stepping=7\n";

  test("a boot_verbose VT-x block is no false E_NO_NESTED_PAGING", async () => {
    dmesg(fixture("dmesg/constructed-vtx-verbose.dmesg.boot"));
    const f = await gatherFacts(new HostPaths(sb.root));
    assert.deepEqual([f.nested_paging.ok, f.nested_paging.unrestricted_guest], [true, true]);
    assert.deepEqual(codes(f), ["E_VMM_NOT_LOADED"]);
    assert.ok(f.nested_paging.evidence.some((e) => /boot_verbose/.test(e.said)));
  });

  test("with vmm loaded, hw.vmm.vmx.initialized=1 proves EPT even when dmesg.boot has no VT-x line", async () => {
    await bootWith(sb, 'vmm_load="YES"\n');
    dmesg(`${head}real memory  = 68719476736 (65536 MB)\n`);
    const f = await gatherFacts(new HostPaths(sb.root));
    assert.equal(f.nested_paging.ok, true);
    assert.deepEqual(f.problems, []);
  });

  test("(disabled in BIOS) is fatal only when vmm failed to initialise", async () => {
    dmesg(`${head}  VT-x: (disabled in BIOS) PAT,HLT,MTF,PAUSE,EPT,UG,VPID\n`);
    const loaded = await gatherFacts(new HostPaths(sb.root));
    assert.deepEqual([loaded.nested_paging.ok, codes(loaded)], [true, []], "vmm set the bit itself and loaded");
    await bootWith(sb, "");
    dmesg(`${head}  VT-x: (disabled in BIOS) PAT,HLT,MTF,PAUSE,EPT,UG,VPID\n`);
    const cold = await gatherFacts(new HostPaths(sb.root));
    assert.equal(cold.nested_paging.ok, true, "worth trying to load vmm");
    assert.deepEqual(codes(cold), ["W_VMX_DISABLED_IN_BIOS", "E_VMM_NOT_LOADED"]);
  });
});

describe("VT-x locked off by the firmware (the vmx-locked profile)", () => {
  const h = new AgentHost("vmx-locked");
  after(() => h.destroy());

  test("before vmm loads it is a warning; the failed load is refused as E_VMX_DISABLED, naming the BIOS setting", async () => {
    const before = await gatherFacts(h.paths);
    assert.deepEqual(codes(before), ["W_VMX_DISABLED_IN_BIOS", "E_VMM_NOT_LOADED"]);
    const r = await h.apply({ host: { vmm_load: true }, guests: [] });
    const vmm = r.refused.find((x) => x.what === "vmm.ko");
    assert.ok(vmm, JSON.stringify(r));
    assert.match(vmm.detail, /^kldload vmm failed: .*; E_VMX_DISABLED: VT-x is disabled in the firmware \(dmesg\.boot: "\(disabled in BIOS\)"\) and locked, so vmm cannot turn it on; enable Intel Virtualization Technology in the BIOS setup$/);
    assert.equal(h.machine().vmmLoaded, false);
  });

  test("boot_verbose prints the prefix before the multi-line block; it reads the same", async () => {
    await bootWith(h, 'boot_verbose="YES"\n');
    const f = await gatherFacts(h.paths);
    assert.ok(f.nested_paging.evidence.some((e) => /^VT-x: \(disabled in BIOS\) .*boot_verbose/.test(e.said)), JSON.stringify(f.nested_paging.evidence));
    assert.deepEqual(codes(f), ["W_VMX_DISABLED_IN_BIOS", "E_VMM_NOT_LOADED"]);
  });
});

describe("issue 17 item 9: the legacy amdvi tunable in loader.conf", () => {
  const sb = new TestSandbox("amd-vi");
  after(() => sb.destroy());

  test("a legacy hw.vmm.amdvi_enable=0 beside hw.vmm.amdvi.enable=1 is named as what keeps AMD-Vi off", async () => {
    const f = await bootWith(sb, 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\nhw.vmm.amdvi_enable="0"\n');
    assert.equal(f.iommu.enabled, false);
    assert.match(f.problems.find((p) => p.code === "E_AMDVI_DISABLED")!.message, /legacy hw\.vmm\.amdvi_enable="0", which wins/);
  });
});
