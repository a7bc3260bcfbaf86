import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { readAudit } from "../../../agent/host/audit.js";
import { previousStateFile } from "../../../agent/host/state.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { rebootSandbox } from "../../../sandbox/host.js";
import { repoPath } from "../../support/helpers.js";
import { AgentHost, FW } from "../../support/agent-host.js";

const guest = (name: string) => ({ name, cpus: 1, memory: "256M", bootrom: FW });
const DOC1 = JSON.stringify({ guests: [guest("keep1")] });
const DOC2 = JSON.stringify({ guests: [guest("keep1"), guest("keep2")] });

/** One JSON-RPC request to a fresh `bhyve-agent rpc` process. */
function rpc(root: string, method: string, params: unknown = {}): { error?: { code: number; message: string; data: { code: string } }; result?: unknown } {
  const r = spawnSync(process.execPath, [repoPath("dist/bhyve-agent.mjs"), "rpc", "--root", root], {
    input: `${JSON.stringify({ jsonrpc: "2.0", id: 1, method, params })}\n`,
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n")[0]!);
}

describe("a corrupt state.json: E_STATE, one line, nothing started or changed", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const state = () => h.paths.stateFile;
  const oneLine = (stderr: string) => {
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.doesNotMatch(stderr, /internal error|    at /);
    assert.ok(stderr.includes(`${state()} is not a valid agent state`), stderr);
    assert.ok(stderr.includes(`The last good copy is ${previousStateFile(h.paths)}`), stderr);
  };

  test("set up: two applies (the first one's state is kept as state.json.previous), a reboot, then state.json truncated", async () => {
    assert.equal(h.cli(["apply", "-"], DOC1).status, 0);
    assert.equal(h.cli(["apply", "-"], DOC2).status, 0);
    assert.match(readFileSync(previousStateFile(h.paths), "utf8"), /keep1/);
    assert.doesNotMatch(readFileSync(previousStateFile(h.paths), "utf8"), /keep2/);
    await rebootSandbox(h.root);
    const text = readFileSync(state(), "utf8");
    writeFileSync(state(), text.slice(0, Math.floor(text.length / 2)));
  });

  test("autostart at boot starts no guest and says why (exit 1, no stack)", () => {
    const r = h.cli(["autostart"]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /^autostart started no guest: /);
    oneLine(r.stderr);
    assert.deepEqual(Object.values(h.machine().vms).filter((vm) => vm.process), [], "no bhyve runs");
    assert.equal(readGuest(h.paths, "keep1").monitor_pid, null);
    const audit = readAudit(h.paths).filter((e) => e.method === "autostart");
    assert.equal(audit.at(-1)?.code, "E_STATE");
  });

  test("apply and status (text and --json): exit 1 with the one-line message; the file is left as it is", () => {
    const before = readFileSync(state(), "utf8");
    for (const args of [["apply", "-"], ["status"], ["status", "--json"]]) {
      const r = h.cli(args, DOC1);
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stdout}`);
      assert.equal(r.stdout, "");
      oneLine(r.stderr);
    }
    assert.equal(readAudit(h.paths).filter((e) => e.method === "apply").at(-1)?.code, "E_STATE");
    assert.equal(readFileSync(state(), "utf8"), before);
    assert.deepEqual(Object.values(h.machine().vms).filter((vm) => vm.process), []);
  });

  test("over RPC: -32000 with data.code E_STATE, for reads and changes", () => {
    for (const [method, params] of [["host.status", {}], ["host.document", {}], ["host.apply", { document: JSON.parse(DOC1) }], ["guest.list", {}]] as const) {
      const r = rpc(h.root, method, params);
      assert.ok(r.error, `${method}: ${JSON.stringify(r)}`);
      assert.equal(r.error.code, -32000, method);
      assert.equal(r.error.data.code, "E_STATE", method);
      assert.ok(r.error.message.includes(state()), r.error.message);
      assert.ok(r.error.message.includes(previousStateFile(h.paths)), r.error.message);
    }
  });

  test("not JSON at all, and the wrong shape: the same error", () => {
    for (const text of ["\u0000\u0000\u0000", '{"desired": {"guests": 5}}', "[]"]) {
      writeFileSync(state(), text);
      const r = h.cli(["status"]);
      assert.equal(r.status, 1);
      oneLine(r.stderr);
    }
  });

  test("the last good copy put back: autostart runs the guests it names", () => {
    copyFileSync(previousStateFile(h.paths), state());
    const r = h.cli(["autostart"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readGuest(h.paths, "keep1").state, "running");
    assert.equal(readGuest(h.paths, "keep2").state, "missing", "the copy is the state before the last apply");
  });
});
