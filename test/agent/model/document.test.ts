import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { checkDocumentData, checkDocumentText, documentHash, formatProblems, MAX_DOCUMENT_BYTES, parseDocumentText, toDocument } from "../../../agent/model/index.js";
import { repoPath } from "../../support/helpers.js";

const EXAMPLE = readFileSync(repoPath("examples/gpu-host/host.yaml"), "utf8");

test("YAML syntax errors name the line and column", () => {
  const r = parseDocumentText("guests:\n  - name: a\n    cpus: [1,\n");
  assert.ok(!r.ok);
  assert.match(r.problems[0]!.path, /^line \d+, column \d+$/);
});

test("duplicate keys are refused", () => {
  const r = checkDocumentText("host:\n  vmm_load: true\n  vmm_load: false\n");
  assert.ok(!r.ok);
  assert.equal(r.problems[0]!.path, "line 3, column 3");
  assert.match(r.problems[0]!.message, /unique/);
});

test("several YAML documents in one file are refused", () => {
  const r = parseDocumentText("host: {}\n---\nhost: {}\n");
  assert.ok(!r.ok);
});

test("YAML 1.2: hex ids work, yes/no are strings", () => {
  const r = checkDocumentText("ppt:\n  - { device: 3/0/0, vendor_id: 0x10de }\n");
  assert.ok(r.ok);
  assert.equal(r.state.ppt[0]!.vendorId, 0x10de);
  const y = checkDocumentText("host: { vmm_load: yes }\n");
  assert.ok(!y.ok);
  assert.equal(formatProblems(y.problems), 'host.vmm_load: expected true or false, got the string "yes"');
});

test("JSON documents decode like YAML", () => {
  const fromYaml = checkDocumentText(EXAMPLE);
  assert.ok(fromYaml.ok);
  const json = JSON.stringify(toDocument(fromYaml.state));
  const fromJson = checkDocumentText(json);
  assert.ok(fromJson.ok);
  assert.deepEqual(fromJson.state, fromYaml.state);
});

test("toDocument round-trips: decoding the canonical document gives the same state", () => {
  const r = checkDocumentText(EXAMPLE);
  assert.ok(r.ok);
  const again = checkDocumentData(toDocument(r.state));
  assert.ok(again.ok);
  assert.deepEqual(again.state, r.state);
  assert.deepEqual(toDocument(again.state), toDocument(r.state));
});

test("documents over the size limit are refused before parsing", () => {
  const r = parseDocumentText(`# ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`);
  assert.ok(!r.ok);
  assert.match(r.problems[0]!.message, /larger than/);
});

test("an alias bomb is refused, not expanded", () => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 12; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
  const r = parseDocumentText(levels.join("\n"));
  assert.ok(!r.ok);
});

test("documentHash: the same meaning hashes the same, any change hashes differently", () => {
  const state = (data: unknown) => {
    const r = checkDocumentData(data);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    return r.state;
  };
  const short = state({ ppt: [{ device: "3/0/0" }], guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: "/fw", passthru: [{ device: "3/0/0", slot: 6 }] }] });
  const long = state({ host: { vmm_load: true }, ppt: [{ device: "pci0:3:0:0", bind: "boot" }], guests: [{ name: "g", cpus: 1, memory: 1073741824, bootrom: "/fw", wired: true, state: "running", passthru: [{ device: "3/0/0", slot: 6, function: 0 }] }] });
  assert.match(documentHash(short), /^[0-9a-f]{64}$/);
  assert.equal(documentHash(short), documentHash(long));
  const more = state({ ppt: [{ device: "3/0/0" }], guests: [{ name: "g", cpus: 2, memory: "1G", bootrom: "/fw", passthru: [{ device: "3/0/0", slot: 6 }] }] });
  assert.notEqual(documentHash(more), documentHash(short));
});
