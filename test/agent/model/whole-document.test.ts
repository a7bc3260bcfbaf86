import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDocumentData, checkDocumentText, checkWholeDocument, decodeDocumentBytes, decodeWholeDocument, formatProblems, MAX_DOCUMENT_BYTES, parseDocumentText, type CheckResult } from "../../../agent/model/index.js";
import { isProblemsError } from "../../../agent/model/errors.js";

const GUEST = "{ name: a, cpus: 1, memory: 1G, bootrom: /fw }";
const lines = (r: CheckResult): string[] => (r.ok ? [] : formatProblems(r.problems).split("\n"));
const codeOf = (r: CheckResult): string | undefined => (r.ok ? undefined : (r.code ?? "E_SPEC_INVALID"));

test("blank documents are refused with E_EMPTY_DOCUMENT, saying how to ask for no guests", () => {
  for (const text of ["", "   \n\t\n", "# nothing yet\n# at all\n", "null", "~\n", "---\n...\n", " null ", "{}", "{ }\n", "guests:\n", "guests: ~\nppt: null\n"]) {
    const r = checkDocumentText(text);
    assert.equal(codeOf(r), "E_EMPTY_DOCUMENT", JSON.stringify(text));
    assert.deepEqual(lines(r), ["document: is empty, so applying it would remove every guest and reservation the host has; " +
      "to ask for a host with no guests, write an explicit `guests: []`"]);
  }
  for (const data of [undefined, null, {}, { guests: null }]) assert.equal(codeOf(checkWholeDocument(data)), "E_EMPTY_DOCUMENT");
});

test("a document with any known key keeps working, and so do the parts the agent builds itself", () => {
  for (const text of ["guests: []\n", "ppt: []\n", "host: { vmm_load: true }\n", "host: {}\n", JSON.stringify({ guests: [] }), `guests:\n  - ${GUEST}\n`]) {
    assert.ok(checkDocumentText(text).ok, text);
  }
  assert.ok(checkWholeDocument({ host: {} }).ok);
  // Not whole documents: built by the agent from an RPC item or from defaults.
  assert.ok(checkDocumentData({}).ok);
  assert.ok(checkDocumentData({ ppt: [{ device: "3/0/0" }] }).ok);
  assert.ok(checkDocumentData({ host: { vmm_load: false } }).ok);
  // Unknown keys alone are not "blank": they are reported as what they are.
  assert.deepEqual(lines(checkDocumentText("guest: []\n")), ["guest: unknown key; expected one of: host, ppt, switches, guests"]);
});

test("decodeWholeDocument (host.apply): text or data, a SpecError with the check's code", () => {
  assert.equal(decodeWholeDocument({ guests: [] }).guests.length, 0);
  assert.equal(decodeWholeDocument(`guests:\n  - ${GUEST}\n`).guests[0]!.name, "a");
  for (const blank of ["", "# x\n", "null", {}, { guests: null }] as const) {
    assert.throws(() => decodeWholeDocument(blank), (err: unknown) => isProblemsError(err) && err.code === "E_EMPTY_DOCUMENT" && /guests: \[\]/.test(err.message));
  }
  assert.throws(() => decodeWholeDocument({ guests: [{ name: "a" }] }), (err: unknown) => isProblemsError(err) && err.code === "E_SPEC_INVALID");
  let deep: unknown = [];
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.throws(() => decodeWholeDocument({ guests: deep as unknown[] }), (err: unknown) => isProblemsError(err) && err.code === "E_TOO_DEEP");
  assert.throws(() => decodeWholeDocument(`guests: ${"[".repeat(100)}${"]".repeat(100)}`), (err: unknown) => isProblemsError(err) && err.code === "E_TOO_DEEP");
});

test("nesting deeper than 64 levels is refused cleanly, in YAML flow, YAML block and JSON", () => {
  const tooDeep = [
    `guests: ${"[".repeat(64)}${"]".repeat(64)}`,
    `guests: ${"[".repeat(200_000)}${"]".repeat(200_000)}`,
    `${"- ".repeat(200_000)}x\n`,
    `${"{a: ".repeat(100_000)}1${"}".repeat(100_000)}`,
    Array.from({ length: 70 }, (_, i) => `${" ".repeat(i)}a:\n`).join(""),
    JSON.stringify({ guests: [] }).replace("[]", `${"[".repeat(300_000)}${"]".repeat(300_000)}`),
  ];
  for (const text of tooDeep) {
    const r = checkDocumentText(text);
    assert.equal(codeOf(r), "E_TOO_DEEP", text.slice(0, 40));
    assert.deepEqual(lines(r), ["document: nests mappings and lists deeper than 64 levels"]);
  }
  // 64 levels is within the limit: the document is then judged on its fields.
  const atLimit = checkDocumentText(`guests: ${"[".repeat(63)}${"]".repeat(63)}`);
  assert.equal(codeOf(atLimit), "E_SPEC_INVALID");
  assert.deepEqual(lines(atLimit), ["guests[0]: expected a mapping, got a list"]);
});

