import assert from "node:assert/strict";
import { test } from "node:test";
import { hasAcpiTable, parseAcpidump } from "../../../agent/parse/acpidump.js";
import { fixture } from "../../support/helpers.js";

test("Intel host: DMAR present, headers decoded", () => {
  const d = parseAcpidump(fixture("acpidump/constructed-intel-vtd.t.txt"));
  assert.deepEqual(d.rsdp, { oem: "HP", acpiRevision: "2.0x (2)" });
  assert.deepEqual(d.tables.map((t) => t.signature), ["XSDT", "FACP", "APIC", "DMAR"]);
  assert.ok(hasAcpiTable(d, "DMAR"));
  assert.ok(!hasAcpiTable(d, "IVRS"));
  const dmar = d.tables.at(-1)!;
  assert.deepEqual(
    { ...dmar },
    { signature: "DMAR", length: 1014, revision: 1, checksum: 97, checksumOk: true, oemId: "HP", oemTableId: "ProLiant",
      oemRevision: 1, creatorId: "\u000b", creatorRevision: 0x162e },
  );
});

test("AMD host: IVRS present; an (Incorrect) checksum is reported, not fatal", () => {
  const d = parseAcpidump(fixture("acpidump/constructed-amd-vi.t.txt"));
  assert.ok(hasAcpiTable(d, "IVRS"));
  assert.ok(!hasAcpiTable(d, "DMAR"));
  const facp = d.tables.find((t) => t.signature === "FACP")!;
  assert.equal(facp.checksumOk, false);
  assert.equal(facp.checksum, 95);
  assert.equal(d.tables.find((t) => t.signature === "XSDT")!.oemTableId, "A M I");
});

test("no IOMMU table; no output at all", () => {
  const d = parseAcpidump(fixture("acpidump/constructed-no-iommu.t.txt"));
  assert.deepEqual(d.tables.map((t) => t.signature), ["XSDT", "FACP", "HPET"]);
  assert.ok(!hasAcpiTable(d, "DMAR") && !hasAcpiTable(d, "IVRS"));
  assert.deepEqual(parseAcpidump(""), { tables: [] });
});
