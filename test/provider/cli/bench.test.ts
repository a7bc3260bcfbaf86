/** The benchmark's arithmetic and report (the benchmark itself runs with `npm run bench`, not in npm test). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTable, spread, type BenchRun } from "../../../provider/cli/dev/bench.js";

test("spread: median of odd and even samples, min and max, rounded to milliseconds", () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.deepEqual(spread([1.23456]), { median: 1.235, min: 1.235, max: 1.235 });
  assert.throws(() => spread([]), /no samples/);
});

test("the table has one row per fleet size with medians, ranges, the ratio and the counts", () => {
  const s = (m: number) => ({ median: m, min: m - 0.5, max: m + 0.5 });
  const run: BenchRun = {
    hosts: 5, guests_per_host: 10, runs: 3, synth_s: s(3), plan_noop_s: s(4), plan_drift_s: s(5), apply_s: s(30), destroy_s: s(10),
    naive_plan_s: s(12), ratio_naive_over_ours: 3, ansible_check_s: s(20), ssh_connections_per_host_per_command: 1, agent_processes_per_host_per_command: 1,
    host_tool_calls_per_host: { apply: 40.2, plan_noop: 4, plan_drift: 8, destroy: 12 },
    rss_mib: { provider: 70.1, agent_rpc: 58, monitor: 1.5 }, notes: ["a note"],
  };
  const t = renderTable([run, { ...run, hosts: 1, naive_plan_s: null, ratio_naive_over_ours: null, ansible_check_s: null, rss_mib: { provider: null, agent_rpc: null, monitor: null } }]);
  const lines = t.split("\n");
  assert.match(lines[0]!, /^hosts +guests +synth s/);
  assert.match(lines[2]!, /^5 +50 +3\.00 \(2\.50-3\.50\) +30\.00 \(29\.50-30\.50\) +4\.00 \(3\.50-4\.50\) .* 12\.00 \(11\.50-12\.50\) +3x +20\.00 \(19\.50-20\.50\) +1 +1 +40\.2\/4\/12 +70\.1\/58\/1\.5$/);
  assert.match(lines[3]!, /^1 +10 .* - +- +- +1 +1 +40\.2\/4\/12 +-\/-\/-$/);
  assert.match(t, /note: a note/);
});
