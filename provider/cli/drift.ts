/**
 * `cdktf-bhyve drift`: desired against actual on every host of the app, each difference named with
 * its field and both values. Exits 0 in sync, 2 on drift, 1 when a host could not be checked: a CI
 * gate in either mode.
 */
import { differences, type Difference } from "./lib/fleet-compare.js";
import type { FleetHost } from "./lib/fleet-targets.js";
import { eachHost, fleetArgs, label, observe, secs, type Outcome } from "./lib/fleet.js";
import { table } from "./lib/table.js";

/** One host's drift verdict. */
interface Verdict {
  readonly outcome: Outcome;
  readonly differences: Difference[];
}

/** The drift report for a person: each host, then each difference with both values. */
export function driftReport(hosts: readonly FleetHost[], verdicts: readonly Verdict[]): string {
  const lines: string[] = [];
  hosts.forEach((h, i) => {
    const v = verdicts[i]!;
    if (!v.outcome.ok) {
      lines.push(`${label(h)} (${h.address}): not checked: ${v.outcome.error}`);
      return;
    }
    lines.push(`${label(h)} (${h.address}): ${v.differences.length === 0 ? "in sync" : `${v.differences.length} difference${v.differences.length > 1 ? "s" : ""}`}`);
    if (v.differences.length) {
      lines.push(table([["  FIELD", "DESIRED", "ACTUAL"], ...v.differences.map((d) => [`  ${d.field}`, d.desired, d.actual])], ""));
    }
    if (h.leftOut.length) lines.push(`  not checked (values known only at apply): ${h.leftOut.join(", ")}`);
  });
  return lines.join("\n");
}

/** `drift`: 0 in sync, 2 on drift, 1 when any host could not be checked. */
export async function driftCommand(args: string[]): Promise<number> {
  const a = await fleetArgs("drift", args);
  const verdicts = await eachHost(a.hosts, a.parallel, async (h): Promise<Verdict> => {
    const outcome = await observe(h, a.ssh);
    return { outcome, differences: outcome.ok ? differences(h.desired, outcome.observation) : [] };
  }, (h, v, i, ms) => {
    const what = !v.outcome.ok ? `error: ${v.outcome.error.split("\n")[0]}` : v.differences.length ? `${v.differences.length} difference(s)` : "in sync";
    process.stderr.write(`[${i}/${a.hosts.length}] ${label(h)} ${h.address}: ${what} (${secs(ms)})\n`);
  });
  const failed = verdicts.some((v) => !v.outcome.ok);
  const drifted = verdicts.some((v) => v.differences.length > 0);
  if (a.json) {
    process.stdout.write(`${JSON.stringify({
      in_sync: !failed && !drifted,
      hosts: a.hosts.map((h, i) => {
        const v = verdicts[i]!;
        return { stack: h.stack, id: h.id, address: h.address, sha256: h.sha256, ...(v.outcome.ok ? { in_sync: v.differences.length === 0, differences: v.differences } : { error: { code: v.outcome.code, message: v.outcome.error } }), not_checked: h.leftOut };
      }),
    }, null, 2)}\n`);
  } else {
    process.stdout.write(`${driftReport(a.hosts, verdicts)}\n`);
  }
  return failed ? 1 : drifted ? 2 : 0;
}
