import assert from "node:assert/strict";
import { test } from "node:test";
import { isBridge, parsePciconf, parsePciconfRead } from "../../../agent/parse/pciconf.js";
import { fixture } from "../../support/helpers.js";

test("pciconf -lv (13+ format, spaces after the selector): every entry with its names", () => {
  const { entries, unparsed } = parsePciconf(fixture("pciconf/hp-dl360p-gen8-13.0-current.lv.txt"));
  assert.deepEqual(unparsed, []);
  assert.equal(entries.length, 16);
  const igb1 = entries.find((e) => e.name === "igb1")!;
  assert.deepEqual(
    { ...igb1 },
    {
      name: "igb1", driver: "igb", unit: 1, domain: 0, bus: 4, slot: 0, function: 1,
      selector: "pci0:4:0:1", device: "4/0/1", classCode: 0x020000, revision: 0x01, header: 0x00,
      vendorId: 0x8086, deviceId: 0x1521, subvendorId: 0x103c, subdeviceId: 0x339e,
      vendorName: "Intel Corporation", deviceName: "I350 Gigabit Network Connection",
      className: "network", subclassName: "ethernet", extra: [],
    },
  );
  const none4 = entries.find((e) => e.name === "none4")!;
  assert.equal(none4.driver, null);
  assert.equal(none4.unit, 4);
  assert.equal(none4.subclassName, undefined, "a missing subclass line stays missing");
  assert.equal(none4.className, "mass storage");
  const ilo = entries.find((e) => e.name === "none8")!;
  assert.equal(ilo.deviceName, "Integrated Lights-Out Standard Slave Instrumentation & System Support");
  assert.ok(isBridge(entries.find((e) => e.name === "pcib1")!));
  assert.ok(!isBridge(igb1));
  assert.equal(entries.find((e) => e.name === "t5iov0")!.driver, "t5iov");
  assert.equal(entries.find((e) => e.name === "ioapic0")!.subclassName, "interrupt controller");
});

test("a GPU and its audio function owned by ppt, as a blog printed them (one-space indents)", () => {
  const { entries, unparsed } = parsePciconf(fixture("pciconf/radeon-rx9060xt-ppt.lv.txt"));
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map((e) => [e.name, e.driver, e.device, e.classCode, e.vendorId, e.deviceId, e.deviceName, e.subclassName]), [
    ["ppt0", "ppt", "3/0/0", 0x030000, 0x1002, 0x7590, "Navi 44 [Radeon RX 9060 XT]", "VGA"],
    ["ppt1", "ppt", "3/0/1", 0x040300, 0x1002, 0xab40, "Navi 48 HDMI/DP Audio Controller", "HDA"],
  ]);
});

test("13+ format with tabs, ppt-owned devices, buses above 99", () => {
  const { entries } = parsePciconf(fixture("pciconf/public-examples-13.l.txt"));
  assert.deepEqual(entries.map((e) => [e.name, e.driver, e.device, e.vendorId, e.deviceId, e.subvendorId, e.subdeviceId]), [
    ["ppt0", "ppt", "4/0/0", 0x14e4, 0x1639, 0x103c, 0x7055],
    ["ppt4", "ppt", "183/0/0", 0x8086, 0x37d2, 0x15d9, 0x37d2],
    ["vgapci0", "vgapci", "1/0/0", 0x10de, 0x0fe9, 0x106b, 0x0130],
    ["none4", null, "2/0/0", 0x14e4, 0x43a3, 0x106b, 0x0159],
  ]);
  assert.equal(entries[2]!.revision, 0xa1);
});

test("pre-13 format: chip = device<<16|vendor, card = subdevice<<16|subvendor; ARI function 21", () => {
  const { entries } = parsePciconf(fixture("pciconf/public-examples-pre13.l.txt"));
  assert.deepEqual(entries.map((e) => [e.name, e.selector, e.vendorId, e.deviceId, e.subvendorId, e.subdeviceId]), [
    ["ppt0", "pci0:1:0:0", 0x168c, 0x0042, 0x17aa, 0x0901],
    ["ppt7", "pci0:5:0:21", 0x1425, 0x5810, 0x1425, 0x0000],
  ]);
});

