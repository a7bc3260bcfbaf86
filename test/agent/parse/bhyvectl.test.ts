import assert from "node:assert/strict";
import { test } from "node:test";
import { parseActiveCpus } from "../../../agent/parse/bhyvectl.js";

test("bhyvectl --get-active-cpus: the vCPUs listed after the tab, (none) as an empty list", () => {
  assert.deepEqual(parseActiveCpus("active cpus:\t 0\n"), [0]);
  assert.deepEqual(parseActiveCpus("active cpus:\t 0, 1, 2, 3\n"), [0, 1, 2, 3]);
  assert.deepEqual(parseActiveCpus("active cpus:\t 1, 3\n"), [1, 3], "the boot vCPU is not implied");
  assert.deepEqual(parseActiveCpus("active cpus:\t (none)\n"), []);
});

test("anything else is not an answer: another line, garbage in the list, an error", () => {
  assert.equal(parseActiveCpus(""), null);
  assert.equal(parseActiveCpus("suspended cpus:\t 0\n"), null);
  assert.equal(parseActiveCpus("active cpus:\t 0, x\n"), null);
  assert.equal(parseActiveCpus("active cpus:\t -1\n"), null);
  assert.equal(parseActiveCpus("vm_open: web1 could not be opened: No such file or directory\n"), null);
});
