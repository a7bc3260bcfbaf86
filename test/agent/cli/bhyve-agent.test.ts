import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runBin } from "../../support/cli.js";
import { repoPath } from "../../support/helpers.js";

const EXAMPLE = "examples/gpu-host/host.yaml";
const noStack = (s: string): void => assert.ok(!/^\s+at /m.test(s), `a stack trace was printed:\n${s}`);

test("validate: a valid document exits 0", () => {
  const r = runBin("bhyve-agent", ["validate", EXAMPLE]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /valid \(3 reserved device\(s\), 2 guest\(s\)\)/);
});

test("validate: problems one per line as path: message, exit 1", () => {
  const doc = readFileSync(repoPath(EXAMPLE), "utf8")
    .replace("- { device: 4/0/1, slot: 7, function: 0 }", "- { device: 3/0/0, slot: 7, function: 0 }")
    .replace("cpus: 2", "cpus: two");
  const r = runBin("bhyve-agent", ["validate", "-"], doc);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.deepEqual(r.stderr.trimEnd().split("\n"), [
    'guests[1].cpus: expected a whole number, got the string "two"',
    "guests[1].passthru[0].device: 3/0/0 is already passed to guest ml1",
  ]);
});

test("validate: bad YAML names the place, never a stack", () => {
  const r = runBin("bhyve-agent", ["validate", "-"], "guests:\n  - name: a\n   cpus: 1\n");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^line \d+, column \d+: /);
  noStack(r.stderr);
});

test("validate: JSON documents too", () => {
  const r = runBin("bhyve-agent", ["validate", "-"], JSON.stringify({ ppt: [{ device: "3/0/0", bind: "live" }] }));
  assert.equal(r.status, 0, r.stderr);
});

test("unreadable input and bad usage are clear", () => {
  const missing = runBin("bhyve-agent", ["validate", "/nonexistent/host.yaml"]);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, "/nonexistent/host.yaml: cannot read: no such file\n");
  const dir = runBin("bhyve-agent", ["render", "examples"]);
  assert.equal(dir.status, 1);
  assert.match(dir.stderr, /examples: cannot read: is a directory/);
  assert.equal(runBin("bhyve-agent", ["validate"]).status, 64);
  assert.equal(runBin("bhyve-agent", ["validate", "a", "b"]).status, 64);
  const unknown = runBin("bhyve-agent", ["frobnicate"]);
  assert.equal(unknown.status, 64);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.equal(runBin("bhyve-agent", []).status, 64);
  assert.equal(runBin("bhyve-agent", ["--help"]).status, 0);
  noStack(missing.stderr + dir.stderr + unknown.stderr);
});

test("render: loader.conf settings and each guest's bhyve argv as JSON", () => {
  const r = runBin("bhyve-agent", ["render", EXAMPLE]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.loader_conf, { vmm_load: "YES", pptdevs: "3/0/0 3/0/1 4/0/1" });
  assert.equal(out.guests.ml1[0], "/usr/sbin/bhyve");
  assert.equal(out.guests.ml1.at(-1), "ml1");
  assert.ok(out.guests.ml1.includes("6:1,passthru,3/0/1"));
  assert.deepEqual(out.bhyveload.fw1, ["/usr/sbin/bhyveload", "-m", "2G", "-S", "-c", "/dev/nmdm-fw1.1A", "-d", "/dev/zvol/zroot/vm/fw1", "fw1"]);
});

test("render: an invalid document prints problems, not JSON", () => {
  const r = runBin("bhyve-agent", ["render", "-"], "guests:\n  - { name: a, cpus: 1, memory: 1G, color: blue }\n");
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^guests\[0\]\.color: unknown key/m);
  assert.match(r.stderr, /^guests\[0\]\.disks: a guest without a bootrom/m);
});
