import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSysctl, parseSysctlUnknown, parseSysctlValue, sysctlInt } from "../../../agent/parse/sysctl.js";
import { fixture } from "../../support/helpers.js";

test("real sysctl output: names and values, values with spaces", () => {
  const m = parseSysctl(fixture("sysctl/amd-epyc-15.0-net-inet-tcp.txt"));
  assert.equal(m.size, 12);
  assert.equal(m.get("net.inet.tcp.states"), "0 19 0 0 2 0 0 0 0 0 0");
  assert.equal(sysctlInt(m.get("net.inet.tcp.keepidle")), 7200000);
});

test("hw.vmm names, and a multi-line value kept together", () => {
  const m = parseSysctl(fixture("sysctl/constructed-hw-vmm-intel.txt"));
  assert.equal(m.get("hw.vmm.vmx.initialized"), "1");
  assert.equal(sysctlInt(m.get("hw.vmm.svm.features")), 0xffffffff);
  assert.equal(sysctlInt(m.get("vm.max_user_wired")), 4048364);
  assert.equal(m.get("kern.msgbuf"), "\n<6>ppt0 mem 0xf8000000-0xf8ffffff irq 16 at device 0.0 on pci3\n<6>ppt1: mem 0xf9000000 irq 17 at device 0.1 on pci3");
  assert.equal(m.get("hw.model"), "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz");
});

test("with the requested names, a continuation line that looks like a pair stays in its value", () => {
  const text = "kern.msgbuf: first\nppt1: mem 0xf9000000\nhw.pagesize: 4096\n";
  assert.equal(parseSysctl(text).get("ppt1"), "mem 0xf9000000");
  const m = parseSysctl(text, ["kern.msgbuf", "hw.pagesize"]);
  assert.equal(m.get("kern.msgbuf"), "first\nppt1: mem 0xf9000000");
  assert.equal(m.get("hw.pagesize"), "4096");
});

test("-n values, unknown oids, integers", () => {
  assert.equal(parseSysctlValue("1\n"), "1");
  assert.deepEqual(parseSysctlUnknown(fixture("sysctl/unknown-oid.stderr.txt")), ["hw.vmm.vmx.initialized", "hw.vmm.iommu.enable"]);
  assert.equal(sysctlInt("abc"), undefined);
  assert.equal(sysctlInt(undefined), undefined);
  assert.equal(sysctlInt("-1"), -1);
  assert.throws(() => parseSysctl("garbage without a name\n"), /unexpected line/);
});
