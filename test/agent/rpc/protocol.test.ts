import assert from "node:assert/strict";
import { test } from "node:test";
import { METHODS } from "../../../agent/rpc/methods.js";
import { CHANGES, changesHost, GUEST_ACTIVE_STATES, GUEST_UP_STATES, isMethodName, METHOD_NAMES } from "../../../agent/rpc/protocol.js";

test("the agent implements exactly the methods the protocol declares", () => {
  assert.deepEqual([...METHODS.keys()].sort(), [...METHOD_NAMES].sort());
});

test("what changes the host: every put, delete, start, stop, apply, configure, release, the upgrade and a console or VNC attach (what is typed reaches a guest); no read", () => {
  const changing = METHOD_NAMES.filter((m) => CHANGES[m]).sort();
  assert.deepEqual(changing, ["agent.upgrade", "guest.console", "guest.delete", "guest.put", "guest.start", "guest.stop", "guest.vnc", "host.apply", "host.configure", "host.release", "ppt.delete", "ppt.put", "switch.delete", "switch.put"]);
  for (const m of METHOD_NAMES.filter((x) => /\.(get|list|facts|status|document|hello)$/.test(x))) assert.equal(changesHost(m), false, m);
});

test("names that are not methods: not the protocol's, and counted as changes (fail closed)", () => {
  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "guest.explode", "", "host.get "]) {
    assert.equal(isMethodName(name), false, name);
    assert.equal(changesHost(name), true, name);
  }
});

test("one set of guest states for 'up' and one for 'a monitor is alive'", () => {
  assert.deepEqual([...GUEST_UP_STATES].sort(), ["backoff", "running", "starting"]);
  assert.deepEqual([...GUEST_ACTIVE_STATES].sort(), ["backoff", "running", "starting", "stopping"]);
});
