import assert from "node:assert/strict";
import { test } from "node:test";
import { encode } from "@msgpack/msgpack";
import { conform, containsUnknown, decodeValue, encodeValue, isUnknown, UNKNOWN, type CtyType } from "../../../provider/plugin/values.js";

const T: CtyType = ["object", { name: "string", cpus: "number", on: "bool", tags: ["list", "string"], disk: ["list", ["object", { path: "string", slot: "number" }]] }];

test("an unknown value is extension type 0 on the wire (d4 00 00)", () => {
  const bytes = encodeValue("string", UNKNOWN);
  assert.deepEqual([...bytes], [0xd4, 0x00, 0x00]);
  assert.ok(isUnknown(decodeValue("string", bytes)));
});

test("refined unknowns (extension type 12) and any other extension decode as unknown", () => {
  const refined = Buffer.from([0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]);
  assert.ok(isUnknown(decodeValue("string", refined)));
  assert.ok(isUnknown(decodeValue("number", Buffer.from([0xd4, 0x05, 0x01]))));
});

test("objects: missing attributes are null, extra ones are an error naming the path", () => {
  const v = decodeValue(T, encode({ name: "a", disk: [{ path: "/x" }] })) as Record<string, unknown>;
  assert.deepEqual(v, { name: "a", cpus: null, on: null, tags: null, disk: [{ path: "/x", slot: null }] });
  assert.throws(() => conform(T, { name: "a", colour: "red" }), /unexpected attribute "colour"/);
  assert.throws(() => conform(T, { disk: [{ path: 3 }] }), (e: Error & { path?: unknown }) => /disk\.0\.path: expected a string/.test(e.message));
});

test("numbers: ints, floats and big numbers as strings", () => {
  assert.equal(decodeValue("number", encode(8)), 8);
  assert.equal(decodeValue("number", encode(2.5)), 2.5);
  assert.equal(decodeValue("number", encode("34359738368")), 34359738368);
  assert.throws(() => conform("number", "eight"));
});

test("round trip, with unknowns nested", () => {
  const v = { name: "g", cpus: 2, on: true, tags: ["a", "b"], disk: [{ path: "/d", slot: UNKNOWN }] };
  const back = decodeValue(T, encodeValue(T, v as never)) as Record<string, any>;
  assert.equal(back.name, "g");
  assert.ok(isUnknown(back.disk[0].slot));
  assert.ok(containsUnknown(back));
  assert.ok(!containsUnknown({ a: [1, "x", null] }));
  assert.equal(decodeValue(T, Buffer.alloc(0)), null, "an empty DynamicValue is null");
  assert.equal(decodeValue(T, encode(null)), null);
});
