import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { protectedDevices } from "../../../agent/host/protected.js";
import { setSandboxNetwork } from "../../../sandbox/host.js";
import { readAudit } from "../../../agent/host/audit.js";
import { FAST_CONFIG, agentHosts } from "../../support/agent-host.js";

const brief = (r: Awaited<ReturnType<typeof protectedDevices>>) => r.devices.map((d) => `${d.device} ${d.name}`);

describe("the devices a host depends on, found with its own tools", () => {
  const host = agentHosts();

  test("intel-vtd: the NIC holding the session's local address, and the root pool's AHCI controller", async () => {
    const h = host("intel-vtd");
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["0/31/6 em0", "0/17/5 ahci0"]);
    assert.equal(r.devices[0]!.why, "it carries the agent's management connection (em0 holds 192.0.2.10, the address this SSH session came in on)");
    assert.equal(r.devices[1]!.why, "it is the storage controller of the root file system (zroot/ROOT/default is on ada0, behind ahcich0 on ahci0)");
    assert.deepEqual(r.notes, []);
  });

  test("a lagg carries the address: every port is protected, other NICs are not", async () => {
    const h = host("intel-vtd");
    setSandboxNetwork(h.root, { address: "192.0.2.10", prefix: 24, lagg: ["em0", "igb0"], bridge: null });
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["0/31/6 em0", "4/0/0 igb0", "0/17/5 ahci0"]);
    assert.match(r.devices[1]!.why, /^igb0 is in the same lagg\/bridge as lagg0: it carries the agent's management connection \(lagg0 holds 192\.0\.2\.10/);
  });

  test("a bridge carries the address: its member NICs; the local address on no interface: the route back to the client", async () => {
    const h = host("intel-vtd");
    setSandboxNetwork(h.root, { address: "192.0.2.10", prefix: 24, lagg: null, bridge: ["igb1"] });
    assert.deepEqual(brief(await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" })), ["4/0/1 igb1", "0/17/5 ahci0"]);
    const viaRoute = await protectedDevices(h.paths, { client: "192.0.2.77", local: "198.51.100.9" });
    assert.match(viaRoute.devices[0]!.why, /bridge0 is the route back to the SSH client 192\.0\.2\.77/);
  });

  test("outside an SSH session: the default route's NIC; amd-vi with its pool on a gptid label, and a UFS root on a gpt label on FreeBSD 12", async () => {
    const amd = host("amd-vi");
    const r = await protectedDevices(amd.paths, null);
    assert.deepEqual(brief(r), ["6/0/0 re0", "7/0/0 ahci0"]);
    assert.equal(r.devices[0]!.why, "it carries the host's default route (re0)");
    assert.equal(r.devices[1]!.why, "it is the storage controller of the root file system (zroot/ROOT/default is on ada0, behind ahcich0 on ahci0)", "the pool's vdev is a gptid label, resolved with glabel");
    const old = host("freebsd12");
    const o = await protectedDevices(old.paths, null);
    assert.deepEqual(brief(o), ["0/31/6 em0", "0/17/5 ahci0"]);
    assert.equal(o.devices[1]!.why, "it is the storage controller of the root file system (/dev/gpt/rootfs is on ada0, behind ahcich0 on ahci0)");
    assert.deepEqual(o.notes, []);
  });

  test("a vlan over a lagg protects both ports; em0.10 protects em0", async () => {
    const h = host("intel-vtd");
    setSandboxNetwork(h.root, { address: "192.0.2.10", prefix: 24, lagg: ["em0", "igb0"], bridge: null, vlan: 100 });
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["0/31/6 em0", "4/0/0 igb0", "0/17/5 ahci0"]);
    assert.equal(r.devices[1]!.why, "igb0 carries vlan100 (vlan100 on lagg0 on igb0): it carries the agent's management connection (vlan100 holds 192.0.2.10, the address this SSH session came in on)");
    assert.deepEqual(r.unmapped, []);
    const short = host("intel-vtd");
    setSandboxNetwork(short.root, { address: "192.0.2.10", prefix: 24, lagg: null, bridge: null, vlan: 10 });
    const s = await protectedDevices(short.paths, null);
    assert.deepEqual(brief(s), ["0/31/6 em0", "0/17/5 ahci0"]);
    assert.equal(s.devices[0]!.why, "em0 carries em0.10 (em0.10 on em0): it carries the host's default route (em0.10)");
    await assert.rejects(short.apply({ ppt: [{ device: "0/31/6", bind: "live" }] }), (e: Error & { code?: string }) => e.code === "E_POLICY" && /0\/31\/6 \(em0\) is protected: em0 carries em0\.10/.test(e.message));
  });

  test("what cannot be mapped to a PCI function is said, by class: a tunnel, a root disk whose controller is gone", async () => {
    const h = host("intel-vtd");
    setSandboxNetwork(h.root, { address: "192.0.2.10", prefix: 24, lagg: null, bridge: null, tunnel: "wg0" });
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["0/17/5 ahci0"]);
    assert.deepEqual(r.unmapped.map((u) => [u.className, u.baseClass, u.subject]), [["network", 2, "wg0"]]);
    assert.equal(r.unmapped[0]!.why, "wg0: it carries the agent's management connection (wg0 holds 192.0.2.10, the address this SSH session came in on), and wg0 could not be mapped to a PCI function (sysctl dev.wg.0.%location gives no PCI address)");
    assert.match(r.notes[0]!, /: no network controller \(PCI class 0x02\) is reserved unless policy ppt\.take_protected names it$/);
    const json = h.cli(["policy", "--json"]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { unmapped: Array<{ subject: string; baseClass: number }> }).unmapped.map((u) => [u.subject, u.baseClass]), [["wg0", 2]]);
    assert.match(h.cli(["policy"]).stdout, /^# note: wg0: it carries the host's default route \(wg0\), and wg0 could not be mapped to a PCI function .*: no network controller \(PCI class 0x02\) is reserved unless policy ppt\.take_protected names it$/m);
    const lost = await protectedDevices(h.paths, { client: "198.51.100.1", local: "203.0.113.9" });
    assert.deepEqual(lost.unmapped.map((u) => u.subject), ["wg0"], "the route back to a client elsewhere goes through the tunnel too");
    const d = host("intel-vtd");
    assert.equal(d.run("devctl", ["detach", "pci0:0:17:5"]).status, 0);
    const disk = await protectedDevices(d.paths, null);
    assert.deepEqual(brief(disk), ["0/31/6 em0"]);
    assert.deepEqual(disk.unmapped.map((u) => [u.className, u.baseClass, u.subject]), [["storage", 1, "ada0"]]);
  });

  test("usb-root: a root pool on a USB stick protects the xHCI controller it hangs on; the GPU and the idle AHCI controller stay reservable", async () => {
    const h = host("usb-root");
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["0/31/6 em0", "0/20/0 xhci0"]);
    assert.equal(r.devices[1]!.why, "it is the USB controller of the root file system's disk (zroot/ROOT/default is on da0, behind umass0 on uhub0 on usbus0 on xhci0)");
    assert.deepEqual(r.unmapped, [], "camcontrol's umass-sim0 is followed to umass0, not left unmapped");
    await assert.rejects(h.apply({ ppt: [{ device: "0/20/0", bind: "live" }] }), (e: Error & { code?: string }) =>
      e.code === "E_POLICY" && /0\/20\/0 \(xhci0\) is protected: it is the USB controller of the root file system's disk/.test(e.message));
    assert.equal(h.machine().pci.find((f) => f.bus === 0 && f.slot === 20)!.driver, "xhci", "refused before anything changed");
    const ok = await h.apply({ ppt: [{ device: "3/0/0", bind: "live" }, { device: "3/0/1", bind: "live" }, { device: "0/17/5", bind: "live" }] });
    assert.deepEqual(ok.refused, []);
    assert.deepEqual(["3/0/0", "3/0/1", "0/17/5"].map((d) => h.machine().pci.find((f) => `${f.bus}/${f.slot}/${f.function}` === d)!.driver), ["ppt", "ppt", "ppt"]);
    writeFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), `${FAST_CONFIG}policy:\n  ppt:\n    take_protected: [0/20/0]\n`);
    assert.deepEqual((await h.apply({ ppt: [{ device: "3/0/0", bind: "live" }, { device: "3/0/1", bind: "live" }, { device: "0/17/5", bind: "live" }, { device: "0/20/0", bind: "live" }] })).refused, []);
    assert.equal(h.machine().pci.find((f) => f.bus === 0 && f.slot === 20)!.driver, "ppt", "take_protected names it: it goes");
  });

  test("a USB root disk whose umass device cannot be followed up %parent: every serial bus controller fails closed, other classes do not", async () => {
    const h = host("usb-root");
    // sysctl that knows nothing under dev.umass (as if the tree could not be read there); the rest is the sandbox's own.
    const sysctl = join(h.root, "sbin/sysctl");
    // The #! line is "NODE SCRIPT", or "CLIENT NODE SCRIPT" with the tool client: node and the bundle are its last two words.
    const [node, script] = readFileSync(sysctl, "utf8").split("\n")[0]!.slice(2).split(" ").slice(-2);
    writeFileSync(sysctl, `#!${node}\nconst { spawnSync } = require("node:child_process");\nconst args = process.argv.slice(2);\nif (args.some((a) => a.startsWith("dev.umass."))) { process.stderr.write("sysctl: unknown oid 'dev.umass.0.%parent'\\n"); process.exit(1); }\nconst r = spawnSync(${JSON.stringify(node)}, [${JSON.stringify(script)}, __filename, ...args], { stdio: "inherit" });\nprocess.exit(r.status ?? 1);\n`);
    const r = await protectedDevices(h.paths, null);
    assert.deepEqual(brief(r), ["0/31/6 em0"]);
    assert.deepEqual(r.unmapped.map((u) => [u.className, u.baseClass, u.subject]), [["serial bus", 0x0c, "da0"]]);
    assert.equal(r.unmapped[0]!.why, "the root file system (zroot/ROOT/default) is on da0, a USB disk on umass-sim0, and umass0 could not be followed up %parent to the PCI function of its USB controller");
    await assert.rejects(h.apply({ ppt: [{ device: "0/20/0", bind: "live" }] }), (e: Error & { code?: string }) =>
      e.code === "E_POLICY" && /0\/20\/0 \(xhci0\) is a serial bus controller \(PCI class 0x0c\), and this host cannot tell which serial bus controller it depends on: the root file system \(zroot\/ROOT\/default\) is on da0, a USB disk/.test(e.message));
    assert.deepEqual((await h.apply({ ppt: [{ device: "3/0/0", bind: "live" }, { device: "3/0/1", bind: "live" }, { device: "0/17/5", bind: "live" }] })).refused, [], "display and storage controllers are not blocked");
  });

  test("vlan-lagg: the management address on vlan100 over lagg0 protects both I350 ports it is made of, not the I219", async () => {
    const h = host("vlan-lagg");
    const r = await protectedDevices(h.paths, { client: "192.0.2.50", local: "192.0.2.10" });
    assert.deepEqual(brief(r), ["4/0/0 igb0", "4/0/1 igb1", "0/17/5 ahci0"]);
    assert.equal(r.devices[0]!.why, "igb0 carries vlan100 (vlan100 on lagg0 on igb0): it carries the agent's management connection (vlan100 holds 192.0.2.10, the address this SSH session came in on)");
    assert.equal(r.devices[1]!.why, "igb1 carries vlan100 (vlan100 on lagg0 on igb1): it carries the agent's management connection (vlan100 holds 192.0.2.10, the address this SSH session came in on)");
    assert.deepEqual(r.unmapped, []);
    const noSession = await protectedDevices(h.paths, null);
    assert.deepEqual(brief(noSession), ["4/0/0 igb0", "4/0/1 igb1", "0/17/5 ahci0"], "the default route goes out the same vlan");
    await assert.rejects(h.apply({ ppt: [{ device: "4/0/1", bind: "live" }] }), (e: Error & { code?: string }) =>
      e.code === "E_POLICY" && /4\/0\/1 \(igb1\) is protected: igb1 carries vlan100 \(vlan100 on lagg0 on igb1\)/.test(e.message));
    assert.deepEqual((await h.apply({ ppt: [{ device: "0/31/6", bind: "live" }] })).refused, [], "the I219 carries nothing the host needs");
  });

  test("converge refuses the management NIC before changing anything; take_protected lets it go", async () => {
    const h = host("intel-vtd");
    const conf = join(h.root, "boot/loader.conf");
    const before = readFileSync(conf, "utf8");
    await assert.rejects(h.apply({ ppt: [{ device: "0/31/6", bind: "live" }] }), (e: Error & { code?: string; problems?: Array<{ path: string; message: string }> }) =>
      e.code === "E_POLICY" && e.problems![0]!.path === "ppt[0].device" && /0\/31\/6 \(em0\) is protected: it carries the host's default route \(em0\)/.test(e.problems![0]!.message));
    assert.equal(readFileSync(conf, "utf8"), before, "loader.conf untouched");
    assert.equal(h.machine().pci.find((f) => f.bus === 0 && f.slot === 31 && f.function === 6)!.driver, "em");
    writeFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), `${FAST_CONFIG}policy:\n  ppt:\n    take_protected: [0/31/6]\n`);
    const r = await h.apply({ ppt: [{ device: "0/31/6", bind: "live" }] });
    assert.deepEqual(r.refused, []);
    assert.equal(h.machine().pci.find((f) => f.bus === 0 && f.slot === 31 && f.function === 6)!.driver, "ppt");
  });

  test("the policy file must be root's alone; `bhyve-agent policy` prints it with the protected devices; the CLI's changes are audited", async () => {
    const h = host("intel-vtd");
    const file = join(h.root, "usr/local/etc/bhyve-agent.conf");
    writeFileSync(file, `${FAST_CONFIG}policy:\n  max_guests: 3\n  disk_prefixes: [/vm/]\n`);
    const shown = h.cli(["policy"]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^ {2}max_guests: 3$/m);
    assert.match(shown.stdout, /^ {2}disk_prefixes:\n {4}- \/vm\/$/m);
    assert.match(shown.stdout, /^ {4}- \/usr\/local\/share\/uefi-firmware\/$/m, "defaults are shown too");
    assert.match(shown.stdout, /^# {3}0\/31\/6 em0: it carries the host's default route \(em0\)$/m);
    assert.match(shown.stdout, /^# {3}0\/17\/5 ahci0: it is the storage controller of the root file system/m);
    const refused = h.cli(["apply", "-"], JSON.stringify({ guests: [{ name: "g", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/zroot/vm/disk0" }] }] }));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /guests\[0\]\.disks\[0\]\.path: \/dev\/zvol\/zroot\/vm\/disk0 is outside the allowed disk paths \(policy disk_prefixes: \/vm\//);
    const log = readAudit(h.paths);
    assert.equal(log.length, 1);
    assert.deepEqual([log[0]!.via, log[0]!.method, log[0]!.outcome, log[0]!.code], ["console", "apply", "refused", "E_POLICY"]);
    chmodSync(file, 0o666);
    const loose = h.cli(["policy"]);
    assert.equal(loose.status, 1);
    assert.match(loose.stderr, /bhyve-agent\.conf must be owned by root and writable by root only .* mode 666/);
  });
});
