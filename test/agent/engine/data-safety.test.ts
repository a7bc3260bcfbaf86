/**
 * The policy gate on the host's own terms: guest files resolved as the host sees them, one file
 * never two disks, swap never a disk, and a device class refused when the host cannot tell which
 * device of that class it depends on. Every refusal is E_POLICY, names the field, changes nothing.
 */
import assert from "node:assert/strict";
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setSandboxNetwork } from "../../../sandbox/host.js";
import { AgentHost, FAST_CONFIG, FW, agentHosts } from "../../support/agent-host.js";

type Refusal = Error & { code?: string; problems?: Array<{ path: string; message: string }> };

/** Applies `doc` and expects E_POLICY with exactly these problem paths; returns the problems by path. Nothing may change. */
async function refused(h: AgentHost, doc: unknown, paths: string[]): Promise<Map<string, string>> {
  const loader = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
  let caught: Refusal | null = null;
  await h.apply(doc).catch((e: Refusal) => (caught = e));
  const e = caught as Refusal | null;
  assert.ok(e, "refused");
  assert.equal(e.code, "E_POLICY", e.message);
  assert.deepEqual(e.problems!.map((p) => p.path), paths, e.message);
  assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), loader, "loader.conf untouched");
  assert.equal(existsSync(join(h.root, "var/db/bhyve-agent/guests")), false, "no guest was made");
  return new Map(e.problems!.map((p) => [p.path, p.message]));
}

const guest = (name: string, disks: Array<{ path: string; type?: string }>) => ({ name, cpus: 1, memory: "256M", bootrom: FW, disks });
const policy = (h: AgentHost, yaml: string) => writeFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), `${FAST_CONFIG}policy:\n${yaml}`);

