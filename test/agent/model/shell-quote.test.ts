import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { shellCommand, shellQuote } from "../../../agent/model/shell-quote.js";

test("shellQuote: /bin/sh gives back each argument byte for byte", () => {
  const args = ["plain", "with space", "it's", "'", "''", "$HOME", "`id`", "a\"b", "*", "~", ";rm -rf /", "", "ünï"];
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${args.map(shellQuote).join(" ")}`]);
  assert.deepEqual(out.toString("utf8").split("\0").slice(0, -1), args);
});

test("shellQuote refuses what a csh login shell would still expand, and control characters", () => {
  for (const bad of ["a!b", "line\nbreak", "nul\0", "tab\t"]) assert.throws(() => shellQuote(bad), /cannot pass .* through a login shell/);
  assert.throws(() => shellCommand([]), /empty command/);
  assert.equal(shellCommand(["/usr/local/bin/bhyve-agent", "rpc"]), "'/usr/local/bin/bhyve-agent' 'rpc'");
});
