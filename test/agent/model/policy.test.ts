import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDocumentData } from "../../../agent/model/validate.js";
import { checkPolicy, decodePolicy, DEFAULT_POLICY, policyDocument, type Policy, type PolicyContext } from "../../../agent/model/policy.js";

import { FW } from "../../support/sandbox.js";
const state = (doc: unknown) => {
  const r = checkDocumentData(doc);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.state;
};
const ctx: PolicyContext = {
  protected: [{ device: "0/31/6", name: "em0", why: "it carries the agent's management connection" }, { device: "0/17/5", name: "ahci0", why: "it is the storage controller of the root file system" }],
  hardware: new Map([["3/0/0", { vendor: "10de", device: "1e07" }], ["4/0/0", { vendor: "8086", device: "1521" }], ["0/31/6", { vendor: "8086", device: "15b7" }], ["0/17/5", { vendor: "8086", device: "a1d2" }]]),
  physicalMemory: 64 * 2 ** 30,
};
const policy = (data: unknown): Policy => {
  const r = decodePolicy(data);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.policy;
};

test("the defaults: zvols, /vm, the edk2 firmware directory, tap/vmnet, any unprotected uplink, 64 guests, 80% wired, no upgrades", () => {
  assert.deepEqual(policyDocument(policy(undefined)), {
    disk_prefixes: ["/dev/zvol/", "/vm/"], zvol_parents: [], bootrom_prefixes: ["/usr/local/share/uefi-firmware/", "/vm/"], taps: ["tap*", "vmnet*"], switch_uplinks: null,
    framebuffer_listen: [], framebuffer_ports: [5900, 5999], ppt: { allow: [], deny: [], take_protected: [] }, max_guests: 64, max_wired_percent: 80, agent_upgrade: false,
  });
  assert.deepEqual(checkPolicy(state({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/g" }], nics: [{ tap: "tap3" }] }] }), DEFAULT_POLICY, ctx), []);
});

test("a framebuffer listens off loopback only where framebuffer_listen names the address", () => {
  const fb = (listen: string) => state({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: FW, framebuffer: { listen } }] });
  for (const lo of ["127.0.0.1", "127.8.9.10", "::1", "0:0:0:0:0:0:0:1"]) assert.deepEqual(checkPolicy(fb(lo), DEFAULT_POLICY, ctx), [], lo);
  for (const off of ["0.0.0.0", "10.0.0.5", "::", "fe80::1", "::ffff:127.0.0.1"]) {
    const p = checkPolicy(fb(off), DEFAULT_POLICY, ctx);
    assert.deepEqual(p.map((x) => x.path), ["guests[0].framebuffer.listen"], off);
    assert.match(p[0]!.message, /is not on loopback.*policy framebuffer_listen: \(none\) in \/usr\/local\/etc\/bhyve-agent\.conf/);
  }
  assert.deepEqual(checkPolicy(fb("10.0.0.5"), policy({ framebuffer_listen: ["10.0.0.5"] }), ctx), []);
  const port = (p: number) => state({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: FW, framebuffer: { port: p } }] });
  assert.deepEqual(checkPolicy(port(5999), DEFAULT_POLICY, ctx), []);
  const out = checkPolicy(port(5432), DEFAULT_POLICY, ctx);
  assert.deepEqual(out.map((x) => x.path), ["guests[0].framebuffer.port"]);
  assert.match(out[0]!.message, /5432 is outside the ports this host gives framebuffers \(policy framebuffer_ports: 5900-5999/);
  assert.deepEqual(checkPolicy(port(5432), policy({ framebuffer_ports: [5400, 5499] }), ctx), []);
  for (const bad of [[5999, 5900], [80, 90], [5900], "5900-5999"]) assert.equal(decodePolicy({ framebuffer_ports: bad }).ok, false, JSON.stringify(bad));
  const bad = decodePolicy({ framebuffer_listen: ["vnc.example"] });
  assert.deepEqual(!bad.ok && bad.problems.map((x) => x.path), ["policy.framebuffer_listen[0]"]);
});

test("a bad policy file is refused with the key at fault", () => {
  const r = decodePolicy({ disk_prefixes: ["relative/"], taps: "tap*", ppt: { allow: ["nonsense"], take_protected: ["8086:15b7"] }, max_wired_percent: 120, extra: 1 });
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.problems.map((p) => p.path), ["policy.extra", "policy.disk_prefixes[0]", "policy.taps", "policy.ppt.allow[0]", "policy.ppt.take_protected[0]", "policy.max_wired_percent"]);
});

