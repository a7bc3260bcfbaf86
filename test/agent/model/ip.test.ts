import assert from "node:assert/strict";
import { isIPv4, isIPv6 } from "node:net";
import { test } from "node:test";
import { isIPv4Literal, isIPv6Literal } from "../../../agent/model/ip.js";
import { isLoopbackAddress } from "../../../agent/model/decode.js";

test("the model's numeric address reader agrees with Node's (inet_pton) on addresses and near misses", () => {
  const cases = ["127.0.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "", "::", "::1", "1::", "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9", "1::2::3", "::ffff:127.0.0.1", "fe80::1", "::ffff:1.2.3", "12345::", "g::1", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
    "1:2:3:4:5:6::1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", ":1", "1:", ":::", "fe80::1%em0", "[::1]", " 127.0.0.1"];
  for (const c of cases) assert.deepEqual([isIPv4Literal(c), isIPv6Literal(c)], [isIPv4(c), isIPv6(c) && !c.includes("%")], JSON.stringify(c));
});

test("loopback: 127.0.0.0/8 and ::1 in any spelling; nothing else", () => {
  for (const a of ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "0000::0001"]) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ["0.0.0.0", "128.0.0.1", "::", "::2", "::ffff:127.0.0.1", "1::1", "10.0.0.1"]) assert.equal(isLoopbackAddress(a), false, a);
});
