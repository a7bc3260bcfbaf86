import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDmesgBoot } from "../../../agent/parse/dmesg-boot.js";
import { fixture } from "../../support/helpers.js";

test("Intel Xeon (FreeBSD 13): VT-x features with EPT and UG", () => {
  const d = parseDmesgBoot(fixture("dmesg/hp-dl360p-gen8-13.0-current.dmesg.boot"));
  assert.equal(d.origin, "GenuineIntel");
  assert.equal(d.cpuModel, "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz");
  assert.equal(d.kernel, "FreeBSD 13.0-CURRENT #0 r356081M: Sun Jan 19 17:13:28 CET 2020");
  assert.deepEqual(d.vtx, { features: ["PAT", "HLT", "MTF", "PAUSE", "EPT", "UG", "VPID", "VID", "PostIntr"], disabledInBios: false });
  assert.equal(d.svm, undefined);
  assert.equal(d.realMemory, 68719476736);
});

test("Intel Atom: VT-x without posted interrupts", () => {
  const d = parseDmesgBoot(fixture("dmesg/atom-c2758-vtx.dmesg.boot"));
  assert.deepEqual(d.vtx!.features, ["PAT", "HLT", "MTF", "PAUSE", "EPT", "UG", "VPID"]);
  assert.equal(d.realMemory, 8589934592);
});

test("AMD EPYC (FreeBSD 15): SVM with NP, NRIP and the ASID count; the first CPU block wins", () => {
  const d = parseDmesgBoot(fixture("dmesg/amd-epyc-7502p-15.0-current.dmesg.boot"));
  assert.equal(d.origin, "AuthenticAMD");
  assert.equal(d.cpuModel, "AMD EPYC 7502P 32-Core Processor");
  assert.deepEqual(d.svm, { features: ["NP", "NRIP", "VClean", "AFlush", "DAssist", "NAsids=32768"], disabledInBios: false, asids: 32768 });
  assert.equal(d.vtx, undefined);
  assert.match(d.kernel!, /^FreeBSD 15\.0-CURRENT #8/);
});

test("(disabled in BIOS) is seen", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-vtx-disabled-in-bios.dmesg.boot"));
  assert.equal(d.vtx!.disabledInBios, true);
  assert.ok(d.vtx!.features.includes("EPT"));
});

test("SVM without nested paging, and the AMD-Vi hint from vmm", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-svm-without-np.dmesg.boot"));
  assert.ok(!d.svm!.features.includes("NP"));
  assert.equal(d.amdviDevicesFound, 2);
});

test("only the boot after the last ---<<BOOT>>--- marker counts", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-two-boots.dmesg.boot"));
  assert.equal(d.svm!.disabledInBios, false);
  assert.match(d.kernel!, /^FreeBSD 14\.3-RELEASE/);
});

test("boot_verbose VT-x block: the control registers are read into the one-line tokens", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-vtx-verbose.dmesg.boot"));
  assert.deepEqual(d.vtx, { features: ["PAT", "HLT", "MTF", "PAUSE", "EPT", "UG", "VPID", "VID", "PostIntr"], disabledInBios: false, verbose: true });
  assert.equal(d.realMemory, 68719476736, "the lines after the block are still read");
});

test("boot_verbose VT-x block without secondary controls: no EPT, and the BIOS prefix is kept", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-vtx-verbose-no-ept.dmesg.boot"));
  assert.deepEqual(d.vtx, { features: ["PAT", "HLT", "PAUSE"], disabledInBios: true, verbose: true });
});

test("boot_verbose SVM block: NRIPS reads as NRIP, the ASID count from the Revision line", () => {
  const d = parseDmesgBoot(fixture("dmesg/constructed-svm-verbose.dmesg.boot"));
  assert.deepEqual(d.svm, { features: ["NP", "NRIP", "VClean", "AFlush", "DAssist", "NAsids=32768"], disabledInBios: false, verbose: true, asids: 32768 });
});
