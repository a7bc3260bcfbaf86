import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDocumentData, formatProblems, MAX_DOCUMENT_BYTES, MAX_REPORTED_PROBLEMS } from "../../../agent/model/index.js";
import { problemsError } from "../../../agent/model/errors.js";

/** 5000 guests that collide in every way the cross-field rules look at: name, disk, tap, MAC, passthrough. */
function collidingDocument(guests = 5000): { ppt: unknown[]; guests: unknown[] } {
  return {
    ppt: [{ device: "3/0/0" }],
    guests: Array.from({ length: guests }, () => ({
      name: "vm", cpus: 1, memory: "1G",
      disks: [{ path: "/dev/zvol/same" }],
      nics: [{ tap: "tap0", mac: "58:9c:fc:00:00:01" }],
      passthru: [{ device: "3/0/0", slot: 6 }],
    })),
  };
}

test("a large invalid document: every problem counted, at most 50 shown, then how many more", { timeout: 120_000 }, () => {
  // Under the size limit as text (the CLI test sends it through validate); checked here as data.
  assert.ok(JSON.stringify(collidingDocument()).length < MAX_DOCUMENT_BYTES);
  const r = checkDocumentData(collidingDocument());
  assert.ok(!r.ok);
  // Five collisions per guest after the first: name, passthrough, tap, MAC, disk.
  assert.equal(r.problems.length, 5 * 4999);
  const out = formatProblems(r.problems).split("\n");
  assert.equal(out.length, MAX_REPORTED_PROBLEMS + 1);
  assert.equal(out[0], 'guests[1].name: duplicate guest name "vm" (also guests[0])');
  assert.equal(out[49], 'guests[50].name: duplicate guest name "vm" (also guests[0])');
  assert.equal(out[50], `... and ${5 * 4999 - 50} more`);
  // Each kind of collision names the first holder, found through a map.
  const byRule = (re: RegExp) => r.problems.filter((p) => re.test(p.path)).length;
  assert.equal(byRule(/^guests\[\d+\]\.name$/), 4999);
  assert.equal(byRule(/^guests\[\d+\]\.disks\[0\]\.path$/), 4999);
  assert.equal(byRule(/^guests\[\d+\]\.nics\[0\]\.(tap|mac)$/), 2 * 4999);
  assert.equal(byRule(/^guests\[\d+\]\.passthru\[0\]\.device$/), 4999);
  assert.deepEqual(r.problems.at(-1), { path: "guests[4999].disks[0].path", message: "/dev/zvol/same is also guests[0].disks[0].path; two disks on one backing store would corrupt it", at: ["guests", 4999, "disks", 0, "path"] });
});

test("many distinct devices and reservations: the rules stay linear and still find each problem", { timeout: 120_000 }, () => {
  // 8192 distinct reservations and 8000 distinct passthrough uses, none reserved: the shape that
  // made the pairwise rules quadratic.
  const ppt = Array.from({ length: 8192 }, (_, i) => ({ device: `${i % 256}/${(i >> 8) % 32}/1` }));
  const guests = Array.from({ length: 2000 }, (_, g) => ({
    name: `g${g}`, cpus: 1, memory: "1G", bootrom: "/fw",
    passthru: Array.from({ length: 4 }, (_, k) => ({ device: `${(g * 4 + k) % 256}/${((g * 4 + k) >> 8) % 32}/0`, slot: 6, function: k })),
  }));
  const r = checkDocumentData({ ppt, guests });
  assert.ok(!r.ok);
  assert.equal(r.problems.filter((p) => p.message.includes("is not reserved on this host")).length, 8000);
  assert.equal(r.problems.filter((p) => p.path === "ppt").length, 1); // too many for pptdevs
});

test("multi-function devices: the guest named is the earliest other guest, as before", () => {
  const guest = (name: string, devices: string[]) => ({ name, cpus: 1, memory: "1G", bootrom: "/fw", passthru: devices.map((device, i) => ({ device, slot: 6 + i, function: 0 })) });
  const r = checkDocumentData({
    ppt: ["3/0/0", "3/0/1", "3/0/2", "3/0/3"].map((device) => ({ device })),
    guests: [guest("a", ["3/0/0"]), guest("b", ["3/0/1"]), guest("a2", ["3/0/3"]), guest("c", ["3/0/0"])],
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => `${p.path}: ${p.message.split(";")[0]}`), [
    "guests[3].passthru[0].device: 3/0/0 is already passed to guest a",
    "guests[1].passthru[0].device: 3/0/1 is a function of the device at 3/0, whose function 3/0/0 is passed to guest a",
    "guests[2].passthru[0].device: 3/0/3 is a function of the device at 3/0, whose function 3/0/0 is passed to guest a",
  ]);
  const again = checkDocumentData({
    ppt: ["3/0/0", "3/0/1", "3/0/2"].map((device) => ({ device })),
    guests: [{ ...guest("a", ["3/0/0"]), passthru: [{ device: "3/0/0", slot: 6 }, { device: "3/0/2", slot: 6, function: 2 }] }, guest("b", ["3/0/1"])],
  });
  assert.ok(!again.ok);
  assert.deepEqual(again.problems.map((p) => p.message.split(";")[0]), ["3/0/1 is a function of the device at 3/0, whose function 3/0/0 is passed to guest a"]);
});

test("SpecError keeps the first 50 problems and the full count; its message ends with the rest's count", () => {
  const problems = Array.from({ length: 120 }, (_, i) => ({ path: `guests[${i}].name`, message: "bad" }));
  const err = problemsError(problems);
  assert.equal(err.code, "E_SPEC_INVALID");
  assert.equal(err.problems.length, 50);
  assert.equal(err.total, 120);
  assert.equal(err.message.split("\n").length, 51);
  assert.match(err.message, /\n\.\.\. and 70 more$/);
  const coded = problemsError(problems.slice(0, 3), { code: "E_EMPTY_DOCUMENT", total: 10 });
  assert.equal(coded.code, "E_EMPTY_DOCUMENT");
  assert.equal(coded.total, 10);
  assert.match(coded.message, /\n\.\.\. and 7 more$/);
  assert.equal(formatProblems(problems.slice(0, 2)), "guests[0].name: bad\nguests[1].name: bad");
});
