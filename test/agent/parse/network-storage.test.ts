import assert from "node:assert/strict";
import { test } from "node:test";
import { locationBsf, parseIfconfig, parseRouteGet } from "../../../agent/parse/network.js";
import { camSimDevice, diskOf, parseCamDevlist, parseGeomStatus, parseMount, parseSwapctl, parseZpoolDevices } from "../../../agent/parse/storage.js";
import { nicsBehind } from "../../../agent/host/protected.js";
import { fixture } from "../../support/helpers.js";

test("ifconfig: a lagg's address and ports", () => {
  const [lagg] = parseIfconfig(fixture("network/lagg-em0-igb0.ifconfig.txt"));
  assert.equal(lagg!.name, "lagg0");
  assert.deepEqual(lagg!.inet, ["10.0.0.105", "10.0.0.205", "10.0.0.204", "10.0.0.203"]);
  assert.deepEqual(lagg!.laggPorts, ["em0", "igb0"]);
  assert.ok(lagg!.flags.includes("UP"));
});

test("ifconfig: a bridge's members, and a tap with no address", () => {
  const ifs = parseIfconfig(fixture("network/bridge-tap0-igb0.ifconfig.txt"));
  assert.deepEqual(ifs.map((i) => i.name), ["tap0", "bridge0"]);
  assert.deepEqual(ifs[0]!.inet, []);
  assert.deepEqual(ifs[1]!.bridgeMembers, ["tap0", "igb0"]);
  assert.deepEqual(ifs[1]!.inet, ["192.168.30.1"]);
});

test("route -n get: interface, gateway, flags", () => {
  const r = parseRouteGet(fixture("network/constructed-route-get-default.txt"));
  assert.deepEqual(r, { destination: "default", gateway: "192.0.2.1", interface: "igb0", flags: ["UP", "GATEWAY", "DONE", "STATIC"] });
  assert.equal(parseRouteGet("route: route has not been found\n").interface, null);
});

test("%location: the dbsf of domain 0, nothing else", () => {
  assert.equal(locationBsf("slot=0 function=1 dbsf=pci0:4:0:1 handle=\\_SB_.PCI0.BR3A"), "4/0/1");
  assert.equal(locationBsf("channel=0"), null);
  assert.equal(locationBsf("dbsf=pci1:4:0:1"), null);
});

test("camcontrol devlist -v: each disk's controller", () => {
  const a = parseCamDevlist(fixture("storage/areca-truenas.devlist-v.txt"));
  assert.equal(a.get("da0"), "arcmsr0");
  assert.equal(a.get("da14"), "arcmsr0");
  assert.equal(a.has("pass15"), false, "pass devices are not disks");
  assert.equal(a.get("xpt0"), "xpt0");
  const b = parseCamDevlist(fixture("storage/ahci-nvme.devlist-v.txt"));
  assert.equal(b.get("ada0"), "ahcich0");
  assert.equal(b.get("nda0"), "nvme0");
});

test("camcontrol devlist -v: a USB disk's bus is umass(4)'s SIM, umass-simN, which is the newbus device umassN", () => {
  const u = parseCamDevlist(fixture("storage/constructed-umass.devlist-v.txt"));
  assert.deepEqual([u.get("ada0"), u.get("da0"), u.get("da1")], ["ahcich0", "umass-sim0", "umass-sim12"]);
  assert.deepEqual(["umass-sim0", "umass-sim12", "ahcich0", "nvme0", "arcmsr0", "umass-simX", "xumass-sim0"].map(camSimDevice), ["umass0", "umass12", "ahcich0", "nvme0", "arcmsr0", "umass-simX", "xumass-sim0"]);
});

test("mount and zpool status -P: the root's source, the pool's leaf devices, the disks", () => {
  const root = parseMount(fixture("storage/constructed-mount-zfs-root.txt")).find((m) => m.mountPoint === "/");
  assert.deepEqual(root, { source: "zroot/ROOT/default", mountPoint: "/", fsType: "zfs" });
  const devs = parseZpoolDevices(fixture("storage/constructed-zpool-status-P-mirror.txt"));
  assert.deepEqual(devs, ["/dev/ada0p4", "/dev/ada1p4"]);
  assert.deepEqual(["/dev/ada0p4", "da1s1a", "nda0", "/dev/gpt/rootfs"].map(diskOf), ["ada0", "da1", "nda0", "gpt/rootfs"]);
});

