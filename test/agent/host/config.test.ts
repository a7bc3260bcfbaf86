/** The agent's own configuration file: known keys only (own names, not inherited ones), whole numbers, the start watch. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
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

  test("inherited names are unknown keys, refused with E_CONFIG; so are non-integers", () => {
    for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      write(`monitor:\n  ${key}: 5\n`);
      assert.throws(() => readAgentConfig(h.paths), (err: Error & { code?: string }) => err.code === "E_CONFIG" && /unknown key/.test(err.message), key);
    }
    write("monitor:\n  start_watch_ms: 0.5\n");
    assert.throws(() => readAgentConfig(h.paths), /expected a whole number above 0/);
  });
});
