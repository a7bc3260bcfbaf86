import assert from "node:assert/strict";
import { test } from "node:test";
import { bootCpuRunning, parseCpuSet } from "../../../agent/parse/bhyvectl.js";

test("bhyvectl --get-active-cpus / --get-debug-cpus: the vCPUs listed after the tab, (none) as an empty list", () => {
  assert.deepEqual(parseCpuSet("active cpus:\t 0\n", "active cpus"), [0]);
  assert.deepEqual(parseCpuSet("active cpus:\t 0, 1, 2, 3\ndebug cpus:\t 1, 2, 3\n", "active cpus"), [0, 1, 2, 3]);
  assert.deepEqual(parseCpuSet("active cpus:\t 0, 1, 2, 3\ndebug cpus:\t 1, 2, 3\n", "debug cpus"), [1, 2, 3]);
  assert.deepEqual(parseCpuSet("active cpus:\t 1, 3\n", "active cpus"), [1, 3], "the boot vCPU is not implied");
  assert.deepEqual(parseCpuSet("active cpus:\t (none)\n", "active cpus"), []);
});

test("anything else is not an answer: another line, garbage in the list, an error", () => {
  assert.equal(parseCpuSet("", "active cpus"), null);
  assert.equal(parseCpuSet("suspended cpus:\t 0\n", "active cpus"), null);
  assert.equal(parseCpuSet("active cpus:\t 0, x\n", "active cpus"), null);
  assert.equal(parseCpuSet("active cpus:\t -1\n", "active cpus"), null);
  assert.equal(parseCpuSet("vm_open: web1 could not be opened: No such file or directory\n", "active cpus"), null);
});

test("the boot vCPU runs when it is active and not held in the debug set (14.x and 15 hold it there until the end of bhyve's start)", () => {
  assert.equal(bootCpuRunning("active cpus:\t 0, 1\ndebug cpus:\t 1\n"), true, "the APs wait for the guest to start them");
  assert.equal(bootCpuRunning("active cpus:\t 0\ndebug cpus:\t (none)\n"), true);
  assert.equal(bootCpuRunning("active cpus:\t 0, 1\ndebug cpus:\t 0, 1\n"), false, "activated, still suspended: the start is not through");
  assert.equal(bootCpuRunning("active cpus:\t (none)\ndebug cpus:\t (none)\n"), false);
  assert.equal(bootCpuRunning("active cpus:\t 0, 1\n"), false, "no debug line (a bhyvectl without it): not known, so not running");
});