test("glabel/gmirror status: each provider's components, without their state", () => {
  const labels = parseGeomStatus(fixture("storage/gptid-ufsid.glabel-status.txt"));
  assert.deepEqual([...labels], [["gptid/42844e2c-f7f5-11e5-bd68-0cc47a0a8d4c", ["ada3p2"]], ["ufsid/486b6fc38d330916", ["ad4s1d"]]]);
  const mirrors = parseGeomStatus(fixture("storage/constructed-gmirror-graid-status.txt"));
  assert.deepEqual([...mirrors], [["mirror/gm0", ["ada0p2", "ada1p2"]], ["raid/r0", ["ada0", "ada1"]]]);
  assert.equal(diskOf("/dev/ada0p4.eli"), "ada0", "a geli provider is on its partition's disk");
  assert.equal(diskOf("/dev/gpt/rootfs"), "gpt/rootfs");
});

test("ifconfig: a vlan's tag and parent, the short em0.10 form, a wlan's parent, interface groups", () => {
  const ifs = parseIfconfig(fixture("network/constructed-vlan-lagg-em0-em1.ifconfig.txt"));
  const by = (n: string) => ifs.find((i) => i.name === n)!;
  assert.deepEqual([by("vlan100").vlan, by("vlan100").parent, by("vlan100").inet, by("vlan100").groups], [100, "lagg0", ["192.0.2.10"], ["vlan"]]);
  assert.deepEqual([by("igb0.20").vlan, by("igb0.20").parent], [20, "igb0"]);
  assert.deepEqual([by("lagg0").parent, by("lagg0").vlan, by("lagg0").groups, by("lagg0").laggPorts], [null, null, ["lagg"], ["em0", "em1"]]);
  assert.equal(by("em0").parent, null);
  const wlan = parseIfconfig(fixture("network/constructed-wlan0-iwm0.ifconfig.txt")).find((i) => i.name === "wlan0")!;
  assert.deepEqual([wlan.parent, wlan.vlan, wlan.groups, wlan.inet], ["iwm0", null, ["wlan"], ["192.168.1.23"]]);
  // FreeBSD before 13 printed fewer fields ahead of the parent.
  assert.equal(parseIfconfig("vlan5: flags=8843<UP> metric 0 mtu 1500\n\tvlan: 5 parent interface: re0\n")[0]!.parent, "re0");
});

test("the NICs behind an interface: a vlan over a lagg is both ports, em0.10 is em0, a wlan is its radio, guests' taps on a bridge are not", () => {
  const ifs = parseIfconfig(fixture("network/constructed-vlan-lagg-em0-em1.ifconfig.txt"));
  assert.deepEqual(nicsBehind(ifs, "vlan100"), [{ nic: "em0", path: ["vlan100", "lagg0", "em0"], viaParent: true }, { nic: "em1", path: ["vlan100", "lagg0", "em1"], viaParent: true }]);
  assert.deepEqual(nicsBehind(ifs, "igb0.20").map((n) => n.nic), ["igb0"]);
  assert.deepEqual(nicsBehind(ifs, "em1").map((n) => n.nic), ["em1", "em0"], "a lagg port brings its lagg's other port");
  // A short-form vlan whose parent line is missing: the name says the parent.
  const bare = parseIfconfig("em0: flags=8843<UP> metric 0 mtu 1500\n\tether 00:00:00:00:00:01\nem0.10: flags=8843<UP> metric 0 mtu 1500\n\tinet 10.0.0.2 netmask 0xffffff00\n");
  assert.deepEqual(nicsBehind(bare, "em0.10").map((n) => n.nic), ["em0"]);
  assert.deepEqual(nicsBehind(parseIfconfig(fixture("network/constructed-wlan0-iwm0.ifconfig.txt")), "wlan0").map((n) => n.nic), ["iwm0"]);
  assert.deepEqual(nicsBehind(parseIfconfig(fixture("network/bridge-tap0-igb0.ifconfig.txt")), "bridge0").map((n) => n.nic), ["igb0"], "tap0 is a guest's side of the bridge");
});

test("swapctl -l: the active swap devices, with or without the Total line of -s", () => {
  assert.deepEqual(parseSwapctl(fixture("storage/constructed-swapctl-l.txt")), ["/dev/ada0p3", "/dev/gpt/swap1", "/dev/zvol/zroot/swap"]);
  assert.deepEqual(parseSwapctl(fixture("storage/constructed-swapctl-ls-eli.txt")), ["/dev/ada0p3.eli"]);
  assert.deepEqual(parseSwapctl("Device:       512-blocks      Used:\n"), [], "no swap configured");
});

test("ifconfig: an interface renamed with a dash (vm-bhyve's bridges are vm-NAME) keeps its own members", () => {
  const text = [
    "tap0: flags=1008943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500",
    "\tdescription: vmnet/web/0/public",
    "vm-public: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500",
    "\tmember: tap0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>",
    "\tgroups: bridge vm-switch viid-4c918@",
    "",
  ].join("\n");
  const ifs = parseIfconfig(text);
  assert.deepEqual(ifs.map((i) => [i.name, i.bridgeMembers]), [["tap0", []], ["vm-public", ["tap0"]]]);
});
