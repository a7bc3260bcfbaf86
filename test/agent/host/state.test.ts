import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { HostPaths } from "../../../agent/host/paths.js";
import { decodeAgentState, encodeAgentState, previousStateFile, readAgentState, StateError, writeAgentState, type AgentState } from "../../../agent/host/state.js";
import { decodeDesired } from "../../../agent/engine/service.js";

const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-state-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function freshRoot(): HostPaths {
  const paths = new HostPaths(join(dir, `root${n++}`));
  mkdirSync(paths.dbDir, { recursive: true });
  return paths;
}

const stateOf = (guests: string[]): AgentState => ({
  desired: decodeDesired({ ppt: [{ device: "4/0/1", bind: "live" }], guests: guests.map((name) => ({ name, cpus: 1, memory: "256M", disks: [{ path: `/dev/zvol/zroot/vm/${name}` }] })) }),
  hostDrivers: { "4/0/1": "igb" },
  releasing: ["4/0/0"],
  hostManaged: true,
});

/** Runs `fn` and returns the StateError it throws. */
function stateError(fn: () => unknown): StateError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StateError, `expected a StateError, got ${(err as Error)?.stack}`);
    return err;
  }
  assert.fail("no error was thrown");
}

describe("state.json", () => {
  test("absent: the empty state; written and read back whole; mode 0600", () => {
    const paths = freshRoot();
    assert.deepEqual(readAgentState(paths).desired.guests, []);
    assert.equal(readAgentState(paths).hostManaged, false);
    writeAgentState(paths, stateOf(["g1"]));
    const back = readAgentState(paths);
    assert.deepEqual(back.desired.guests.map((g) => g.name), ["g1"]);
    assert.deepEqual(back.hostDrivers, { "4/0/1": "igb" });
    assert.deepEqual(back.releasing, ["4/0/0"]);
    assert.equal(statSync(paths.stateFile).mode & 0o777, 0o600);
    assert.equal(existsSync(previousStateFile(paths)), false, "no previous copy before the second write");
  });

  test("each write that changes it keeps the file it replaces as state.json.previous; an unchanged write writes nothing", () => {
    const paths = freshRoot();
    writeAgentState(paths, stateOf(["g1"]));
    const first = readFileSync(paths.stateFile, "utf8");
    writeAgentState(paths, stateOf(["g1", "g2"]));
    assert.equal(readFileSync(previousStateFile(paths), "utf8"), first);
    const second = readFileSync(paths.stateFile, "utf8");
    const mtime = statSync(paths.stateFile).mtimeMs;
    writeAgentState(paths, stateOf(["g1", "g2"]));
    assert.equal(readFileSync(previousStateFile(paths), "utf8"), first, "the previous copy is not replaced by an identical write");
    assert.equal(statSync(paths.stateFile).mtimeMs, mtime);
    assert.equal(readFileSync(paths.stateFile, "utf8"), second);
    assert.equal(statSync(previousStateFile(paths)).mode & 0o777, 0o600);
  });

  const corrupt: Array<[string, string, RegExp]> = [
    ["truncated", encodeAgentState(stateOf(["g1"])).slice(0, 60), /not JSON, perhaps truncated/],
    ["empty", "", /the file is empty/],
    ["not JSON", "desired: {}\n", /not JSON/],
    ["an array", "[]\n", /expected a JSON object/],
    ["without desired", '{"hostDrivers": {}}\n', /desired: missing/],
    ["a bad desired state", '{"desired": {"guests": [{"name": "-bad"}]}}\n', /desired\.guests\[0\]/],
    ["bad hostDrivers", '{"desired": {}, "hostDrivers": {"4/0/1": 7}}\n', /hostDrivers: expected/],
    ["bad releasing", '{"desired": {}, "releasing": "4/0/1"}\n', /releasing: expected/],
    ["bad hostManaged", '{"desired": {}, "hostManaged": "yes"}\n', /hostManaged: expected true or false/],
  ];
  for (const [what, text, reason] of corrupt) {
    test(`${what}: E_STATE naming the file and the last good copy, one line`, () => {
      const paths = freshRoot();
      writeAgentState(paths, stateOf(["g1"]));
      writeAgentState(paths, stateOf(["g2"]));
      writeFileSync(paths.stateFile, text);
      const err = stateError(() => readAgentState(paths));
      assert.equal(err.code, "E_STATE");
      assert.equal(err.file, paths.stateFile);
      assert.equal(err.previous, previousStateFile(paths));
      assert.match(err.message, reason);
      assert.ok(err.message.includes(`${paths.stateFile} is not a valid agent state`), err.message);
      assert.ok(err.message.includes(`The last good copy is ${previousStateFile(paths)}`), err.message);
      assert.doesNotMatch(err.message, /\n/);
      // The copy it names is the good state before the last write, and is a valid state.
      const prev = decodeAgentState(readFileSync(previousStateFile(paths), "utf8"));
      assert.ok(prev.ok && prev.state.desired.guests[0]!.name === "g1");
      // Writes are refused too: the corrupt file is neither replaced nor copied over the good one.
      assert.equal(readFileSync(paths.stateFile, "utf8"), text);
    });
  }

  test("without a good copy the message says so; an invalid previous copy is not offered", () => {
    const paths = freshRoot();
    writeFileSync(paths.stateFile, "{");
    let err = stateError(() => readAgentState(paths));
    assert.equal(err.previous, null);
    assert.match(err.message, /There is no good copy to go back to \(.*state\.json\.previous does not exist\)/);
    writeFileSync(previousStateFile(paths), "[1]");
    err = stateError(() => readAgentState(paths));
    assert.equal(err.previous, null);
    assert.match(err.message, /state\.json\.previous is not valid either: expected a JSON object/);
  });

  test("a corrupt state.json is never copied over the last good copy", () => {
    const paths = freshRoot();
    writeAgentState(paths, stateOf(["g1"]));
    writeAgentState(paths, stateOf(["g2"]));
    const good = readFileSync(previousStateFile(paths), "utf8");
    writeFileSync(paths.stateFile, "garbage");
    writeAgentState(paths, stateOf(["g3"]));
    assert.equal(readFileSync(previousStateFile(paths), "utf8"), good);
    assert.deepEqual(readAgentState(paths).desired.guests.map((g) => g.name), ["g3"]);
  });
});