test("paths outside the prefixes (a sibling directory with the same start too) are refused naming the rule and the value", () => {
  const s = state({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: "/boot/kernel/fw.fd", disks: [{ path: "/dev/ada0" }, { path: "/vmstore/a.img" }, { path: "/vm/ok.img" }], passthru: [], nics: [{ tap: "em0" }] }] });
  const p = checkPolicy(s, DEFAULT_POLICY, ctx);
  assert.deepEqual(p.map((x) => x.path), ["guests[0].disks[0].path", "guests[0].disks[1].path", "guests[0].bootrom", "guests[0].nics[0].tap"]);
  assert.match(p[0]!.message, /^\/dev\/ada0 is outside the allowed disk paths \(policy disk_prefixes: \/dev\/zvol\/, \/vm\/ in \/usr\/local\/etc\/bhyve-agent\.conf\)$/);
  assert.match(p[3]!.message, /em0 is not an allowed guest interface \(policy taps: tap\*, vmnet\*/);
});

test("protected devices are refused with why and how to override; take_protected by address releases them", () => {
  const s = state({ ppt: [{ device: "0/31/6" }, { device: "pci0:0:17:5" }, { device: "3/0/0" }] });
  const p = checkPolicy(s, DEFAULT_POLICY, ctx);
  assert.deepEqual(p.map((x) => x.path), ["ppt[0].device", "ppt[1].device"]);
  assert.equal(p[0]!.message, '0/31/6 (em0) is protected: it carries the agent\'s management connection. Taking it from the host could cut it off or stop it; to reserve it anyway, add "0/31/6" to policy ppt.take_protected in /usr/local/etc/bhyve-agent.conf');
  assert.deepEqual(checkPolicy(s, policy({ ppt: { take_protected: ["0/31/6", "pci0:0:17:5"] } }), ctx), []);
});