test("aliases cannot build nesting past the limit", () => {
  const text = `host: &deep ${"[".repeat(40)}${"]".repeat(40)}\nguests: ${"[".repeat(30)}*deep${"]".repeat(30)}\n`;
  const r = checkDocumentText(text);
  assert.equal(codeOf(r), "E_TOO_DEEP");
});

test("unknown YAML tags are refused, naming the field; core schema tags are fine", () => {
  assert.deepEqual(lines(checkDocumentText("guests: !foo []\n")), ["guests: has the YAML tag !foo, which is not a core schema type; remove the tag"]);
  assert.deepEqual(lines(checkDocumentText("guests:\n  - name: !!python/object:os.system a\n")),
    ["guests[0].name: has the YAML tag !!python/object:os.system, which is not a core schema type; remove the tag"]);
  assert.deepEqual(lines(checkDocumentText("guests:\n  - { name: a, cpus: 1, memory: 1G, bootrom: !!binary L2Z3 }\n")),
    ["guests[0].bootrom: has the YAML tag !!binary, which is not a core schema type; remove the tag"]);
  assert.deepEqual(lines(checkDocumentText("%TAG !e! tag:example.com,2000:\n---\nguests: !e!x []\n")),
    ["guests: has the YAML tag tag:example.com,2000:x, which is not a core schema type; remove the tag"]);
  assert.equal(codeOf(checkDocumentText("guests: !!set { a }\n")), "E_SPEC_INVALID");
  const core = checkDocumentText("guests: !!seq\n  - !!map { name: !!str a, cpus: !!int 1, memory: ! 1G, bootrom: /fw, wired: !!bool false, start_order: !!int 0x10 }\nppt: !!null\n");
  assert.ok(core.ok, lines(core).join("\n"));
  assert.equal(core.state.guests[0]!.startOrder, 16);
});

test("control, bidirectional and zero-width characters: in values named by field, elsewhere by line and column", () => {
  const guest = (name: string): string => `guests:\n  - { name: ${name}, cpus: 1, memory: 1G, bootrom: /fw }\n`;
  assert.deepEqual(lines(checkDocumentText(guest('"a\u202eb"'))),
    ["guests[0].name: contains U+202E, a bidirectional formatting character, which can make text display other than it reads; remove it"]);
  // Written as escapes, the same characters are refused the same way.
  assert.deepEqual(lines(checkDocumentText(guest('"a\\u200bb"'))),
    ["guests[0].name: contains U+200B, a zero-width character, which makes two different values look the same; remove it"]);
  assert.deepEqual(lines(checkDocumentText(guest('"a\\tb"'))), ["guests[0].name: contains U+0009, a control character; remove it"]);
  assert.deepEqual(lines(checkDocumentText(guest("a\u0000b"))), ["guests[0].name: contains U+0000, a control character; remove it"]);
  assert.deepEqual(lines(checkDocumentText(guest("a\ufeffb"))),
    ["guests[0].name: contains U+FEFF, a zero-width character, which makes two different values look the same; remove it"]);
  // A key with one is an unknown key, shown escaped.
  assert.deepEqual(lines(checkDocumentText("guests: []\nho\u202est: {}\n")), ["ho\\u202est: unknown key; expected one of: host, ppt, switches, guests"]);
  // In a comment ("Trojan source"), by line and column.
  assert.deepEqual(lines(checkDocumentText("# fine\nguests: [] # evil \u2066here\u2069\n")),
    ["line 2, column 19: a comment contains U+2066, a bidirectional formatting character, which can make text display other than it reads; remove it"]);
  assert.deepEqual(lines(checkDocumentText("guests: []\n# \u0000\n")), ["line 2, column 3: a comment contains U+0000, a control character; remove it"]);
  // Tabs and CR LF line ends between tokens and in comments are syntax, not values.
  assert.ok(checkDocumentText("guests: []\t# a\tcomment\r\nppt: []\r\n").ok);
  // Data sent as an object (host.apply, guest.put) is checked the same way.
  assert.deepEqual(lines(checkDocumentData({ guests: [{ name: "a", cpus: 1, memory: "1G", bootrom: "/fw\u0007", disks: [{ path: "/dev/zvol/a" }] }] })),
    ["guests[0].bootrom: contains U+0007, a control character; remove it"]);
  assert.deepEqual(lines(checkDocumentData({ ppt: [{ device: "3/0/0\u200d" }] })),
    ["ppt[0].device: contains U+200D, a zero-width character, which makes two different values look the same; remove it"]);
  // Values of the wrong type are echoed escaped.
  assert.deepEqual(lines(checkDocumentData({ guests: ["y\u202ees"] })), ['guests[0]: expected a mapping, got the string "y\\u202ees"']);
});

