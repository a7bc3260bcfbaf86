import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadNativeProbe, monitorExecutable } from "../../agent/host/native.js";
import { decodeCpuid } from "../../agent/parse/cpuid.js";
import { prerequisite } from "../support/helpers.js";

const native = loadNativeProbe();

test("npm install built the addon and the monitor", () => {
  assert.ok(native.available, native.available ? "" : native.reason);
  assert.ok(monitorExecutable(), "native/build/Release/bhyve-monitor");
});

const CPUID_TEST = "cpuid agrees with what the kernel says about this CPU";
test(CPUID_TEST, prerequisite(CPUID_TEST, process.platform === "linux" ? undefined : "compares with Linux's /proc/cpuinfo"), () => {
  assert.ok(native.available);
  const { probe } = native;
  assert.equal(probe.cpuidAvailable, process.arch === "x64" || process.arch === "ia32");
  if (!probe.cpuidAvailable) {
    assert.equal(probe.cpuid(0), null, "not available means null, never a crash");
    return;
  }
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(cpuinfo)![1];
  const flags = new Set(/^flags\s*:\s*(.*)$/m.exec(cpuinfo)![1]!.split(" "));
  const view = decodeCpuid((leaf) => probe.cpuid(leaf));
  assert.ok(view);
  assert.equal(view.vendorString, vendor);
  assert.equal(view.hypervisor, flags.has("hypervisor"));
  assert.equal(view.vmx, flags.has("vmx"));
  assert.equal(view.svm, flags.has("svm"));
  if (view.svm) {
    assert.equal(view.amdNestedPaging, flags.has("npt"));
    assert.equal(view.amdNrip, flags.has("nrip_save"));
  } else {
    assert.equal(view.amdNestedPaging, null);
  }
  const max = probe.cpuid(0)!.eax;
  assert.equal(probe.cpuid(max + 1), null, "a leaf above the highest is refused, not answered with other data");
  assert.throws(() => (probe.cpuid as (x: unknown) => unknown)("1"), /takes numbers/);
});

test("decodeCpuid on known register values: an Intel host with VMX, an AMD host with SVM, NP and NRIP", () => {
  const intel = new Map<number, { eax: number; ebx: number; ecx: number; edx: number }>([
    [0, { eax: 0x16, ebx: 0x756e6547, edx: 0x49656e69, ecx: 0x6c65746e }],
    [1, { eax: 0x50657, ebx: 0, ecx: 0x7ffefbff, edx: 0xbfebfbff }],
    [0x80000001, { eax: 0, ebx: 0, ecx: 0x121, edx: 0x2c100800 }],
  ]);
  const i = decodeCpuid((l) => intel.get(l) ?? null)!;
  assert.deepEqual(i, { vendorString: "GenuineIntel", vendor: "intel", vmx: true, svm: false, hypervisor: false, amdNestedPaging: null, amdNrip: null });
  const amd = new Map<number, { eax: number; ebx: number; ecx: number; edx: number }>([
    [0, { eax: 0x10, ebx: 0x68747541, edx: 0x69746e65, ecx: 0x444d4163 }],
    [1, { eax: 0x830f10, ebx: 0, ecx: 0x7ed8320b | 0x80000000, edx: 0x178bfbff }],
    [0x80000001, { eax: 0, ebx: 0, ecx: 0x75c237ff, edx: 0x2e500800 }],
    [0x8000000a, { eax: 1, ebx: 0x8000, ecx: 0, edx: 0x0001bcff }],
  ]);
  const a = decodeCpuid((l) => amd.get(l) ?? null)!;
  assert.deepEqual(a, { vendorString: "AuthenticAMD", vendor: "amd", vmx: false, svm: true, hypervisor: true, amdNestedPaging: true, amdNrip: true });
  assert.equal(decodeCpuid(() => null), null);
});

test("flock: exclusive excludes, shared shares, non-blocking says so instead of waiting", () => {
  assert.ok(native.available);
  const { probe } = native;
  const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-flock-"));
  const path = join(dir, "lock");
  // flock(2) locks belong to open file descriptions: two opens in one process contend like two processes.
  const a = openSync(path, "w");
  const b = openSync(path, "r");
  try {
    assert.equal(probe.flock(a, "exclusive", true), true);
    assert.equal(probe.flock(b, "exclusive", true), false);
    assert.equal(probe.flock(b, "shared", true), false);
    assert.equal(probe.flock(a, "unlock"), true);
    assert.equal(probe.flock(a, "shared", true), true);
    assert.equal(probe.flock(b, "shared", true), true);
    assert.equal(probe.flock(b, "exclusive", true), false, "upgrade blocked by the other shared holder");
    assert.equal(probe.flock(a, "unlock"), true);
    assert.equal(probe.flock(b, "exclusive", false), true, "blocking mode gets it once free");
    assert.throws(() => probe.flock(9999, "exclusive", true), (e: Error & { errno?: number }) => /^flock: Bad file descriptor/.test(e.message) && e.errno === 9);
    assert.throws(() => probe.flock(a, "sideways" as "shared"), /mode must be/);
  } finally {
    closeSync(a);
    closeSync(b);
    rmSync(dir, { recursive: true, force: true });
  }
});
