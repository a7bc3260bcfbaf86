import assert from "node:assert/strict";
import { test } from "node:test";
import { comparePciAddress, formatBsf, formatSelector, parsePciAddress, sameDevice } from "../../../agent/model/pci-address.js";

test("B/S/F and pci0:B:S:F parse to the same address", () => {
  for (const text of ["3/0/1", "pci0:3:0:1", "03/00/01"]) {
    const r = parsePciAddress(text);
    assert.ok(r.ok, text);
    assert.deepEqual(r.address, { bus: 3, slot: 0, function: 1 });
  }
});

test("formats: B/S/F for pptdevs and bhyve, pci0:B:S:F for devctl", () => {
  const a = { bus: 101, slot: 0, function: 2 };
  assert.equal(formatBsf(a), "101/0/2");
  assert.equal(formatSelector(a), "pci0:101:0:2");
});

test("bad addresses are refused with the reason", () => {
  const cases: Array<[string, RegExp]> = [
    ["0x03/0/0", /not a PCI address/],
    ["3:0:0", /not a PCI address/],
    ["3/0", /not a PCI address/],
    ["pci1:3:0:0", /domain 1.*domain 0 only/],
    ["256/0/0", /bus 256 is out of range/],
    ["3/32/0", /slot 32 is out of range/],
    ["3/1/8", /only an ARI device at slot 0/],
    ["3/0/256", /function 256 is out of range/],
    ["", /not a PCI address/],
  ];
  for (const [text, re] of cases) {
    const r = parsePciAddress(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.reason, re, text);
  }
});

test("ARI functions above 7 are accepted at slot 0", () => {
  const r = parsePciAddress("5/0/21");
  assert.ok(r.ok);
  assert.equal(r.address.function, 21);
});

test("ordering and device grouping", () => {
  const list = ["4/0/1", "3/0/1", "3/0/0", "10/0/0"].map((t) => {
    const r = parsePciAddress(t);
    assert.ok(r.ok);
    return r.address;
  });
  assert.deepEqual(list.sort(comparePciAddress).map(formatBsf), ["3/0/0", "3/0/1", "4/0/1", "10/0/0"]);
  assert.ok(sameDevice(list[0]!, list[1]!));
  assert.ok(!sameDevice(list[1]!, list[2]!));
});
