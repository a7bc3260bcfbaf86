import assert from "node:assert/strict";
import { test } from "node:test";
import {
  findForbiddenCharacter,
  forbiddenCharacter,
  isBlankDocument,
  jsonDepthExceeds,
  MAX_DOCUMENT_DEPTH,
  normalizeHostPath,
  printable,
  quote,
  valueDepthExceeds,
} from "../../../agent/model/index.js";

const nested = (n: number): string => "[".repeat(n) + "]".repeat(n);

test("jsonDepthExceeds: counts brackets outside strings, without parsing", () => {
  assert.equal(MAX_DOCUMENT_DEPTH, 64);
  assert.equal(jsonDepthExceeds(nested(64), 64), false);
  assert.equal(jsonDepthExceeds(nested(65), 64), true);
  assert.equal(jsonDepthExceeds(`{"a":${nested(63)}}`, 64), false);
  assert.equal(jsonDepthExceeds(`{"a":${nested(64)}}`, 64), true);
  // Brackets inside strings, escaped quotes included, do not count.
  assert.equal(jsonDepthExceeds(JSON.stringify({ a: "[".repeat(1000), b: '\\"[[[[' }), 2), false);
  // A million levels: no stack is used, the answer comes back.
  assert.equal(jsonDepthExceeds(nested(1_000_000)), true);
  // Stray closing brackets cannot buy depth back.
  assert.equal(jsonDepthExceeds("]".repeat(100) + nested(65), 64), true);
});

test("valueDepthExceeds: iterative, and shared values are walked at their deepest", () => {
  let deep: unknown = [];
  for (let i = 1; i < 64; i++) deep = [deep];
  assert.equal(valueDepthExceeds(deep, 64), false);
  assert.equal(valueDepthExceeds([deep], 64), true);
  assert.equal(valueDepthExceeds({ a: { b: deep } }, 64), true);
  let huge: unknown = [];
  for (let i = 0; i < 200_000; i++) huge = [huge];
  assert.equal(valueDepthExceeds(huge), true);
  // A value reached twice (a YAML alias), first shallow then deep, is measured deep.
  const shared: unknown[] = [];
  let chain: unknown = shared;
  for (let i = 0; i < 62; i++) chain = [chain];
  assert.equal(valueDepthExceeds({ x: shared, y: chain }, 64), false);
  shared.push([]);
  assert.equal(valueDepthExceeds({ x: shared, y: chain }, 64), true);
  // Many references to one value stay cheap: each value is walked at most once per depth.
  const leaf = { a: 1 };
  const wide = Array.from({ length: 100_000 }, () => leaf);
  assert.equal(valueDepthExceeds({ wide }, 64), false);
});

test("forbiddenCharacter: control, bidirectional, zero-width characters and lone surrogates", () => {
  assert.equal(forbiddenCharacter("/dev/zvol/zroot/ml1"), undefined);
  assert.equal(forbiddenCharacter("é日本😀"), undefined);
  for (const c of ["\u0000", "\u0001", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085", "\u009f"]) {
    assert.match(forbiddenCharacter(`a${c}b`)!, /a control character/, JSON.stringify(c));
  }
  for (const c of ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]) {
    assert.match(forbiddenCharacter(`a${c}b`)!, /bidirectional/, JSON.stringify(c));
  }
  for (const c of ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]) {
    assert.match(forbiddenCharacter(`a${c}b`)!, /zero-width/, JSON.stringify(c));
  }
  assert.match(forbiddenCharacter("a\ud800b")!, /surrogate/);
  assert.match(forbiddenCharacter("a\udc00")!, /surrogate/);
  assert.equal(forbiddenCharacter("U+202E: \u202e"), "contains U+202E, a bidirectional formatting character, which can make text display other than it reads; remove it");
  assert.deepEqual(findForbiddenCharacter("ab\u200bc\u0000"), { index: 2, message: "contains U+200B, a zero-width character, which makes two different values look the same; remove it" });
});

test("printable and quote escape what a terminal would act on, and cut long values", () => {
  assert.equal(printable("a\u202eb\u0000"), "a\\u202eb\\u0000");
  assert.equal(quote('say "hi"\\'), '"say \\"hi\\"\\\\"');
  assert.equal(quote("x".repeat(150)), `"${"x".repeat(100)}... (150 characters)"`);
  assert.equal(printable("k".repeat(5000)), `${"k".repeat(100)}...`);
  // Whole surrogate pairs are ordinary characters; only a lone half is escaped.
  assert.equal(printable("a\ud83d\ude00b\ud800"), "a\ud83d\ude00b\\ud800");
  assert.equal(quote("tab\there"), '"tab\\u0009here"');
});

test("normalizeHostPath: lexical, no file system", () => {
  assert.equal(normalizeHostPath("/dev/zvol/a"), "/dev/zvol/a");
  assert.equal(normalizeHostPath("/dev//zvol///a/"), "/dev/zvol/a");
  assert.equal(normalizeHostPath("/dev/./zvol/./a"), "/dev/zvol/a");
  assert.equal(normalizeHostPath("/dev/zvol/b/../a"), "/dev/zvol/a");
  assert.equal(normalizeHostPath("/../../dev/zvol/a"), "/dev/zvol/a");
  assert.equal(normalizeHostPath("/"), "/");
});

test("isBlankDocument: nothing, null, {}, or only null known keys", () => {
  for (const blank of [undefined, null, {}, { guests: null }, { host: null, ppt: null, guests: null }]) {
    assert.equal(isBlankDocument(blank), true, JSON.stringify(blank));
  }
  for (const notBlank of [{ guests: [] }, { ppt: [] }, { host: {} }, { host: { vmm_load: true } }, { guest: [] }, [], "text", 0]) {
    assert.equal(isBlankDocument(notBlank), false, JSON.stringify(notBlank));
  }
});