test("the pciconf(8) examples, current and old (no domain in the selector)", () => {
  const now = parsePciconf(fixture("pciconf/pciconf-8-manpage-13.l.txt")).entries;
  const old = parsePciconf(fixture("pciconf/pciconf-8-manpage-old-nodomain.l.txt")).entries;
  assert.equal(now.length, 3);
  assert.deepEqual(old.map((e) => [e.name, e.selector, e.vendorId, e.deviceId]), [
    ["foo0", "pci0:0:4:0", 0x1000, 0x000f],
    ["bar0", "pci0:0:5:0", 0x5333, 0x88c1],
    ["none0", "pci0:0:6:0", 0x10ec, 0x8029],
  ]);
  // The current page's bar0 line has vendor and device swapped relative to the old page's chip=
  // value (0x5333 is S3's vendor id, so the old page is right); each is parsed as printed.
  assert.deepEqual(now.map((e) => [e.name, e.vendorId, e.deviceId]), [["foo0", 0x1000, 0x000f], ["bar0", 0x88c1, 0x5333], ["none0", 0x10ec, 0x8029]]);
  assert.equal(now[2]!.driver, null);
});

test("unknown lines are kept, not silently dropped; capability lines attach to their device", () => {
  const text = "garbage here\nppt0@pci0:3:0:0:\tclass=0x030000 rev=0xa1 hdr=0x80 vendor=0x10de device=0x1e07 subvendor=0x10de subdevice=0x12fa\n    cap 01[60] = powerspec 3  supports D0 D3  current D0\n    ecap 000e[420] = ARI 1\n";
  const { entries, unparsed } = parsePciconf(text);
  assert.deepEqual(unparsed, ["garbage here"]);
  assert.deepEqual(entries[0]!.extra, ["cap 01[60] = powerspec 3  supports D0 D3  current D0", "ecap 000e[420] = ARI 1"]);
  assert.equal(entries[0]!.header, 0x80);
  assert.ok(!isBridge(entries[0]!), "the multi-function bit is not a bridge");
});

test("a line missing an id field is not taken as a device", () => {
  const { entries, unparsed } = parsePciconf("ppt0@pci0:3:0:0:\tclass=0x030000 rev=0xa1 hdr=0x00 vendor=0x10de\n");
  assert.equal(entries.length, 0);
  assert.equal(unparsed.length, 1);
});

test("pciconf -r words", () => {
  assert.deepEqual(parsePciconfRead(fixture("pciconf/read-dword.txt")), [0x10fb8086]);
  const words = parsePciconfRead(fixture("pciconf/read-four-dwords.txt"));
  assert.equal(words.length, 4);
  assert.equal(words[0]! & 0xffff, 0x8086);
  assert.equal(words[0]! >>> 16, 0x10fb);
  assert.deepEqual(parsePciconfRead("86 80 fb 10 \n"), [0x86, 0x80, 0xfb, 0x10]);
  assert.throws(() => parsePciconfRead("pciconf: ioctl(PCIOCREAD): Operation not supported"), /not a 2, 4 or 8 digit hex word/);
});

test("unit names whose driver has digits (mlx5_core0) split at the trailing digits", () => {
  const { entries, unparsed } = parsePciconf(fixture("pciconf/constructed-digit-driver-names.l.txt"));
  assert.deepEqual(unparsed, []);
  assert.deepEqual(entries.map((e) => [e.name, e.driver, e.unit, e.device]), [
    ["mlx5_core0", "mlx5_core", 0, "65/0/0"],
    ["mlx5_core1", "mlx5_core", 1, "65/0/1"],
    ["ix10", "ix", 10, "130/0/0"],
    ["none12", null, 12, "131/0/0"],
  ]);
});