test("ppt allow and deny by address or vendor:device", () => {
  const s = state({ ppt: [{ device: "3/0/0" }, { device: "4/0/0" }] });
  const deny = checkPolicy(s, policy({ ppt: { deny: ["8086:*"] } }), ctx);
  assert.deepEqual(deny.map((x) => [x.path, x.message]), [["ppt[1].device", "4/0/0 (8086:1521) may not be reserved on this host (policy ppt.deny: 8086:* in /usr/local/etc/bhyve-agent.conf)"]]);
  const allow = checkPolicy(s, policy({ ppt: { allow: ["10de:1e07"] } }), ctx);
  assert.deepEqual(allow.map((x) => x.path), ["ppt[1].device"]);
  assert.match(allow[0]!.message, /is not among the devices this host allows to reserve \(policy ppt\.allow: 10de:1e07/);
  assert.deepEqual(checkPolicy(s, policy({ ppt: { allow: ["10de:*", "4/0/0"] } }), ctx), []);
});

test("guest count and wired memory limits", () => {
  const guests = Array.from({ length: 3 }, (_, i) => ({ name: `g${i}`, cpus: 1, memory: "20G", bootrom: FW, wired: true }));
  const s = state({ guests });
  const p = checkPolicy(s, policy({ max_guests: 2, max_wired_percent: 50 }), ctx);
  assert.deepEqual(p.map((x) => [x.path, x.message]), [
    ["guests", "3 guests are more than this host allows (policy max_guests: 2 in /usr/local/etc/bhyve-agent.conf)"],
    ["guests", "the guests wire 60.0 GiB, more than 50% of this host's 64.0 GiB of memory (32.0 GiB; policy max_wired_percent: 50 in /usr/local/etc/bhyve-agent.conf)"],
  ]);
  assert.deepEqual(checkPolicy(state({ guests: guests.map((g) => ({ ...g, wired: false })) }), policy({ max_wired_percent: 10 }), ctx), [], "memory that is not wired does not count");
});

test("fail closed: an unmapped dependency refuses its PCI class only, naming the device, the class, why and the override", () => {
  const hw: PolicyContext["hardware"] = new Map([
    ["3/0/0", { vendor: "10de", device: "1e07", classCode: 0x030000, name: "vgapci0" }],
    ["4/0/0", { vendor: "8086", device: "1521", classCode: 0x020000, name: "igb0" }],
    ["2/0/0", { vendor: "8086", device: "2723", classCode: 0x028000, name: "iwm0" }],
    ["5/0/0", { vendor: "144d", device: "a808", classCode: 0x010802 }],
  ]);
  const unmapped = [{ baseClass: 0x02, className: "network", subject: "wg0", why: "wg0 carries the default route and could not be mapped to a PCI function" }];
  const c: PolicyContext = { protected: [], unmapped, hardware: hw, physicalMemory: null };
  const doc = state({ ppt: [{ device: "4/0/0" }, { device: "3/0/0" }, { device: "2/0/0" }, { device: "5/0/0" }, { device: "6/0/0" }] });
  const p = checkPolicy(doc, DEFAULT_POLICY, c);
  assert.deepEqual(p.map((x) => x.path), ["ppt[0].device", "ppt[2].device", "ppt[4].device"], "the Ethernet and Wi-Fi controllers and a device of unknown class; not the GPU, not the NVMe drive");
  assert.equal(p[0]!.message, '4/0/0 (igb0) is a network controller (PCI class 0x02), and this host cannot tell which network controller it depends on: wg0 carries the default route and could not be mapped to a PCI function. Until it can, no such device is taken from the host, as it could be that one; to reserve 4/0/0 anyway, add "4/0/0" to policy ppt.take_protected in /usr/local/etc/bhyve-agent.conf');
  assert.match(p[2]!.message, /^6\/0\/0 is a device of unknown class, and this host cannot tell which network controller/);
  assert.deepEqual(checkPolicy(doc, policy({ ppt: { take_protected: ["4/0/0", "2/0/0", "6/0/0"] } }), c), [], "take_protected names each one");
  const storage = checkPolicy(doc, DEFAULT_POLICY, { ...c, unmapped: [{ baseClass: 0x01, className: "storage", subject: "ada0", why: "the root disk ada0 has no controller" }] });
  assert.deepEqual(storage.map((x) => [x.path, /storage controller \(PCI class 0x01\)|unknown class/.test(x.message)]), [["ppt[3].device", true], ["ppt[4].device", true]]);
});

test("switch uplinks: a protected NIC only when switch_uplinks names it exactly; when set, only the listed ones; a switch NIC's tap is the agent's", () => {
  const prot = { ...ctx, protected: [{ device: "4/0/0", name: "igb0", why: "it carries the agent's SSH session" }] };
  const doc = (uplink: string) => state({ switches: [{ name: "lan", uplink }], guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: FW, nics: [{ switch: "lan" }] }] });
  assert.deepEqual(checkPolicy(doc("igb1"), DEFAULT_POLICY, prot), []);
  const mgmt = checkPolicy(doc("igb0"), DEFAULT_POLICY, prot);
  assert.equal(mgmt.length, 1);
  assert.equal(mgmt[0]!.path, "switches[0].uplink");
  assert.match(mgmt[0]!.message, /^igb0 is protected: it carries the agent's SSH session\. .*name "igb0" in policy switch_uplinks/);
  assert.deepEqual(checkPolicy(doc("igb0"), policy({ switch_uplinks: ["igb*"] }), prot).map((p) => p.path), ["switches[0].uplink"], "a glob does not take a protected NIC");
  assert.deepEqual(checkPolicy(doc("igb0"), policy({ switch_uplinks: ["igb0"] }), prot), []);
  const listed = checkPolicy(doc("ix0"), policy({ switch_uplinks: ["igb*"] }), prot);
  assert.match(listed[0]!.message, /^ix0 is not an allowed switch uplink \(policy switch_uplinks: igb\* in /);
  assert.deepEqual(checkPolicy(doc("igb1"), policy({ taps: [] }), prot), [], "the taps rule is for taps an operator names");
  assert.equal(decodePolicy({ switch_uplinks: ["igb 1"] }).ok, false);
});

test("zvol_parents: managed volumes and their clone sources only under the parents named (none by default)", () => {
  const state = (disk: Record<string, unknown>) => {
    const r = checkDocumentData({ guests: [{ name: "a", cpus: 1, memory: "1G", disks: [disk] }] });
    assert.ok(r.ok);
    return r.state;
  };
  const ctx: PolicyContext = { protected: [], unmapped: [], hardware: new Map(), physicalMemory: 64 * 2 ** 30 };
  const vol = state({ zvol: "zroot/vm/a/disk0", size: "20G" });
  assert.deepEqual(checkPolicy(vol, DEFAULT_POLICY, ctx).map((p) => p.path), ["guests[0].disks[0].zvol"]);
  assert.match(checkPolicy(vol, DEFAULT_POLICY, ctx)[0]!.message, /zroot\/vm\/a\/disk0 is outside the datasets the agent may create volumes in \(policy zvol_parents: \(none\)/);
  const allowed = { ...DEFAULT_POLICY, zvolParents: ["zroot/vm"] };
  assert.deepEqual(checkPolicy(vol, allowed, ctx), []);
  assert.equal(checkPolicy(state({ zvol: "zroot/vmx/disk0", size: "20G" }), allowed, ctx).length, 1, "a parent is a whole component");
  const cl = state({ zvol: "zroot/vm/a/disk0", clone: "zroot/images/i@base" });
  assert.deepEqual(checkPolicy(cl, allowed, ctx).map((p) => p.path), ["guests[0].disks[0].clone"]);
  assert.deepEqual(checkPolicy(cl, { ...allowed, zvolParents: ["zroot/vm", "zroot/images"] }, ctx), []);
  assert.deepEqual(checkPolicy(state({ file: "/srv/a.img", size: "1G" }), allowed, ctx).map((p) => p.path), ["guests[0].disks[0].file"]);
  const bad = decodePolicy({ zvol_parents: ["zroot/vm", "/dev/zvol/zroot"] });
  assert.equal(bad.ok, false);
});
