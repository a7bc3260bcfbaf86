import assert from "node:assert/strict";
import { test } from "node:test";
import { effectiveSettings, MANAGED_BEGIN, MANAGED_END, managedAssignments, managedStrayLines, parseLoaderConf, serializeLoaderConf, unmanagedAssignmentsTo, withManagedBlock, withoutManagedBlock } from "../../../agent/parse/loader-conf.js";
import { fixture } from "../../support/helpers.js";
import { AgentError } from "../../../agent/model/errors.js";

const FILES = ["bsdinstall-zfs.conf", "odd-valid.conf", "with-managed-block.conf"];
const SETTINGS: Array<[string, string]> = [["vmm_load", "YES"], ["pptdevs", "3/0/0 3/0/1 4/0/1"]];

test("every fixture serializes back byte for byte", () => {
  for (const f of FILES) {
    const text = fixture(`loader-conf/${f}`);
    assert.equal(serializeLoaderConf(parseLoaderConf(text)), text, f);
  }
});

test("lines are read the way the Lua loader reads them", () => {
  const conf = parseLoaderConf(fixture("loader-conf/odd-valid.conf"));
  const byName = new Map(conf.lines.filter((l) => l.kind === "assignment").map((l) => [l.name, l]));
  assert.deepEqual([byName.get("autoboot_delay")!.value, byName.get("autoboot_delay")!.quoted], ["3", true]);
  assert.deepEqual([byName.get("beastie_disable")!.value, byName.get("beastie_disable")!.quoted], ["YES", false]);
  assert.equal(byName.get("kern.maxproc")!.value, "-1");
  assert.equal(byName.get("kern.maxproc")!.eol, "\r\n");
  assert.equal(byName.get("vfs.root.mountfrom")!.value, "zfs:zroot/ROOT/default");
  assert.equal(byName.get("if_bridge_load")!.value, "YES");
  assert.equal(byName.get("exec")!.value, "echo hello");
  assert.equal(byName.get("hint.uart.1.disabled")!.eol, "", "the last line has no line break");
  assert.deepEqual(conf.lines.filter((l) => l.kind === "malformed").map((l) => l.text), ["not a valid line"]);
  assert.equal(conf.lines.filter((l) => l.kind === "comment").length, 2);
  assert.equal(conf.managed, null);
});

test("the last assignment wins; assignments to managed names outside the block are found", () => {
  const text = 'pptdevs="1/0/0"\n' + withManagedBlock(parseLoaderConf(""), SETTINGS) + 'pptdevs="9/0/0"\n';
  const conf = parseLoaderConf(text);
  const eff = effectiveSettings(conf);
  assert.equal(eff.get("pptdevs")!.value, "9/0/0");
  assert.equal(eff.get("pptdevs")!.managed, false);
  assert.equal(eff.get("vmm_load")!.managed, true);
  assert.deepEqual(unmanagedAssignmentsTo(conf, ["vmm_load", "pptdevs"]).map((l) => [l.value, l.after]), [["1/0/0", false], ["9/0/0", true]]);
});

test("adding the block and removing it restores the original bytes", () => {
  for (const original of [...FILES.slice(0, 2).map((f) => fixture(`loader-conf/${f}`)), "", "a=1", "a=1\r\n", "\n\n"]) {
    const added = withManagedBlock(parseLoaderConf(original), SETTINGS);
    const conf = parseLoaderConf(added);
    assert.ok(conf.managed, JSON.stringify(original));
    assert.deepEqual(managedAssignments(conf).map((l) => [l.name, l.value]), SETTINGS);
    assert.ok(added.startsWith(original), "unmanaged lines are kept as they were");
    assert.equal(withoutManagedBlock(conf), original, JSON.stringify(original));
    assert.equal(withManagedBlock(conf, SETTINGS), added, "writing the same settings again changes nothing");
  }
});

test("an existing block is rewritten in place; lines around it are untouched", () => {
  const text = fixture("loader-conf/with-managed-block.conf");
  const conf = parseLoaderConf(text);
  assert.deepEqual(conf.managed, { begin: 1, end: 4 });
  const next = withManagedBlock(conf, [["vmm_load", "YES"], ["pptdevs", "5/0/0"], ["hw.vmm.amdvi.enable", "1"]]);
  assert.equal(next, `zfs_load="YES"\n${MANAGED_BEGIN}\nvmm_load="YES"\npptdevs="5/0/0"\nhw.vmm.amdvi.enable="1"\n${MANAGED_END}\nautoboot_delay="2"\n`);
  assert.equal(withoutManagedBlock(parseLoaderConf(next)), 'zfs_load="YES"\nautoboot_delay="2"\n');
  assert.equal(withManagedBlock(parseLoaderConf(next), []), 'zfs_load="YES"\nautoboot_delay="2"\n', "no settings means no block");
});

test("hand edits inside the block are visible", () => {
  const text = fixture("loader-conf/with-managed-block.conf").replace('pptdevs="3/0/0 3/0/1"', '# pptdevs="3/0/0 3/0/1"');
  const conf = parseLoaderConf(text);
  assert.deepEqual(managedStrayLines(conf).map((l) => l.text), ['# pptdevs="3/0/0 3/0/1"']);
  assert.deepEqual(managedAssignments(conf).map((l) => l.name), ["vmm_load"]);
});

test("a torn block is refused with a stable code", () => {
  for (const text of [fixture("loader-conf/broken-markers.conf"), `${MANAGED_END}\n${MANAGED_BEGIN}\n`, `${MANAGED_BEGIN}\n${MANAGED_END}\n${MANAGED_BEGIN}\n${MANAGED_END}\n`]) {
    assert.throws(() => parseLoaderConf(text), (e: unknown) => e instanceof AgentError && e.code === "E_LOADER_CONF_MARKERS");
  }
});

test("values that cannot be written are refused", () => {
  assert.throws(() => withManagedBlock(parseLoaderConf(""), [["pptdevs", 'a"b']]), /contains a quote/);
  assert.throws(() => withManagedBlock(parseLoaderConf(""), [["pptdevs", "a\nb"]]), /line break/);
  assert.throws(() => withManagedBlock(parseLoaderConf(""), [["bad name", "1"]]), /not a loader variable name/);
});

test("round trip over generated files", () => {
  const pieces = ['a="1"', "b = 2", "  # c", "", " ", "d=\"x y\" # z", "garbage !", "e=-3", "\t", "f=\"\""];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 300; i++) {
    const lines = Array.from({ length: rand(8) }, () => pieces[rand(pieces.length)]!);
    const eols = lines.map(() => (rand(5) === 0 ? "\r\n" : "\n"));
    let text = lines.map((l, j) => l + eols[j]).join("");
    if (rand(3) === 0) text = text.replace(/\r?\n$/, "");
    const conf = parseLoaderConf(text);
    assert.equal(serializeLoaderConf(conf), text);
    assert.equal(withoutManagedBlock(parseLoaderConf(withManagedBlock(conf, SETTINGS))), text, JSON.stringify(text));
  }
});
