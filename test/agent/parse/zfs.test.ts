import assert from "node:assert/strict";
import { test } from "node:test";
import { parseZfsGet, zfsBytes, zfsMissing } from "../../../agent/parse/zfs.js";

test("zfs get -H -p -o name,property,value,source: by dataset and property, '-' as null, a value's tabs kept; a forged or repeated line fails the reading", () => {
  const names = ["zroot/vm/a", "zroot/vm"];
  const props = ["volsize", "bhyve-agent:guest"];
  const r = parseZfsGet("zroot/vm/a\tvolsize\t21474836480\tlocal\nzroot/vm/a\tbhyve-agent:guest\tweb\t1\tlocal\nzroot/vm\tvolsize\t-\t-\n", names, props);
  assert.ok(r.ok);
  assert.deepEqual(r.props.get("zroot/vm/a")!.get("volsize"), { value: "21474836480", source: "local" });
  assert.deepEqual(r.props.get("zroot/vm/a")!.get("bhyve-agent:guest"), { value: "web\t1", source: "local" });
  assert.deepEqual(r.props.get("zroot/vm")!.get("volsize"), { value: null, source: null });
  assert.deepEqual(parseZfsGet("zroot/vm/a\tvolsize\t1\tlocal\nzroot/vm/a\tvolsize\t2\tlocal\n", names, props), { ok: false, line: "zroot/vm/a\tvolsize\t2\tlocal" });
  assert.equal(parseZfsGet("zroot/other\tvolsize\t1\tlocal\n", names, props).ok, false, "a dataset not asked for");
  assert.equal(parseZfsGet("zroot/vm/a\tmountpoint\t/x\tdefault\n", names, props).ok, false, "a property not asked for");
  assert.equal(parseZfsGet("zroot/vm/a\tvolsize\t1\n", names, props).ok, false, "a short line");
  assert.equal(zfsBytes("16384"), 16384);
  assert.equal(zfsBytes("16K"), null);
  assert.equal(zfsBytes(null), null);
  assert.deepEqual(zfsMissing("cannot open 'zroot/vm/x': dataset does not exist\ncannot open 'tank': no such pool\n"), { missing: ["zroot/vm/x"], other: ["cannot open 'tank': no such pool"] });
});
