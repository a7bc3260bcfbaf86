import assert from "node:assert/strict";
import { test } from "node:test";
import { formatSize, parseSize } from "../../../agent/model/size.js";

test("sizes with binary suffixes, either case, and plain bytes", () => {
  const cases: Array<[string | number, number]> = [
    ["32G", 32 * 2 ** 30], ["512m", 512 * 2 ** 20], ["1T", 2 ** 40], ["64K", 65536], ["1024", 1024], [134217728, 134217728],
  ];
  for (const [input, bytes] of cases) {
    const r = parseSize(input);
    assert.ok(r.ok, String(input));
    assert.equal(r.bytes, bytes);
  }
});

test("bad sizes say why", () => {
  for (const input of ["32GB", "1.5G", "-1", "G", "", 1.5, -4]) {
    assert.equal(parseSize(input).ok, false, String(input));
  }
});

test("formatSize picks the largest exact unit", () => {
  assert.equal(formatSize(32 * 2 ** 30), "32G");
  assert.equal(formatSize(1536 * 2 ** 20), "1536M");
  assert.equal(formatSize(2 ** 40), "1T");
  assert.equal(formatSize(1000), "1000");
});
