import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBhyveTitles } from "../../../agent/parse/ps.js";

test("ps -ax -o pid= -o command=: each bhyve by the title it gives itself; other processes and look-alikes ignored", () => {
  const text = [
    "    1 /sbin/init --",
    " 1234 bhyve: web1 (bhyve)",
    " 1300 bhyve: db1",
    " 1400 /usr/sbin/bhyve -c 2 -m 1G web9",
    " 1500 sh -c bhyve: fake (bhyve) x",
    " 1600 bhyve: web1 (bhyve)",
    "",
  ].join("\n");
  assert.deepEqual([...parseBhyveTitles(text)], [["web1", 1234], ["db1", 1300]]);
  assert.deepEqual([...parseBhyveTitles("")], []);
});
