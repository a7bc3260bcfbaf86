import assert from "node:assert/strict";
import { test } from "node:test";
import { checkDocumentData, checkGuestAlone } from "../../../agent/model/validate.js";
import { pathSegments, pathText, relativeTo } from "../../../agent/model/problems.js";
import { problemsError } from "../../../agent/model/errors.js";

test("document paths as segments and back", () => {
  for (const [text, at] of [["guests[1].passthru[0].device", ["guests", 1, "passthru", 0, "device"]], ["host.vmm_load", ["host", "vmm_load"]], ["ppt", ["ppt"]], ["", []]] as const) {
    assert.deepEqual(pathSegments(text), at, text);
    assert.equal(pathText(at), text);
  }
  for (const text of ["line 3, column 4", "guests[1].\"odd key\"", "guests[x]", "a..b", ".a"]) assert.equal(pathSegments(text), null, text);
});

test("a problem carries its path as segments, and is taken relative to the item it belongs to", () => {
  const r = checkDocumentData({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: "/fw", passthru: [{ device: "9/0/0", slot: 0 }] }] });
  assert.ok(!r.ok);
  const slot = r.problems.find((p) => p.path === "guests[0].passthru[0].slot")!;
  assert.deepEqual(slot.at, ["guests", 0, "passthru", 0, "slot"]);
  assert.deepEqual(relativeTo(slot, ["guests", 0], "guest"), { path: "passthru[0].slot", message: slot.message, at: ["passthru", 0, "slot"] });
  assert.equal(relativeTo(slot, ["guests", 1], "guest"), slot, "a problem of another item is unchanged");
  assert.equal(relativeTo({ path: "guests[0]", message: "m", at: ["guests", 0] }, ["guests", 0], "guest").path, "guest", "the item itself");
  const alone = checkGuestAlone({ name: "g", cpus: 0, memory: "1G", bootrom: "/fw" });
  assert.ok(!alone.ok);
  assert.deepEqual(alone.problems.map((p) => [p.path, p.at]), [["cpus", ["cpus"]]]);
});

test("a refusal's problems all carry segments, also those written as plain objects", () => {
  const e = problemsError([{ path: "guests[2].name", message: "taken" }, { path: "line 1, column 2", message: "syntax" }]);
  assert.deepEqual(e.problems.map((p) => p.at), [["guests", 2, "name"], undefined]);
});