describe("guest files as the host sees them", () => {
  const host = agentHosts((h) => mkdirSync(join(h.root, "vm"), { recursive: true }));

  test("a link out of the allowed prefixes is refused by the prefix rule, an absolute or climbing target staying inside the root", async () => {
    const h = host("intel-vtd");
    symlinkSync("/dev/ada0", join(h.root, "vm/evil.img"));
    symlinkSync("../../../../../../../../etc/master.passwd", join(h.root, "vm/up.img"));
    symlinkSync("/boot/loader.conf", join(h.root, "vm/fw.fd"));
    symlinkSync("../etc/ssh/ssh_host_ed25519_key", join(h.root, "vm/gpu.rom"));
    const withRom = { ...guest("h", []), bootrom: "/vm/fw.fd", passthru: [{ device: "4/0/1", slot: 7, function: 0, rom: "/vm/gpu.rom" }] };
    const p = await refused(h, { ppt: [{ device: "4/0/1", bind: "live" }], guests: [guest("g", [{ path: "/vm/evil.img" }, { path: "/vm/up.img" }]), withRom] },
      ["guests[0].disks[0].path", "guests[0].disks[1].path", "guests[1].bootrom", "guests[1].passthru[0].rom"]);
    assert.equal(p.get("guests[0].disks[0].path"), "/vm/evil.img leads to /dev/ada0 on this host (through a symbolic link), which is outside the allowed disk paths (policy disk_prefixes: /dev/zvol/, /vm/ in /usr/local/etc/bhyve-agent.conf)");
    assert.match(p.get("guests[0].disks[1].path")!, /^\/vm\/up\.img leads to \/etc\/master\.passwd on this host/, "`..` stops at the root, as in a chroot");
    assert.match(p.get("guests[1].bootrom")!, /^\/vm\/fw\.fd leads to \/boot\/loader\.conf on this host \(through a symbolic link\), which is outside the allowed firmware paths \(policy bootrom_prefixes/);
    assert.match(p.get("guests[1].passthru[0].rom")!, /^\/vm\/gpu\.rom leads to \/etc\/ssh\/ssh_host_ed25519_key on this host \(through a symbolic link\), which is outside the allowed firmware paths/);
  });

  test("a link that stays inside the prefixes is fine, and the guest runs on the file it leads to", async () => {
    const h = host("intel-vtd");
    symlinkSync("../dev/zvol/zroot/vm/disk0", join(h.root, "vm/ok.img"));
    const r = await h.apply({ guests: [guest("ok", [{ path: "/vm/ok.img" }])] });
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.changed.map((c) => c.what), ["loader.conf", "vmm.ko", "guest ok"]);
  });

  test("a loop and a link to nothing do not resolve", async () => {
    const h = host("intel-vtd");
    symlinkSync("/vm/loop-b.img", join(h.root, "vm/loop-a.img"));
    symlinkSync("loop-a.img", join(h.root, "vm/loop-b.img"));
    symlinkSync("/vm/images/gone.img", join(h.root, "vm/dangling.img"));
    const p = await refused(h, { guests: [guest("g", [{ path: "/vm/loop-a.img" }, { path: "/vm/dangling.img" }])] }, ["guests[0].disks[0].path", "guests[0].disks[1].path"]);
    assert.match(p.get("guests[0].disks[0].path")!, /^\/vm\/loop-a\.img does not resolve on this host: more than 32 symbolic links \(a loop: \/vm\/loop-a\.img -> \/vm\/loop-b\.img/);
    assert.equal(p.get("guests[0].disks[1].path"), "/vm/dangling.img does not resolve on this host: the symbolic link /vm/dangling.img leads to /vm/images, which does not exist");
  });

  test("one file under two names is refused naming both fields: two guests, or one guest twice; a shared CD image is fine", async () => {
    const h = host("intel-vtd");
    symlinkSync("../dev/zvol/zroot/vm/disk1", join(h.root, "vm/alias.img"));
    writeFileSync(join(h.root, "vm/data.img"), "");
    linkSync(join(h.root, "vm/data.img"), join(h.root, "vm/data-hardlink.img"));
    const p = await refused(h, {
      guests: [guest("a", [{ path: "/dev/zvol/zroot/vm/disk1" }]), guest("b", [{ path: "/vm/alias.img" }]), guest("c", [{ path: "/vm/data.img" }, { path: "/vm/data-hardlink.img" }])],
    }, ["guests[1].disks[0].path", "guests[2].disks[1].path"]);
    assert.equal(p.get("guests[1].disks[0].path"), "/vm/alias.img is the same file as guests[0].disks[0].path (guest a's /dev/zvol/zroot/vm/disk1; both /dev/zvol/zroot/vm/disk1 on this host): two guest disks on one file or device would corrupt it; give each disk its own");
    assert.match(p.get("guests[2].disks[1].path")!, /^\/vm\/data-hardlink\.img is the same file as guests\[2\]\.disks\[0\]\.path \(this guest's \/vm\/data\.img; \/vm\/data\.img and \/vm\/data-hardlink\.img are one file on this host\)/);
    // The same path written twice is refused earlier, by validate (E_SPEC_INVALID), without looking at the host.
    writeFileSync(join(h.root, "vm/install.iso"), "");
    const ok = await h.apply({ guests: [guest("a", [{ path: "/dev/zvol/zroot/vm/disk1" }, { path: "/vm/install.iso", type: "ahci-cd" }]), guest("b", [{ path: "/dev/zvol/zroot/vm/disk2" }, { path: "/vm/install.iso", type: "ahci-cd" }])] });
    assert.deepEqual(ok.refused, []);
  });

  test("an active swap device is never a guest disk: by its name, through a link, behind a GEOM label, or the disk that holds it", async () => {
    const amd = host("amd-vi");
    symlinkSync("../dev/zvol/zroot/swap", join(amd.root, "vm/swap.img"));
    const a = await refused(amd, { guests: [guest("g", [{ path: "/dev/zvol/zroot/swap" }, { path: "/vm/swap.img" }])] }, ["guests[0].disks[1].path", "guests[0].disks[0].path", "guests[0].disks[1].path"]);
    assert.equal(a.get("guests[0].disks[0].path"), "/dev/zvol/zroot/swap is an active swap device of this host (swapctl -l lists /dev/zvol/zroot/swap): a guest writing to it would corrupt the host's memory; it is never a guest disk");
    assert.match(a.get("guests[0].disks[1].path")!, /^\/vm\/swap\.img \(it leads to \/dev\/zvol\/zroot\/swap\) is an active swap device of this host/);
    const intel = host("intel-vtd");
    policy(intel, "  disk_prefixes: [/dev/]\n");
    const i = await refused(intel, { guests: [guest("g", [{ path: "/dev/ada0p3" }]), guest("h", [{ path: "/dev/ada0" }])] }, ["guests[0].disks[0].path", "guests[1].disks[0].path"]);
    assert.match(i.get("guests[0].disks[0].path")!, /^\/dev\/ada0p3 is an active swap device of this host \(swapctl -l lists \/dev\/ada0p3\)/);
    assert.equal(i.get("guests[1].disks[0].path"), "/dev/ada0 is the disk that holds /dev/ada0p3, an active swap device of this host (swapctl -l): a guest writing to it would corrupt the host's memory; it is never a guest disk");
    const old = host("freebsd12");
    policy(old, "  disk_prefixes: [/dev/]\n");
    const o = await refused(old, { guests: [guest("g", [{ path: "/dev/ada0p3" }])] }, ["guests[0].disks[0].path"]);
    assert.match(o.get("guests[0].disks[0].path")!, /swapctl -l lists \/dev\/gpt\/swap0/, "the label's partition, through glabel status");
    const fine = await old.apply({ guests: [guest("g", [{ path: "/dev/zvol/zroot/vm/disk0" }])] });
    assert.deepEqual(fine.refused, [], "other disks are not swap");
  });

  test("when swapctl cannot tell the swap devices, no guest disk is given (fail closed)", async () => {
    const h = host("intel-vtd");
    rmSync(join(h.root, "sbin/swapctl"));
    const p = await refused(h, { guests: [guest("g", [{ path: "/dev/zvol/zroot/vm/disk0" }])] }, ["guests[0].disks[0].path"]);
    assert.match(p.get("guests[0].disks[0].path")!, /^\/dev\/zvol\/zroot\/vm\/disk0 cannot be checked against the host's swap devices: swapctl -l failed \(.*sbin\/swapctl is missing\); no guest disk is given while the active swap devices are not known$/);
    assert.deepEqual((await h.apply({ guests: [{ ...guest("n", []) }] })).refused, [], "a guest without disks is fine");
  });
});

describe("a device class fails closed when the host cannot map what it depends on", () => {
  const host = agentHosts();

  test("the management network on a tunnel: no NIC is taken, a GPU is; take_protected names the NIC that may go", async () => {
    const h = host("intel-vtd");
    setSandboxNetwork(h.root, { address: "192.0.2.10", prefix: 24, lagg: null, bridge: null, tunnel: "wg0" });
    const p = await refused(h, { ppt: [{ device: "4/0/0" }, { device: "3/0/0" }, { device: "3/0/1" }] }, ["ppt[0].device"]);
    assert.equal(p.get("ppt[0].device"),
      "4/0/0 (igb0) is a network controller (PCI class 0x02), and this host cannot tell which network controller it depends on: wg0: it carries the host's default route (wg0), and wg0 could not be mapped to a PCI function (sysctl dev.wg.0.%location gives no PCI address). " +
      'Until it can, no such device is taken from the host, as it could be that one; to reserve 4/0/0 anyway, add "4/0/0" to policy ppt.take_protected in /usr/local/etc/bhyve-agent.conf');
    const gpu = await h.apply({ ppt: [{ device: "3/0/0" }, { device: "3/0/1" }] });
    assert.deepEqual(gpu.refused, [], "a GPU is not a network controller");
    policy(h, "  ppt:\n    take_protected: [4/0/0]\n");
    const nic = await h.apply({ ppt: [{ device: "3/0/0" }, { device: "3/0/1" }, { device: "4/0/0", bind: "live" }] });
    assert.deepEqual(nic.refused, []);
    assert.equal(h.machine().pci.find((f) => f.bus === 4 && f.function === 0)!.driver, "ppt");
  });

  test("the root disk's controller gone from camcontrol: no storage controller is taken, a NIC port is", async () => {
    const h = host("intel-vtd");
    assert.equal(h.run("devctl", ["detach", "pci0:0:17:5"]).status, 0);
    const p = await refused(h, { ppt: [{ device: "5/0/0" }, { device: "4/0/1" }] }, ["ppt[0].device"]);
    assert.match(p.get("ppt[0].device")!, /^5\/0\/0 \(nvme0\) is a storage controller \(PCI class 0x01\), and this host cannot tell which storage controller it depends on: the root file system \(zroot\/ROOT\/default\) is on ada0, whose controller was not found \(camcontrol devlist -v does not list it\)\. .*add "5\/0\/0" to policy ppt\.take_protected/);
    assert.deepEqual((await h.apply({ ppt: [{ device: "4/0/1" }] })).refused, []);
    policy(h, "  ppt:\n    take_protected: [5/0/0]\n");
    assert.deepEqual((await h.apply({ ppt: [{ device: "5/0/0" }, { device: "4/0/1" }] })).refused, []);
  });
});
