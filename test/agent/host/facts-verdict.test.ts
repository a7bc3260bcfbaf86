/**
 * The facts' verdicts from what the tools said (factsFrom, pure): real captures where there are
 * some (dmesg.boot and pciconf -lv of real hosts), with vmm's sysctl values as the kernel prints them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { factsFrom, type FactsInput } from "../../../agent/host/facts.js";
import { fixture } from "../../support/helpers.js";

const ok = (stdout: string) => ({ status: 0, signal: null, stdout, stderr: "" });
const sysctl = (values: Record<string, string | number>) => ok(Object.entries(values).map(([k, v]) => `${k}: ${v}\n`).join(""));

const intel = (over: Partial<FactsInput> = {}): FactsInput => ({
  root: "/",
  kldstat: ok("Id Refs Address Size Name\n 5 1 0xffffffff82a00000 2a7c58 vmm.ko\n"),
  sysctl: sysctl({
    "kern.osrelease": "13.0-CURRENT", "hw.model": "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz", "hw.ncpu": 32, "hw.vmm.maxcpu": 32, "hw.pagesize": 4096,
    "hw.physmem": 137_438_953_472, "vm.max_user_wired": 8_000_000, "vm.stats.vm.v_user_wire_count": 0,
    "hw.vmm.vmx.initialized": 1, "hw.vmm.vmx.cap.unrestricted_guest": 1, "hw.vmm.iommu.enable": 1, "hw.vmm.iommu.initialized": 1,
  }),
  pciconf: ok(fixture("pciconf/hp-dl360p-gen8-13.0-current.lv.txt")),
  acpidump: ok(fixture("acpidump/constructed-intel-vtd.t.txt")),
  dmesgBoot: fixture("dmesg/hp-dl360p-gen8-13.0-current.dmesg.boot"),
  loaderConf: 'vmm_load="YES"\n',
  cpuid: { notRead: "not used: the agent root is not /, and CPUID describes the CPU this process runs on" },
  nativeProbe: { available: true },
  ...over,
});

test("an Intel host with VT-d and vmm loaded (an HP DL360p Gen8's captures): ready for passthrough", () => {
  const f = factsFrom(intel());
  assert.equal(f.cpu.vendor, "intel");
  assert.deepEqual([f.nested_paging.ok, f.nested_paging.kind, f.nested_paging.unrestricted_guest], [true, "ept", true]);
  assert.deepEqual([f.iommu.kind, f.iommu.enabled, f.vmm.loaded], ["vt-d", true, true]);
  assert.equal(f.memory.max_user_wired, 8_000_000 * 4096);
  assert.ok(f.pci.length > 10, "the PCI functions of the capture");
  assert.equal(f.pci[0]!.device, "0/0/0");
  assert.equal(f.passthru_ready, true);
  assert.deepEqual(f.problems, []);
});

test("the same host before vmm.ko is loaded: nested paging from dmesg.boot alone, and the step to take", () => {
  const f = factsFrom(intel({ kldstat: { status: 1, signal: null, stdout: "", stderr: "" } }));
  assert.equal(f.nested_paging.ok, true);
  assert.equal(f.passthru_ready, false);
  assert.deepEqual(f.problems.map((p) => p.code), ["E_VMM_NOT_LOADED"]);
});

test("an AMD host (an EPYC 7502P's dmesg.boot) whose AMD-Vi waits for the reboot that loader.conf asks for", () => {
  const f = factsFrom(intel({
    sysctl: sysctl({ "kern.osrelease": "15.0-CURRENT", "hw.ncpu": 64, "hw.pagesize": 4096, "hw.vmm.amdvi.enable": 0, "hw.vmm.amdvi.count": 1, "hw.vmm.iommu.enable": 1 }),
    acpidump: ok(fixture("acpidump/constructed-amd-vi.t.txt")),
    dmesgBoot: fixture("dmesg/amd-epyc-7502p-15.0-current.dmesg.boot"),
    loaderConf: 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\n',
  }));
  assert.equal(f.cpu.vendor, "amd");
  assert.deepEqual([f.nested_paging.ok, f.nested_paging.kind], [true, "npt"]);
  assert.deepEqual([f.iommu.kind, f.iommu.enabled], ["amd-vi", false]);
  const amdvi = f.problems.find((p) => p.code === "E_AMDVI_DISABLED");
  assert.match(amdvi?.message ?? "", /loader\.conf already sets hw\.vmm\.amdvi\.enable=1: reboot the host/);
});
