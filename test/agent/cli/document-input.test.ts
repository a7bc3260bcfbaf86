import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { applyCommand } from "../../../agent/cli/apply.js";
import { readInput } from "../../../agent/cli/read-input.js";
import { renderCommand } from "../../../agent/cli/render.js";
import { validateCommand } from "../../../agent/cli/validate.js";
import { MAX_DOCUMENT_BYTES } from "../../../agent/model/index.js";
import { runBin } from "../../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "bhyve-doc-input-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const noStack = (s: string): void => assert.ok(!/^\s+at /m.test(s) && !/internal error|call stack/i.test(s), `a stack or internal error was printed:\n${s}`);

const EMPTY = "document: is empty, so applying it would remove every guest and reservation the host has; " +
  "to ask for a host with no guests, write an explicit `guests: []`\n";

test("blank documents: validate, render and apply refuse them with E_EMPTY_DOCUMENT, changing nothing", async () => {
  const root = mkdtempSync(join(dir, "root-"));
  for (const [name, text] of [["empty.yaml", ""], ["space.yaml", " \n\n"], ["comments.yaml", "# guests:\n#   - name: a\n"], ["null.yaml", "null\n"],
    ["tilde.yaml", "~"], ["null.json", "null"], ["map.json", "{}"], ["guests.yaml", "guests:\n  # - { name: a }\n"]] as const) {
    const path = file(name, text);
    // Each command through the built CLI for a few of them, all of them in-process (same code, with the error code).
    for (const args of ["empty.yaml", "comments.yaml", "map.json"].includes(name) ? [["validate", path], ["render", path], ["apply", path, "--root", root]] : []) {
      const r = runBin("bhyve-agent", args);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, EMPTY, args.join(" "));
    }
    const isEmpty = { code: "E_EMPTY_DOCUMENT", message: EMPTY.trimEnd() };
    await assert.rejects(validateCommand([path]), isEmpty);
    await assert.rejects(renderCommand([path]), isEmpty);
    await assert.rejects(applyCommand([path, "--root", root]), isEmpty);
  }
  assert.deepEqual(readdirSync(root), [], "apply wrote to the host root");
  // Any known key keeps it a document.
  for (const text of ["guests: []\n", "ppt: []\n", "host: { vmm_load: true }\n"]) {
    const r = runBin("bhyve-agent", ["validate", file("ok.yaml", text)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid \(0 reserved device\(s\), 0 guest\(s\)\)/);
  }
});

test("input files must be regular: a FIFO or a device is refused before reading", { timeout: 60_000 }, async () => {
  const fifo = join(dir, "fifo");
  const made = spawnSync("mkfifo", [fifo]);
  assert.equal(made.status, 0, String(made.stderr));
  // Without a writer, reading a FIFO would block for ever; the test's deadline catches that.
  await assert.rejects(readInput(fifo), { code: "E_NOT_REGULAR", message: `${fifo}: cannot read: is a FIFO, not a regular file; give a file, or - for standard input` });
  await assert.rejects(readInput("/dev/zero"), { code: "E_NOT_REGULAR", message: "/dev/zero: cannot read: is a character device, not a regular file; give a file, or - for standard input" });
  const r = runBin("bhyve-agent", ["validate", "/dev/zero"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^\/dev\/zero: cannot read: is a character device/);
  await assert.rejects(readInput(dir), { code: "E_READ", message: `${dir}: cannot read: is a directory` });
  await assert.rejects(readInput(join(dir, "missing.yaml")), { code: "E_READ" });
});

test("input is bounded: a file or standard input over the limit is refused after limit+1 bytes", async () => {
  const big = file("big.yaml", "");
  truncateSync(big, 512 * 1024 * 1024); // sparse: reading it whole would take half a gigabyte
  await assert.rejects(readInput(big), { code: "E_TOO_LARGE", message: `${big}: document is larger than ${MAX_DOCUMENT_BYTES} bytes` });
  const justOver = file("over.yaml", `# ${"x".repeat(MAX_DOCUMENT_BYTES - 2)}\n`);
  await assert.rejects(readInput(justOver), { code: "E_TOO_LARGE" });
  const atLimit = file("at.yaml", `guests: [] # ${"x".repeat(MAX_DOCUMENT_BYTES - 14)}\n`);
  assert.equal((await readInput(atLimit)).length, MAX_DOCUMENT_BYTES);
  const r = runBin("bhyve-agent", ["validate", "-"], `# ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `standard input: document is larger than ${MAX_DOCUMENT_BYTES} bytes\n`);
});

test("input must be UTF-8; a leading byte order mark is accepted", async () => {
  const latin1 = file("latin1.yaml", Buffer.concat([Buffer.from("guests: []\n# caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
  await assert.rejects(readInput(latin1), { code: "E_ENCODING" });
  const r = runBin("bhyve-agent", ["validate", latin1]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `${latin1}: document is not UTF-8 text: byte 16 (line 2) is 0xe9, which does not start a valid UTF-8 sequence\n`);
  const bom = file("bom.yaml", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("guests: []\n")]));
  assert.equal(await readInput(bom), "guests: []\n");
  assert.equal(runBin("bhyve-agent", ["validate", bom]).status, 0);
});

test("hostile documents get one clear message: deep nesting, unknown tags, bidirectional characters", () => {
  const deepJson = runBin("bhyve-agent", ["validate", "-"], `{"guests": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`);
  assert.equal(deepJson.status, 1);
  assert.equal(deepJson.stderr, "document: nests mappings and lists deeper than 64 levels\n");
  const deepYaml = runBin("bhyve-agent", ["render", "-"], `${"- ".repeat(20_000)}x\n`);
  assert.equal(deepYaml.status, 1);
  assert.equal(deepYaml.stderr, "document: nests mappings and lists deeper than 64 levels\n");
  const tag = runBin("bhyve-agent", ["validate", "-"], "guests:\n  - !!python/object:os.system { name: a }\n");
  assert.equal(tag.status, 1);
  assert.equal(tag.stderr, "guests[0]: has the YAML tag !!python/object:os.system, which is not a core schema type; remove the tag\n");
  const bidi = runBin("bhyve-agent", ["validate", "-"], "guests:\n  - { name: \"ml\u202e1\", cpus: 1, memory: 1G, bootrom: /fw }\n");
  assert.equal(bidi.status, 1);
  assert.match(bidi.stderr, /^guests\[0\]\.name: contains U\+202E, a bidirectional formatting character/);
  noStack(deepJson.stderr + deepYaml.stderr + tag.stderr + bidi.stderr);
});

test("a large invalid document prints 50 problems, then how many more", { timeout: 120_000 }, () => {
  const guests = Array.from({ length: 5000 }, () => ({
    name: "vm", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/same" }], nics: [{ tap: "tap0", mac: "58:9c:fc:00:00:01" }], passthru: [{ device: "3/0/0", slot: 6 }],
  }));
  const r = runBin("bhyve-agent", ["validate", "-"], JSON.stringify({ ppt: [{ device: "3/0/0" }], guests }));
  assert.equal(r.status, 1);
  const out = r.stderr.trimEnd().split("\n");
  assert.equal(out.length, 51);
  assert.equal(out[0], 'guests[1].name: duplicate guest name "vm" (also guests[0])');
  assert.equal(out[50], `... and ${5 * 4999 - 50} more`);
});
