/**
 * Hostile desired-state documents: every one is refused with its exact code and the path of the
 * field at fault, in each form it can arrive in (parsed data as host.apply gets it, JSON text, YAML
 * text, raw bytes), with a bounded report and no internal detail. Pure code: no host is touched.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { stringify } from "yaml";
import { checkDocumentText, checkWholeDocument, decodeDocumentBytes, decodeWholeDocument, MAX_DOCUMENT_BYTES, type CheckResult } from "../../../agent/model/index.js";
import { clone } from "../../support/helpers.js";
import { assertNoLeak, label } from "./hostile-helpers.js";
import { isProblemsError } from "../../../agent/model/errors.js";

const FW = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";

/** A valid document that uses every field; each case breaks one thing of it. */
const BASE = {
  host: { vmm_load: true, amdvi_enable: "auto", require_iommu: true, require_nested_paging: true },
  ppt: [
    { device: "3/0/0", vendor_id: "0x10de", device_id: "0x1b80", bind: "boot" },
    { device: "3/0/1", bind: "boot" },
  ],
  guests: [
    {
      name: "web1",
      cpus: 2,
      memory: "2G",
      bootrom: FW,
      wired: true,
      disks: [{ path: "/dev/zvol/zroot/vm/web1", type: "virtio-blk", slot: 4 }],
      nics: [{ tap: "tap0", model: "virtio-net", mac: "58:9c:fc:00:00:01", slot: 10 }],
      passthru: [
        { device: "3/0/0", slot: 6, function: 0, rom: "/vm/rom.bin" },
        { device: "3/0/1", slot: 6, function: 1 },
      ],
      state: "running",
      restart: "on-reboot",
      start_order: 1,
    },
    { name: "db1", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/zroot/vm/db1" }], nics: [{ tap: "tap1" }] },
  ],
};

type Doc = Record<string, any>;
const REMOVE = Symbol("remove");

/** `guests[0].nics[0].mac` → ["guests", 0, "nics", 0, "mac"]. */
function steps(path: string): Array<string | number> {
  return path.split(/\.|(?=\[)/).map((s) => (s.startsWith("[") ? Number(s.slice(1, -1)) : s));
}

/** A copy of BASE with the value at `path` replaced (or removed). */
function withValue(path: string, value: unknown, base: Doc = BASE): Doc {
  const doc = clone(base);
  const parts = steps(path);
  let node: any = doc;
  for (const p of parts.slice(0, -1)) node = node[p];
  const last = parts[parts.length - 1]!;
  if (value === REMOVE) {
    if (typeof last === "number") node.splice(last, 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return doc;
}

/** A copy of BASE changed by `edit`. */
function edited(edit: (d: Doc) => void): Doc {
  const doc = clone(BASE);
  edit(doc);
  return doc;
}

/** How one hostile document must be refused. */
interface Refusal {
  readonly code: string;
  /** The path of the first problem. */
  readonly path: string;
  /** A pattern its message must match, where the wording matters. */
  readonly message?: RegExp;
}

/** Asserts a check's refusal: code, first path, message, a bounded and clean report. */
function assertRefused(r: CheckResult, want: Refusal, what: string): void {
  assert.equal(r.ok, false, `${what}: accepted`);
  if (r.ok) return;
  assert.equal(r.code ?? "E_SPEC_INVALID", want.code, `${what}: ${JSON.stringify(r.problems.slice(0, 3))}`);
  assert.ok(r.problems.length > 0, `${what}: no problem`);
  assert.equal(r.problems[0]!.path, want.path, `${what}: ${JSON.stringify(r.problems.slice(0, 3))}`);
  if (want.message) assert.match(r.problems[0]!.message, want.message, what);
  for (const p of r.problems.slice(0, 60)) {
    assertNoLeak(`${p.path}: ${p.message}`, what);
    assert.ok(p.message.length <= 600, `${what}: a message of ${p.message.length} characters`);
    assert.ok(p.path.length <= 200, `${what}: a path of ${p.path.length} characters`);
  }
}

/** And the same through decodeWholeDocument (host.apply): a SpecError with that code, at most 50 problems shown. */
function assertThrowsSpec(input: string | Doc, want: Refusal, what: string): void {
  assert.throws(() => decodeWholeDocument(input as string | Record<string, unknown>), (err: unknown) => {
    assert.ok(isProblemsError(err), `${what}: threw ${String(err)}`);
    assert.equal(err.code, want.code, what);
    assert.ok(err.problems.length <= 50, what);
    assert.ok(err.message.split("\n").length <= 51, what);
    assertNoLeak(err.message, what);
    return true;
  }, what);
}

/** Checks a document given as data, as JSON text and as YAML text (where the value survives JSON). */
function refuseData(doc: Doc, want: Refusal, forms: { json?: boolean; yaml?: boolean } = {}): void {
  assertRefused(checkWholeDocument(doc), want, "as data");
  assertThrowsSpec(doc, want, "as data");
  if (forms.json !== false) {
    const text = JSON.stringify(doc);
    assertRefused(checkDocumentText(text), want, "as JSON text");
  }
  if (forms.yaml !== false) {
    const text = stringify(doc);
    assertRefused(checkDocumentText(text), want, "as YAML text");
  }
}

/** Checks a document given as text. */
function refuseText(text: string, want: Refusal): void {
  assertRefused(checkDocumentText(text), want, "as text");
  assertThrowsSpec(text, want, "as text");
}

/** Checks a document given as bytes (a file, standard input): decoded, then checked as text. */
function refuseBytes(bytes: Uint8Array, want: Refusal): void {
  const d = decodeDocumentBytes(bytes);
  const r: CheckResult = d.ok ? checkDocumentText(d.text) : d;
  assertRefused(r, want, "as bytes");
}

const invalid = (path: string, message?: RegExp): Refusal => ({ code: "E_SPEC_INVALID", path, message });

test("the base document is valid in every form (each case below breaks one thing of it)", () => {
  assert.ok(checkWholeDocument(BASE).ok);
  assert.ok(checkDocumentText(JSON.stringify(BASE)).ok);
  const yaml = checkDocumentText(stringify(BASE));
  assert.ok(yaml.ok, JSON.stringify(yaml));
});

// ---------------------------------------------------------------------------------------------
// Wrong types at every field.

type Kind = "bool" | "int" | "string" | "enum" | "list" | "mapping" | "memory" | "pciId" | "amdvi";
const FIELDS: ReadonlyArray<[string, Kind]> = [
  ["host", "mapping"],
  ["host.vmm_load", "bool"],
  ["host.amdvi_enable", "amdvi"],
  ["host.require_iommu", "bool"],
  ["host.require_nested_paging", "bool"],
  ["ppt", "list"],
  ["ppt[0]", "mapping"],
  ["ppt[0].device", "string"],
  ["ppt[0].vendor_id", "pciId"],
  ["ppt[0].device_id", "pciId"],
  ["ppt[0].bind", "enum"],
  ["guests", "list"],
  ["guests[0]", "mapping"],
  ["guests[0].name", "string"],
  ["guests[0].cpus", "int"],
  ["guests[0].memory", "memory"],
  ["guests[0].bootrom", "string"],
  ["guests[0].wired", "bool"],
  ["guests[0].disks", "list"],
  ["guests[0].disks[0]", "mapping"],
  ["guests[0].disks[0].path", "string"],
  ["guests[0].disks[0].type", "enum"],
  ["guests[0].disks[0].slot", "int"],
  ["guests[0].nics", "list"],
  ["guests[0].nics[0]", "mapping"],
  ["guests[0].nics[0].tap", "string"],
  ["guests[0].nics[0].model", "enum"],
  ["guests[0].nics[0].mac", "string"],
  ["guests[0].nics[0].slot", "int"],
  ["guests[0].passthru", "list"],
  ["guests[0].passthru[0]", "mapping"],
  ["guests[0].passthru[0].device", "string"],
  ["guests[0].passthru[0].slot", "int"],
  ["guests[0].passthru[0].function", "int"],
  ["guests[0].passthru[0].rom", "string"],
  ["guests[0].state", "enum"],
  ["guests[0].restart", "enum"],
  ["guests[0].start_order", "int"],
];
const WRONG: Record<Kind, readonly unknown[]> = {
  bool: ["yes", 1, []],
  int: ["2", true, {}],
  string: [7, false, ["x"]],
  enum: ["bogus", 1, "RUNNING"],
  list: ["x", 3, { a: 1 }],
  mapping: ["x", 4, [1]],
  memory: [true, [], { g: 1 }],
  pciId: ["10de", true, []],
  amdvi: ["yes", 0, {}],
};

describe("documents: a wrong type at every field is refused at that field", () => {
  for (const [path, kind] of FIELDS) {
    for (const value of WRONG[kind]) {
      test(`${path} = ${label(value)}`, () => refuseData(withValue(path, value), invalid(path)));
    }
  }
});

describe("documents: required fields left out are named", () => {
  for (const path of ["ppt[0].device", "guests[0].name", "guests[0].cpus", "guests[0].memory", "guests[0].disks[0].path",
    "guests[0].passthru[0].device", "guests[0].passthru[0].slot"]) {
    test(`${path} missing`, () => refuseData(withValue(path, REMOVE), invalid(path, /is required/)));
    test(`${path} null`, () => refuseData(withValue(path, null), invalid(path, /is required/)));
  }
});

describe("documents: a NIC without a switch or a tap, or with both, is named", () => {
  for (const value of [REMOVE, null]) {
    test(`guests[0].nics[0].tap ${value === REMOVE ? "missing" : "null"}`, () =>
      refuseData(withValue("guests[0].nics[0].tap", value), invalid("guests[0].nics[0].switch", /needs a switch .* or a tap/)));
  }
  test("both a switch and a tap", () => {
    const doc = withValue("guests[0].nics[0].switch", "lan");
    refuseData(doc, invalid("guests[0].nics[0].tap", /not both/));
  });
});

// ---------------------------------------------------------------------------------------------
// Numbers out of range.

describe("documents: numbers out of range", () => {
  const cases: ReadonlyArray<[string, unknown, RegExp?]> = [
    ["guests[0].cpus", 0, /out of range \(1-4096\)/],
    ["guests[0].cpus", -1, /out of range/],
    ["guests[0].cpus", 4097, /out of range/],
    ["guests[0].cpus", 1e9, /out of range/],
    ["guests[0].cpus", 1.5, /whole number/],
    ["guests[0].cpus", "NaN", /whole number/],
    ["guests[0].cpus", "1e3", /whole number/],
    ["guests[0].cpus", 2 ** 53, /out of range/],
    ["guests[0].start_order", 1_000_001, /out of range/],
    ["guests[0].start_order", -1e12, /out of range/],
    ["guests[0].disks[0].slot", 0, /host bridge/],
    ["guests[0].disks[0].slot", 31, /LPC bridge/],
    ["guests[0].disks[0].slot", 32, /out of range/],
    ["guests[0].nics[0].slot", -1, /out of range/],
    ["guests[0].nics[0].slot", 2.5, /whole number/],
    ["guests[0].passthru[0].slot", 0, /host bridge/],
    ["guests[0].passthru[0].slot", 31, /LPC bridge/],
    ["guests[0].passthru[0].function", 8, /out of range \(0-7\)/],
    ["guests[0].passthru[0].function", -1, /out of range/],
    ["ppt[0].vendor_id", 65536, /16-bit PCI id/],
    ["ppt[0].vendor_id", -1, /16-bit PCI id/],
    ["ppt[0].vendor_id", "0x10000", /16-bit PCI id/],
    ["ppt[0].vendor_id", "0X10DE", /16-bit PCI id/],
    ["ppt[0].device_id", 1.5, /16-bit PCI id/],
    ["ppt[0].device_id", "0x", /16-bit PCI id/],
    ["ppt[0].device_id", "-0x1", /16-bit PCI id/],
  ];
  for (const [path, value, message] of cases) {
    test(`${path} = ${label(value)}`, () => refuseData(withValue(path, value), invalid(path, message)));
  }
  // Values JSON cannot carry: only data built in-process (or YAML's .nan and .inf) has them.
  for (const value of [NaN, Infinity, -Infinity]) {
    test(`guests[0].cpus = ${label(value)} (data only)`, () => refuseData(withValue("guests[0].cpus", value), invalid("guests[0].cpus"), { json: false }));
  }
  const guest = (fields: string): string => `guests:\n  - { name: a, memory: 1G, bootrom: /fw, ${fields.startsWith("cpus") ? "" : "cpus: 1, "}${fields} }\n`;
  for (const [text, path] of [
    [guest("cpus: .nan"), "guests[0].cpus"],
    [guest("cpus: .inf"), "guests[0].cpus"],
    [guest("cpus: 1e400"), "guests[0].cpus"],
    [guest("start_order: -.inf"), "guests[0].start_order"],
    [guest("start_order: 0x7fffffff"), "guests[0].start_order"],
    [guest("nics: [{ tap: tap0, slot: 0x1F }]"), "guests[0].nics[0].slot"],
    [guest("nics: [{ tap: tap0, slot: 0o37 }]"), "guests[0].nics[0].slot"],
  ] as const) {
    test(`${path} in YAML: ${label(text.slice(text.lastIndexOf("/fw, ") + 5, -3))}`, () => refuseText(text, invalid(path)));
  }
});

describe("documents: memory sizes that are not sizes, or too small, or too large", () => {
  const values: ReadonlyArray<[unknown, RegExp]> = [
    ["0", /below the smallest guest/],
    ["0G", /below the smallest guest/],
    ["127M", /below the smallest guest/],
    ["131071K", /below the smallest guest/],
    [134217729, /whole number of megabytes/],
    ["134217729", /whole number of megabytes/],
    ["1.5G", /not a size/],
    ["1GB", /not a size/],
    ["1GiB", /not a size/],
    ["-1G", /not a size/],
    ["1P", /not a size/],
    ["1e9", /not a size/],
    [" 1G", /not a size/],
    ["1G ", /not a size/],
    ["0x40000000", /not a size/],
    ["", /not a size/],
    ["G", /not a size/],
    ["9999999999999999T", /not a size/],
    ["999999999999999T", /too large/],
    [-1073741824, /not a whole number of bytes/],
    [2 ** 60, /not a whole number of bytes/],
    [1.5, /not a whole number of bytes/],
    ["\u0661G", /not a size/], // an Arabic-Indic digit one
    ["\uff11G", /not a size/], // a fullwidth digit one
  ];
  for (const [value, message] of values) {
    test(`memory = ${label(value)}`, () => refuseData(withValue("guests[0].memory", value), invalid("guests[0].memory", message)));
  }
});

// ---------------------------------------------------------------------------------------------
// Names, strings and characters.

describe("documents: hostile guest names", () => {
  const names: ReadonlyArray<[string, RegExp]> = [
    ["../../etc/passwd", /not a guest name/],
    ["a/b", /not a guest name/],
    ["..", /not a guest name/],
    [".", /not a guest name/],
    [".hidden", /not a guest name/],
    ["-rf", /not a guest name/],
    ["", /not a guest name/],
    [" web1", /not a guest name/],
    ["web 1", /not a guest name/],
    ["web1;reboot", /not a guest name/],
    ["$(reboot)", /not a guest name/],
    ["web1,slot=3", /not a guest name/],
    ["x".repeat(32), /not a guest name/],
    ["x".repeat(100_000), /not a guest name/],
    ["w\u0435b1", /not a guest name/], // Cyrillic e
    ["\uff57eb1", /not a guest name/], // fullwidth w
    ["we\u0301b1", /not a guest name/], // combining accent
    ["web1\u2024", /not a guest name/], // one dot leader, a dot look-alike
    ["web1\u00a0", /not a guest name/], // no-break space
    ["web\u0000", /U\+0000, a control character/],
    ["web\n1", /U\+000A, a control character/],
    ["web\t1", /U\+0009, a control character/],
    ["web\u001b[31m", /U\+001B, a control character/],
    ["web\u007f", /U\+007F, a control character/],
    ["web\u0085", /U\+0085, a control character/],
    ["web\u202e1", /U\+202E, a bidirectional/],
    ["web\u2066x", /U\+2066, a bidirectional/],
    ["web\u200f", /U\+200F, a bidirectional/],
    ["web\u200b1", /U\+200B, a zero-width/],
    ["web\u2060", /U\+2060, a zero-width/],
    ["\ufeffweb1", /U\+FEFF, a zero-width/],
    ["web\ud800", /U\+D800, half of a UTF-16 surrogate pair/],
    ["web\udc00x", /U\+DC00, half of a UTF-16 surrogate pair/],
  ];
  for (const [name, message] of names) {
    // A lone surrogate does not survive YAML or JSON text encoding as such: data only.
    const surrogate = /[\ud800-\udfff]/.test(name);
    test(`name = ${label(name)}`, () => refuseData(withValue("guests[0].name", name), invalid("guests[0].name", message), { yaml: !surrogate }));
  }
  test("a 100000-character name is echoed cut short", () => {
    const r = checkWholeDocument(withValue("guests[0].name", `${"x".repeat(99_999)}/`));
    assert.ok(!r.ok && r.problems[0]!.message.length < 300, JSON.stringify(r).slice(0, 500));
  });
});

describe("documents: hostile interface names and enums", () => {
  const taps = ["", "0tap", "tap 0", "tap-0", "tap0/1", "t".repeat(16), "tap0\u0000", "tap\u202e0", "t\u0430p0", "../tap0"];
  for (const tap of taps) {
    test(`tap = ${label(tap)}`, () => refuseData(withValue("guests[0].nics[0].tap", tap), invalid("guests[0].nics[0].tap")));
  }
  for (const [path, value] of [["guests[0].state", "Running"], ["guests[0].state", "running "], ["guests[0].restart", "constructor"],
    ["guests[0].restart", "__proto__"], ["guests[0].disks[0].type", "toString"], ["guests[0].nics[0].model", "e1000\u200b"], ["ppt[0].bind", "live\n"]] as const) {
    test(`${path} = ${label(value)}`, () => refuseData(withValue(path, value), invalid(path)));
  }
});

// ---------------------------------------------------------------------------------------------
// PCI addresses, slots and uniqueness.

describe("documents: bad PCI addresses", () => {
  const addresses: ReadonlyArray<[string, RegExp]> = [
    ["pci1:3:0:0", /domain 1/],
    ["pci65535:3:0:0", /domain 65535/],
    ["-1/0/0", /not a PCI address/],
    ["3/-1/0", /not a PCI address/],
    ["0x3/0/0", /not a PCI address/],
    ["3/0/0/0", /not a PCI address/],
    ["3/0", /not a PCI address/],
    ["3:0.0", /not a PCI address/],
    ["0000:03:00.0", /not a PCI address/],
    ["pci0:3:0", /not a PCI address/],
    ["256/0/0", /bus 256 is out of range/],
    ["999/0/0", /bus 999 is out of range/],
    ["3/32/0", /slot 32 is out of range/],
    ["3/99/0", /slot 99 is out of range/],
    ["3/1/8", /only an ARI device at slot 0/],
    ["3/0/256", /function 256 is out of range/],
    ["99999999999999999999/0/0", /not a PCI address/],
    [" 3/0/0", /not a PCI address/],
    ["3/0/0 ", /not a PCI address/],
    ["\u0663/0/0", /not a PCI address/],
    ["3\u200b/0/0", /zero-width/],
    ["3/0/0\u0000", /control character/],
    ["", /not a PCI address/],
    ["3/0/0".repeat(10_000), /not a PCI address/],
  ];
  for (const [address, message] of addresses) {
    test(`ppt[0].device = ${label(address)}`, () => refuseData(withValue("ppt[0].device", address), invalid("ppt[0].device", message)));
  }
  for (const address of ["pci1:3:0:0", "3/32/0", "x"]) {
    test(`passthru[0].device = ${label(address)}`, () => refuseData(withValue("guests[0].passthru[0].device", address), invalid("guests[0].passthru[0].device")));
  }
  test("an ARI function above 7 as a guest function is refused at passthru function", () => {
    const doc = edited((d) => {
      d.ppt.push({ device: "5/0/9" });
      d.guests[0].passthru.push({ device: "5/0/9", slot: 7 });
    });
    refuseData(doc, invalid("guests[0].passthru[2].function", /ARI/));
  });
});

describe("documents: slots that collide, duplicates of what must be unique", () => {
  const cases: ReadonlyArray<[string, (d: Doc) => void, string, RegExp]> = [
    ["a disk on a passthru slot", (d) => (d.guests[0].disks[0].slot = 6), "guests[0].disks[0].slot", /slot 6 is already taken by passthru\[0\]/],
    ["a NIC on the disk's slot", (d) => (d.guests[0].nics[0].slot = 4), "guests[0].nics[0].slot", /already taken by disks\[0\]/],
    ["two disks on one slot", (d) => d.guests[0].disks.push({ path: "/vm/b", slot: 4 }), "guests[0].disks[1].slot", /already taken/],
    ["two passthru functions on one slot and function", (d) => (d.guests[0].passthru[1].function = 0), "guests[0].passthru[1].slot", /slot 6 function 0 is already taken/],
    ["a passthru slot without function 0", (d) => (d.guests[0].passthru = [{ device: "3/0/1", slot: 9, function: 1 }, { device: "3/0/0", slot: 8, function: 0 }]), "guests[0].passthru[0].function", /no function 0/],
    ["31 devices: no free slot", (d) => (d.guests[1].disks = Array.from({ length: 31 }, (_, i) => ({ path: `/vm/d${i}` }))), "guests[1].disks[30]", /no free guest PCI slot/],
    ["two guests of one name", (d) => (d.guests[1].name = "web1"), "guests[1].name", /duplicate guest name/],
    ["a device reserved twice", (d) => (d.ppt[1].device = "pci0:3:0:0"), "ppt[1].device", /already reserved in ppt\[0\]/],
    ["a device passed to two guests", (d) => { d.guests[0].passthru.pop(); d.guests[1].passthru = [{ device: "3/0/1", slot: 6 }]; d.guests[1].wired = true; }, "guests[1].passthru[0].device", /function of the device at 3\/0/],
    ["a function passed twice to one guest", (d) => d.guests[0].passthru.push({ device: "3/0/0", slot: 7, function: 0 }), "guests[0].passthru[2].device", /already passed to this guest/],
    ["a passthru device not reserved", (d) => (d.ppt = [d.ppt[0]]), "guests[0].passthru[1].device", /not reserved on this host/],
    ["reservations with vmm_load false", (d) => (d.host.vmm_load = false), "host.vmm_load", /must be true/],
    ["passthrough with wired false", (d) => (d.guests[0].wired = false), "guests[0].wired", /must be true/],
    ["no bootrom and no disk", (d) => (d.guests[1].disks = []), "guests[1].disks", /needs a disk/],
    ["one tap on two guests", (d) => (d.guests[1].nics[0].tap = "tap0"), "guests[1].nics[0].tap", /tap0 is already used by guest web1/],
    ["one tap twice in a guest", (d) => d.guests[0].nics.push({ tap: "tap0" }), "guests[0].nics[1].tap", /another NIC of this guest/],
    ["one MAC on two guests", (d) => (d.guests[1].nics[0].mac = "58:9c:fc:00:00:01"), "guests[1].nics[0].mac", /already used by guest web1/],
    ["one MAC in two cases", (d) => (d.guests[1].nics[0].mac = "58:9C:FC:00:00:01"), "guests[1].nics[0].mac", /already used/],
    ["one disk path twice", (d) => (d.guests[1].disks[0].path = "/dev/zvol/zroot/vm/web1"), "guests[1].disks[0].path", /two disks on one backing store/],
    ["one disk path spelt with //", (d) => (d.guests[1].disks[0].path = "/dev//zvol/zroot/vm/web1"), "guests[1].disks[0].path", /also guests\[0\]\.disks\[0\]\.path/],
    ["one disk path spelt with ./", (d) => (d.guests[1].disks[0].path = "/dev/./zvol/zroot/vm/web1/"), "guests[1].disks[0].path", /two disks/],
    ["a guest name given as a number", (d) => (d.guests[1].name = 1), "guests[1].name", /expected a string/],
    ["20 devices reserved past the loader limit", (d) => (d.ppt = Array.from({ length: 256 }, (_, i) => ({ device: `${i}/1/0` }))), "ppt", /loader variables/],
  ];
  for (const [name, edit, path, message] of cases) {
    test(name, () => refuseData(edited(edit), invalid(path, message)));
  }
});

describe("documents: bad MAC addresses", () => {
  const macs: ReadonlyArray<[string, RegExp]> = [
    ["00:00:00:00:00:00", /all-zero/],
    ["ff:ff:ff:ff:ff:ff", /broadcast/],
    ["FF:FF:FF:FF:FF:FF", /broadcast/],
    ["01:00:5e:00:00:01", /multicast/],
    ["33:33:00:00:00:01", /multicast/],
    ["03:00:00:00:00:01", /multicast/],
    ["58:9c:fc:00:00", /not a MAC address/],
    ["58:9c:fc:00:00:01:02", /not a MAC address/],
    ["58-9c-fc-00-00-01", /not a MAC address/],
    ["589cfc000001", /not a MAC address/],
    ["58:9c:fc:00:00:0g", /not a MAC address/],
    ["58:9c:fc:0:0:1", /not a MAC address/],
    ["58:9c:fc:00:00:01 ", /not a MAC address/],
    ["58:9c:fc:00:00:\uff10\uff11", /not a MAC address/],
    ["", /not a MAC address/],
  ];
  for (const [mac, message] of macs) {
    test(`mac = ${label(mac)}`, () => refuseData(withValue("guests[0].nics[0].mac", mac), invalid("guests[0].nics[0].mac", message)));
  }
});

describe("documents: host paths", () => {
  const long = `/${"a".repeat(1023)}`;
  const paths: ReadonlyArray<[string, RegExp]> = [
    ["disk.img", /not an absolute path/],
    ["./disk.img", /not an absolute path/],
    ["~/disk.img", /not an absolute path/],
    ["", /not an absolute path/],
    ["/vm/../etc/passwd", /contains "\.\."/],
    ["/..", /contains "\.\."/],
    ["/vm/a,b", /comma/],
    ["/vm/a,nocache", /comma/],
    ["/vm/a b", /white space/],
    ["/vm/a\u00a0b", /white space/],
    ["/vm/a\u3000b", /white space/],
    ["/vm/a\tb", /control character/],
    ["/vm/a\u0000b", /control character/],
    ["/vm/a\nb", /control character/],
    ["/vm/\u202egpj.exe", /bidirectional/],
    ["/vm/a\u200db", /zero-width/],
    [long, /1024 bytes long/],
    [`/${"\u00e9".repeat(600)}`, /1201 bytes long/],
    [`/${"a".repeat(100_000)}`, /bytes long/],
  ];
  for (const [path, message] of paths) {
    test(`disk path = ${label(path)}`, () => refuseData(withValue("guests[0].disks[0].path", path), invalid("guests[0].disks[0].path", message)));
  }
  for (const path of ["relative.fd", "/fw,x", "/fw/../x", long]) {
    test(`bootrom = ${label(path)}`, () => refuseData(withValue("guests[0].bootrom", path), invalid("guests[0].bootrom")));
    test(`rom = ${label(path)}`, () => refuseData(withValue("guests[0].passthru[0].rom", path), invalid("guests[0].passthru[0].rom")));
  }
  test("a path of 1023 bytes is the longest accepted", () => {
    assert.ok(checkWholeDocument(withValue("guests[0].disks[0].path", `/${"a".repeat(1022)}`)).ok);
  });
});

// ---------------------------------------------------------------------------------------------
// Keys.

describe("documents: unknown keys, including inherited property names", () => {
  const keys: ReadonlyArray<[string, string]> = [
    ["", "guest"],
    ["", "Guests"],
    ["", "constructor"],
    ["", "toString"],
    ["", "hasOwnProperty"],
    ["host", "vmm-load"],
    ["host", "__proto__"],
    ["ppt[0]", "prototype"],
    ["guests[0]", "memory_mb"],
    ["guests[0]", "valueOf"],
    ["guests[0]", "Name"],
    ["guests[0].disks[0]", "readonly"],
    ["guests[0].nics[0]", "vlan"],
    ["guests[0].passthru[0]", "bar"],
  ];
  for (const [parent, key] of keys) {
    const path = parent ? `${parent}.${key}` : key;
    test(`${path}`, () => {
      const doc = clone(BASE) as Doc;
      let node: any = doc;
      if (parent) for (const p of steps(parent)) node = node[p];
      // __proto__ as an own key, as JSON.parse and the YAML parser make it.
      Object.defineProperty(node, key, { value: 1, enumerable: true, configurable: true, writable: true });
      refuseData(doc, invalid(path, /unknown key/), { yaml: key !== "__proto__" });
      if (key === "__proto__") refuseText(`${JSON.stringify(doc).replace('"__proto__":1', '"__proto__":{"vmm_load":false}')}`, invalid(path, /unknown key/));
    });
  }
  test("a key with control and bidirectional characters is echoed escaped", () => {
    refuseText('{"guests": [], "x\\u0000\\u202ey": 1}', invalid("x\\u0000\\u202ey", /unknown key/));
  });
  test("a 10000-character key is echoed cut short", () => {
    const r = checkDocumentText(`${"k".repeat(10_000)}: 1\n`);
    assert.ok(!r.ok && r.problems[0]!.path.length < 120, JSON.stringify(r).slice(0, 300));
  });
  test("a YAML __proto__ key does not reach the prototype", () => {
    refuseText("__proto__: { guests: [] }\n", invalid("__proto__", /unknown key/));
  });
  test("a list as a YAML key", () => refuseText("? [a, b]\n: 1\nguests: []\n", invalid("line 1, column 3", /a key is a list or a mapping/)));
  test("a mapping as a YAML key", () => refuseText("guests: []\n{ a: 1 }: x\n", invalid("line 2, column 1", /a key is a list or a mapping/)));
  test("a list as a key inside a guest", () => refuseText("guests:\n  - name: a\n    ? { cpus: 1 }\n    : 1\n", invalid("line 3, column 7", /a key is a list or a mapping/)));
  test("a key given twice", () => refuseText("guests: []\nguests: []\n", invalid("line 2, column 1", /unique/)));
  test("a key given twice in JSON", () => refuseText('{"guests": [], "guests": [{"name": "x"}]}', invalid("line 1, column 16", /unique/)));
  test("1 and '1' are one key", () => refuseText("host: { 1: a, '1': b }\n", invalid("line 1, column 15", /unique/)));
});

// ---------------------------------------------------------------------------------------------
// YAML features: tags, anchors and aliases, several documents.

describe("documents: YAML tags outside the core schema", () => {
  const tagged: ReadonlyArray<[string, string]> = [
    ["guests: !foo []\n", "guests"],
    ["guests:\n  - name: !!python/object:os.system web1\n    cpus: 1\n    memory: 1G\n", "guests[0].name"],
    ["guests:\n  - { name: !!binary d2ViMQ==, cpus: 1, memory: 1G }\n", "guests[0].name"],
    ["guests: !!set { a, b }\n", "guests"],
    ["guests: !!omap [ a: 1 ]\n", "guests"],
    ["guests: !!pairs [ a: 1 ]\n", "guests"],
    ["host: { vmm_load: !!timestamp 2001-12-14 }\n", "host.vmm_load"],
    ["!custom guests: []\n", "document"],
    ["%TAG !e! tag:example.com,2000:\n---\nguests: !e!thing []\n", "guests"],
    ["guests: !<tag:example.com,2000:x> []\n", "guests"],
    ["--- !doc\nguests: []\n", "line 2, column 1"],
  ];
  for (const [text, path] of tagged) {
    test(label(text), () => refuseText(text, invalid(path, /YAML tag/)));
  }
});

describe("documents: anchors and aliases", () => {
  const laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  test("a billion laughs", () => refuseText(`${laughs.join("\n")}\nguests: []\n`, invalid("document", /alias/i)));
  test("laughs inside a guest", () => {
    refuseText(`guests:\n  - &g { name: a, cpus: 1, memory: 1G, bootrom: /fw, disks: &d [${Array(8).fill("{ path: /a }").join(", ")}] }\n${Array.from({ length: 120 }, () => "  - *g").join("\n")}\n`, invalid("document", /alias/i));
  });
  test("an alias to an anchor that does not exist", () => refuseText("guests: *nothing\n", invalid("document", /Unresolved alias/)));
  test("an alias ending in a colon", () => refuseText("a: &x: 1\nguests: [*x:]\n", invalid("line 1, column 6", /ambiguous/)));
  test("a list that contains itself", () => refuseText("guests: &a [*a]\n", { code: "E_TOO_DEEP", path: "document" }));
  test("a mapping that contains itself", () => refuseText("host: &h { x: *h }\n", { code: "E_TOO_DEEP", path: "document" }));
  test("an alias used as a key", () => refuseText("a: &k guests\n*k : []\n", invalid("a", /unknown key/)));
  test("a merge key is not merged (YAML 1.2)", () => refuseText("base: &b { name: a }\nguests:\n  - <<: *b\n    cpus: 1\n    memory: 1G\n", invalid("base", /unknown key/)));
  test("data that contains itself (in-process)", () => {
    const doc: Doc = { guests: [] };
    doc.guests.push(doc);
    assertRefused(checkWholeDocument(doc), { code: "E_TOO_DEEP", path: "document" }, "cyclic data");
  });
});

describe("documents: nesting too deep", () => {
  const deepJson = (n: number): string => `{"guests": ${"[".repeat(n)}${"]".repeat(n)}}`;
  const cases: ReadonlyArray<[string, string]> = [
    ["65 flow lists", `guests: ${"[".repeat(65)}${"]".repeat(65)}\n`],
    ["20000 flow lists", `guests: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`],
    ["20000 flow lists, never closed", `guests: ${"[".repeat(20_000)}\n`],
    ["10000 flow mappings", `${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}\n`],
    ["JSON of 70 lists", deepJson(70)],
    ["JSON of 10000 objects", `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`],
    ["block lists 10000 deep", `${"- ".repeat(10_000)}x\n`],
    ["block mappings 100 deep", Array.from({ length: 100 }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n") + " 1\n"],
    ["deep inside a guest's disks", `guests:\n  - { name: a, cpus: 1, memory: 1G, disks: ${"[".repeat(80)}${"]".repeat(80)} }\n`],
  ];
  for (const [name, text] of cases) test(name, () => refuseText(text, { code: "E_TOO_DEEP", path: "document" }));
  test("data nested 100 deep (in-process)", () => {
    let deep: unknown = [];
    for (let i = 0; i < 100; i++) deep = [deep];
    refuseData({ guests: deep } as Doc, { code: "E_TOO_DEEP", path: "document" }, { yaml: false });
  });
});

// ---------------------------------------------------------------------------------------------
// Blank, not a mapping, more than one document, syntax.

describe("documents: blank documents are never read as 'remove everything'", () => {
  const blanks = ["", " ", "\n\n\n", "\t\n", "# nothing\n", "#", "null", "Null", "NULL", "~", "---", "---\n...\n", "--- # c\n", "{}", "{ }",
    "guests:", "guests: ~", "guests: null\nppt: ~\nhost:\n", "# guests:\n#   - name: a\n", "\ufeff", "\ufeff# c\n", "\r\n\r\n"];
  for (const text of blanks) test(label(text), () => refuseText(text, { code: "E_EMPTY_DOCUMENT", path: "document" }));
  for (const data of [null, undefined, {}, { guests: null }, { host: null, ppt: null }]) {
    test(`data ${label(data)}`, () => assertRefused(checkWholeDocument(data), { code: "E_EMPTY_DOCUMENT", path: "document" }, "data"));
  }
});

describe("documents: not a mapping at the top", () => {
  for (const text of ["[]", "[1, 2]", "- guests: []\n", "42", "true", "'guests'", '"{}"', "|\n  guests: []\n", "0x10", "-.inf"]) {
    test(label(text), () => refuseText(text, invalid("document", /expected a mapping/)));
  }
});

describe("documents: syntax errors and more than one document", () => {
  const cases: ReadonlyArray<[string, string]> = [
    ["guests: [\n", "line 2, column 1"],
    ["guests: [a, b\n", "line 2, column 1"],
    ["guests: 'open\n", "line 2, column 1"],
    ['{"guests": [}', "line 1, column 13"],
    ["guests: []\n---\nguests: []\n", "line 2, column 1"],
    ["guests: []\n---\n", "line 2, column 1"],
    ["guests: []\n...\nppt: []\n", "line 3, column 1"],
    ["guests:\n\t- name: a\n", "line 2, column 1"],
    ["guests: a: b\n", "line 1, column 9"],
    ["guests: [] ]\n", "line 1, column 12"],
    ["%YAML 9.9\n---\nguests: []\n", "line 1, column 1"],
    ["%YAML 1.1\n---\nhost: { vmm_load: yes }\nguests: []\n", "line 1, column 1"],
    ["%YAML 1.1\n---\nguests:\n  - &b { name: a, cpus: 1, memory: 1G, bootrom: /fw }\n  - <<: *b\n    name: b\n", "line 1, column 1"],
    ["guests: []\n%YAML 1.1\n---\nppt: []\n", "line 2, column 1"],
    ["%FOO bar\n---\nguests: []\n", "line 1, column 1"],
    ["guests: @x\n", "line 1, column 9"],
  ];
  for (const [text, path] of cases) test(label(text), () => refuseText(text, invalid(path)));
});

test("documents: %YAML 1.2 and %TAG directives are still taken", () => {
  assert.ok(checkDocumentText("%YAML 1.2\n---\nguests: []\n").ok);
  assert.ok(checkDocumentText("%TAG !c! tag:yaml.org,2002:\n---\nguests: !c!seq []\n").ok);
});

describe("documents: forbidden characters outside values", () => {
  const cases: ReadonlyArray<[string, string, RegExp]> = [
    ["# \u202e comment\nguests: []\n", "line 1, column 3", /a comment contains U\+202E/],
    ["guests: [] # \u200b\n", "line 1, column 14", /U\+200B/],
    ["guests: &a\u200bb []\n", "line 1, column 11", /U\+200B/],
    ["guests: []\n\ufeffppt: []\n", "\\ufeffppt", /unknown key/],
    ["guests: []\n# \ufeff\n", "line 2, column 3", /U\+FEFF/],
    ["guests:\u0085[]\n", "document", /expected a mapping, got the string "guests:\\u0085\[\]"/],
    ["guests: []\u000b\n", "line 1, column 11", /Unexpected scalar/],
    ["guests: []\u0000\n", "line 1, column 11", /Unexpected scalar/],
  ];
  for (const [text, path, message] of cases) test(label(text), () => refuseText(text, invalid(path, message)));
});

// ---------------------------------------------------------------------------------------------
// Size and encoding.

describe("documents: too large", () => {
  const big = `guests: []\n# ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`;
  test("text over 1 MiB", () => refuseText(big, { code: "E_TOO_LARGE", path: "document" }));
  test("text under 1 MiB in characters, over it in UTF-8 bytes", () => refuseText(`guests: []\n# ${"\u20ac".repeat(400_000)}\n`, { code: "E_TOO_LARGE", path: "document" }));
  test("bytes over 1 MiB", () => refuseBytes(Buffer.from(big), { code: "E_TOO_LARGE", path: "document" }));
  test("a data document of 5000 bad guests still reports at most 50 problems", () => {
    const doc = { guests: Array.from({ length: 5_000 }, (_, i) => ({ name: `../${i}`, cpus: 0, memory: "1" })) };
    const r = checkWholeDocument(doc);
    assert.ok(!r.ok);
    assertThrowsSpec(doc, { code: "E_SPEC_INVALID", path: "guests[0].name" }, "5000 bad guests");
    const text = JSON.stringify(doc);
    assert.ok(text.length < MAX_DOCUMENT_BYTES);
    refuseText(text, invalid("guests[0].name"));
  });
  test("a mapping of 10000 keys is refused in time, one line per key at most 50", () => {
    const text = `${Array.from({ length: 10_000 }, (_, i) => `k${i}: 1`).join("\n")}\n`;
    refuseText(text, invalid("k0", /unknown key/));
  });
  test("10000 repeated keys", () => refuseText(`${"guests: []\n".repeat(10_000)}`, invalid("line 2, column 1", /unique/)));
});

describe("documents: bytes that are not UTF-8", () => {
  const cases: ReadonlyArray<[string, number[], RegExp]> = [
    ["0xff in a disk path", [...Buffer.from("guests:\n  - { name: a, cpus: 1, memory: 1G, disks: [{ path: /vm/a"), 0xff, ...Buffer.from(" }] }\n")], /byte 65 \(line 2\) is 0xff/],
    ["a lone continuation byte", [0x80], /byte 0 .* 0x80/],
    ["an overlong slash", [...Buffer.from("guests: []\n# "), 0xc0, 0xaf], /0xc0/],
    ["an overlong three-byte form", [0xe0, 0x80, 0xaf], /0xe0/],
    ["a UTF-16 surrogate in UTF-8", [...Buffer.from("x: "), 0xed, 0xa0, 0x80], /byte 3 .* 0xed/],
    ["above U+10FFFF", [0xf4, 0x90, 0x80, 0x80], /0xf4/],
    ["0xf5", [0xf5, 0x80, 0x80, 0x80], /0xf5/],
    ["a sequence cut short at the end", [...Buffer.from("guests: []\n# \u20ac").subarray(0, 15)], /0xe2/],
    ["UTF-16 LE with its byte order mark", [0xff, 0xfe, ...Buffer.from("guests: []\n", "utf16le")], /byte 0 .* 0xff/],
    ["Latin-1 text", [...Buffer.from("guests: [] # caf"), 0xe9, 0x0a], /0xe9/],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, () => refuseBytes(Uint8Array.from(bytes), { code: "E_ENCODING", path: "document", message }));
  }
  test("a UTF-8 byte order mark then a NUL in a value", () => {
    refuseBytes(Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('guests: [{ name: "a\\0", cpus: 1, memory: 1G }]\n')]), invalid("guests[0].name", /U\+0000/));
  });
});

describe("hostile managed disks and cloud-init: each refused at its field, nothing reaches zfs or makefs", () => {
  const zvol = (d: Record<string, unknown>) => edited((doc) => (doc.guests[1].disks = [d]));
  const cases: ReadonlyArray<[string, Doc, string, RegExp]> = [
    ["a dataset that reads as an option", zvol({ zvol: "-o/x", size: "1G" }), "guests[1].disks[0].zvol", /pool name starts with a letter/],
    ["a dataset with a snapshot delimiter", zvol({ zvol: "zroot/vm/x@s", size: "1G" }), "guests[1].disks[0].zvol", /letters, digits and _ \. : - only/],
    ["a dataset with a space", zvol({ zvol: "zroot/vm/a b", size: "1G" }), "guests[1].disks[0].zvol", /white space/],
    ["a dataset climbing up", zvol({ zvol: "zroot/../etc", size: "1G" }), "guests[1].disks[0].zvol", /component "\.\."/],
    ["a dataset of 300 bytes", zvol({ zvol: `zroot/${"a".repeat(300)}`, size: "1G" }), "guests[1].disks[0].zvol", /longer than 255 bytes/],
    ["a dataset with a bidi override", zvol({ zvol: "zroot/vm/\u202ex", size: "1G" }), "guests[1].disks[0].zvol", /U\+202E/],
    ["a clone source that reads as an option", zvol({ zvol: "zroot/vm/x", clone: "-x@s" }), "guests[1].disks[0].clone", /"-x" is a pool, not a dataset/],
    ["a clone source with two snapshots", zvol({ zvol: "zroot/vm/x", clone: "zroot/i@a@b" }), "guests[1].disks[0].clone", /is not a snapshot/],
    ["a negative size", zvol({ zvol: "zroot/vm/x", size: -1 }), "guests[1].disks[0].size", /not a whole number of bytes/],
    ["a size in exponent form", zvol({ zvol: "zroot/vm/x", size: "1e12" }), "guests[1].disks[0].size", /is not a size/],
    ["a size as a list", zvol({ zvol: "zroot/vm/x", size: ["1G"] }), "guests[1].disks[0].size", /expected a size/],
    ["a file with a comma (a bhyve option)", zvol({ file: "/vm/a,ro.img", size: "1G" }), "guests[1].disks[0].file", /comma/],
    ["a relative file", zvol({ file: "vm/a.img", size: "1G" }), "guests[1].disks[0].file", /not an absolute path/],
    ["on_delete not a word it knows", zvol({ zvol: "zroot/vm/x", size: "1G", on_delete: "rm -rf" }), "guests[1].disks[0].on_delete", /expected one of keep, destroy/],
    ["user-data with a NUL", edited((d) => (d.guests[1].cloud_init = { user_data: "#!/bin/sh\n\u0000rm\n" })), "guests[1].cloud_init.user_data", /U\+0000/],
    ["user-data with a bidi override", edited((d) => (d.guests[1].cloud_init = { user_data: "#cloud-config\nruncmd: [\u202e]\n" })), "guests[1].cloud_init.user_data", /U\+202E/],
    ["user-data not text", edited((d) => (d.guests[1].cloud_init = { user_data: { runcmd: ["x"] } })), "guests[1].cloud_init.user_data", /expected a string/],
    ["meta-data YAML with an alias bomb", edited((d) => (d.guests[1].cloud_init = { user_data: "#!/bin/sh\n", meta_data: `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n` })), "guests[1].cloud_init.meta_data", /^is not usable YAML: Excessive alias count/],
  ];
  for (const [what, doc, path, message] of cases) {
    test(what, () => {
      assertRefused(checkWholeDocument(doc), { code: "E_SPEC_INVALID", path, message }, what);
    });
  }
});