test("a leading byte order mark is accepted (and dropped); anywhere else it is refused", () => {
  assert.ok(checkDocumentText("\ufeffguests: []\n").ok);
  const bytes = decodeDocumentBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from("guests: []\n")]));
  assert.ok(bytes.ok);
  assert.equal(bytes.text, "guests: []\n");
  assert.ok(checkDocumentText(bytes.text).ok);
  assert.equal(codeOf(checkDocumentText(`guests:\n  - { name: "a\ufeff", cpus: 1, memory: 1G, bootrom: /fw }\n`)), "E_SPEC_INVALID");
});

test("decodeDocumentBytes: UTF-8 only, at most MAX_DOCUMENT_BYTES", () => {
  const bad = decodeDocumentBytes(Buffer.concat([Buffer.from("guests: []\n# caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
  assert.ok(!bad.ok);
  assert.equal(bad.code, "E_ENCODING");
  assert.equal(formatProblems(bad.problems), "document: is not UTF-8 text: byte 16 (line 2) is 0xe9, which does not start a valid UTF-8 sequence");
  for (const seq of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]) {
    const r = decodeDocumentBytes(new Uint8Array([0x61, ...seq]));
    assert.ok(!r.ok && r.code === "E_ENCODING" && /byte 1 /.test(r.problems[0]!.message), JSON.stringify(seq));
  }
  assert.ok(decodeDocumentBytes(Buffer.from("name: 日本 😀\n")).ok);
  const big = decodeDocumentBytes(new Uint8Array(MAX_DOCUMENT_BYTES + 1));
  assert.ok(!big.ok && big.code === "E_TOO_LARGE");
});

test("parse refusals carry their code", () => {
  const syntax = parseDocumentText("guests: [\n");
  assert.ok(!syntax.ok && syntax.code === "E_SPEC_INVALID");
  const large = parseDocumentText(`# ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`);
  assert.ok(!large.ok && large.code === "E_TOO_LARGE");
  const two = parseDocumentText("guests: []\n---\nguests: []\n");
  assert.ok(!two.ok);
  assert.deepEqual(two.problems, [{ path: "line 2, column 1", message: "a second YAML document starts here; write one document" }]);
});

test("duplicate keys: found with a set per mapping, reported at the repeated key, in document order", { timeout: 120_000 }, () => {
  assert.deepEqual(lines(checkDocumentText("guests:\n  - name: a\n    cpus: 1\n    name: b\n  - { name: c, 'name': d }\nhost: {}\nhost: {}\n")), [
    "line 4, column 5: Map keys must be unique",
    "line 5, column 16: Map keys must be unique",
    "line 7, column 1: Map keys must be unique",
  ]);
  // 1 and "1" become one property of plain data: the same key. Two tags come in document order.
  assert.deepEqual(lines(checkDocumentText("host: { 1: a, '1': b }\n")), ["line 1, column 15: Map keys must be unique"]);
  assert.deepEqual(lines(checkDocumentText("ppt: !a []\nguests: !b []\n")).map((l) => l.split(":")[0]), ["ppt", "guests"]);
  // A mapping of 70,000 keys (about 1 MB): every key is compared once, not with every other key.
  const many = `guests:\n  - name: a\n${Array.from({ length: 70_000 }, (_, i) => `    k${i}: 1\n`).join("")}    k5: 2\n`;
  const r = checkDocumentText(many);
  assert.deepEqual(lines(r), [`line ${70_003}, column 5: Map keys must be unique`]);
});

test("long keys and values are echoed cut short", () => {
  assert.deepEqual(lines(checkDocumentData({ guests: [], ["k".repeat(5000)]: 1 })), [`${"k".repeat(100)}...: unknown key; expected one of: host, ppt, switches, guests`]);
  assert.deepEqual(lines(checkDocumentData({ guests: [{ name: "n".repeat(5000), cpus: 1, memory: "1G", bootrom: "/fw" }] })),
    [`guests[0].name: "${"n".repeat(100)}... (5000 characters)" is not a guest name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit`]);
});
