/** The agent's own configuration file: known keys only (own names, not inherited ones), whole numbers, the start watch. */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { agentConfigPath, readAgentConfig } from "../../../agent/host/config.js";
import { DEFAULT_MONITOR_POLICY } from "../../../agent/guests/monitor-spec.js";
import { AgentHost } from "../../support/agent-host.js";

describe("bhyve-agent.conf", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const write = (text: string): void => writeFileSync(agentConfigPath(h.paths), text, { mode: 0o644 });

  test("monitor.start_watch_ms sets how long apply watches a new guest; default 1500 ms", () => {
    write("monitor:\n  start_watch_ms: 250\n");
    assert.equal(readAgentConfig(h.paths).monitor.startWatchMs, 250);
    write("monitor:\n  crash_limit: 3\n");
    assert.equal(readAgentConfig(h.paths).monitor.startWatchMs, DEFAULT_MONITOR_POLICY.startWatchMs);
    assert.equal(DEFAULT_MONITOR_POLICY.startWatchMs, 1500);
  });

  test("read once and kept while the file is unchanged; a change of the same size, a mode gone wrong, a removal are seen at the next read", () => {
    write("monitor:\n  start_watch_ms: 250\n");
    const first = readAgentConfig(h.paths);
    assert.equal(readAgentConfig(h.paths), first, "the same parse, not read again");
    write("monitor:\n  start_watch_ms: 750\n");
    assert.equal(readAgentConfig(h.paths).monitor.startWatchMs, 750);
    chmodSync(agentConfigPath(h.paths), 0o666);
    assert.throws(() => readAgentConfig(h.paths), (err: Error & { code?: string }) => err.code === "E_CONFIG" && /writable by root only/.test(err.message));
    chmodSync(agentConfigPath(h.paths), 0o644);
    assert.equal(readAgentConfig(h.paths).monitor.startWatchMs, 750);
    write("monitor:\n  start_watch_ms: x\n");
    assert.throws(() => readAgentConfig(h.paths), /expected a whole number above 0/);
    assert.throws(() => readAgentConfig(h.paths), /expected a whole number above 0/, "a failure is not kept as if it were a configuration");
  });

  test("inherited names are unknown keys, refused with E_CONFIG; so are non-integers", () => {
    for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      write(`monitor:\n  ${key}: 5\n`);
      assert.throws(() => readAgentConfig(h.paths), (err: Error & { code?: string }) => err.code === "E_CONFIG" && /unknown key/.test(err.message), key);
    }
    write("monitor:\n  start_watch_ms: 0.5\n");
    assert.throws(() => readAgentConfig(h.paths), /expected a whole number above 0/);
  });
});
