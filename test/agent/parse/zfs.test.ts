import assert from "node:assert/strict";
import { test } from "node:test";
import { parseZfsList, zfsBytes, zfsMissing } from "../../../agent/parse/zfs.js";

test("zfs list -H -p: tab-separated columns, '-' as null; a short line is an error, not a guess", () => {
  const cols = ["name", "volsize", "bhyve-agent:guest"];
  assert.deepEqual(parseZfsList("zroot/vm/a\t21474836480\tweb1\nzroot/vm\t-\t-\n", cols), [
    { name: "zroot/vm/a", volsize: "21474836480", "bhyve-agent:guest": "web1" },
    { name: "zroot/vm", volsize: null, "bhyve-agent:guest": null },
  ]);
  assert.throws(() => parseZfsList("zroot/vm/a\t1\n", cols), /printed 2 columns where 3 were asked for/);
  assert.equal(zfsBytes("16384"), 16384);
  assert.equal(zfsBytes("16K"), null);
  assert.equal(zfsBytes(null), null);
  assert.deepEqual(zfsMissing("cannot open 'zroot/vm/x': dataset does not exist\ncannot open 'tank': no such pool\n"), { missing: ["zroot/vm/x"], other: ["cannot open 'tank': no such pool"] });
});
