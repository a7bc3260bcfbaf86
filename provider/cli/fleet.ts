/**
 * `cdktf-bhyve status` and `cdktf-bhyve drift`: every host of a synthesized app, asked in
 * parallel (at most --parallel at a time, each with its own deadlines, so one slow host holds up
 * only itself), without Terraform state. A line on stderr as each host answers; the table or the
 * differences on stdout in the app's order. drift exits 0 in sync, 2 on drift, 1 when a host could
 * not be checked: a CI gate in either mode.
 */
import { parseArgs } from "node:util";
import { UserError } from "../../agent/cli/errors.js";
import { formatBsf } from "../../agent/model/pci-address.js";
import { AgentCallError, AgentConnection } from "../ssh/agent-client.js";
import { attachedDriver, differences, type Difference, type Observation } from "./fleet-compare.js";
import { readTargets, synthApp, type FleetHost } from "./fleet-targets.js";
import { clientOptions, sshFromFlags, SSH_OPTIONS, type SshSettings } from "./ssh-options.js";
import { table } from "./table.js";

const USAGE = (cmd: string) => `usage: cdktf-bhyve ${cmd} [--app DIR | --out DIR] [--stack NAME] [--json] [--parallel N]
                          [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s] [--command-timeout 10m]
  --app DIR    the CDKTF app to synthesize first (default: the current directory)
  --out DIR    an already synthesized cdktf.out, read as it is`;

interface FleetArgs {
  readonly hosts: FleetHost[];
  readonly json: boolean;
  readonly parallel: number;
  readonly ssh: SshSettings;
}

async function fleetArgs(cmd: string, args: string[]): Promise<FleetArgs> {
  let v: Record<string, unknown>;
  try {
    v = parseArgs({ args, options: { app: { type: "string" }, out: { type: "string" }, stack: { type: "string" }, json: { type: "boolean" }, parallel: { type: "string" }, ...SSH_OPTIONS }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE(cmd)}`, "E_USAGE", 64);
  }
  if (v.app !== undefined && v.out !== undefined) throw new UserError(`pass --app or --out, not both\n${USAGE(cmd)}`, "E_USAGE", 64);
  const parallel = v.parallel === undefined ? 8 : Number(v.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new UserError(`--parallel takes a whole number from 1 to 256\n${USAGE(cmd)}`, "E_USAGE", 64);
  const out = typeof v.out === "string" ? v.out : await synthApp(typeof v.app === "string" ? v.app : ".", (s) => process.stderr.write(`${s}\n`));
  return { hosts: readTargets(out, v.stack as string | undefined), json: v.json === true, parallel, ssh: sshFromFlags(v) };
}

/** What one host answered, or why it could not. */
type Outcome = { ok: true; observation: Observation } | { ok: false; error: string; code: string };

/** Fetches one host's observation over one SSH connection (the agent answers the calls in order). */
export async function observe(host: FleetHost, ssh: SshSettings): Promise<Outcome> {
  let conn: AgentConnection | undefined;
  try {
    conn = new AgentConnection(host.address, host.hostKey, clientOptions(ssh, host.ssh));
    const [document, loader, facts, reboot, guests] = await Promise.all([
      conn.call<Observation["document"]>("host.document"),
      conn.call<Observation["loader"]>("host.get"),
      conn.call<Observation["facts"]>("host.facts"),
      conn.call<Observation["reboot"]>("host.status"),
      conn.call<Observation["guests"]>("guest.list"),
    ]);
    const hello = conn.hello!;
    return { ok: true, observation: { agent: { version: hello.version, protocol: hello.protocol }, document, loader, facts, reboot, guests } };
  } catch (err) {
    if (err instanceof AgentCallError || err instanceof UserError) return { ok: false, error: err.message, code: err.code };
    throw err;
  } finally {
    conn?.close();
  }
}

/** Runs `work` over the hosts, at most `limit` at a time; `done` is called as each finishes. */
export async function eachHost<T>(hosts: readonly FleetHost[], limit: number, work: (h: FleetHost) => Promise<T>, done: (h: FleetHost, r: T, i: number, ms: number) => void): Promise<T[]> {
  const results = new Array<T>(hosts.length);
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const i = next++;
      const started = Date.now();
      results[i] = await work(hosts[i]!);
      done(hosts[i]!, results[i]!, ++finished, Date.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, hosts.length) }, worker));
  return results;
}

const label = (h: FleetHost): string => `${h.stack}/${h.id}`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function lastExit(g: Observation["guests"][number]): string {
  const e = g.last_exit;
  if (!e) return "-";
  return `${e.signal ?? `exit ${e.code}`} at ${e.at.replace(/\.\d+Z$/, "Z")}`;
}

/** The status table: a row per host, continued on the next rows by its further devices and guests; then why hosts are not ready. */
export function statusTable(hosts: readonly FleetHost[], outcomes: readonly Outcome[]): string {
  const rows = [["HOST", "ADDRESS", "READY", "REBOOT", "DEVICE", "BIND", "DRIVER", "GUEST", "STATE", "RESTARTS", "LAST EXIT"]];
  const notes: string[] = [];
  hosts.forEach((h, i) => {
    const o = outcomes[i]!;
    if (!o.ok) {
      rows.push([label(h), h.address, "unknown", "-", "-", "-", "-", "-", "-", "-", "-"]);
      notes.push(`  ${label(h)}: ${o.error}`);
      return;
    }
    const ob = o.observation;
    const ready = ob.facts.passthru_ready ? "yes" : `no: ${ob.facts.problems[0]?.code ?? "?"}`;
    const devices = h.desired.ppt.map((r) => {
      const dev = formatBsf(r.device);
      return [dev, r.bind, attachedDriver(ob, dev) ?? "-"];
    });
    const names = [...new Set([...h.desired.guests.map((g) => g.name), ...ob.guests.map((g) => g.name)])];
    const guests = names.map((n) => {
      const g = ob.guests.find((x) => x.name === n);
      return g ? [n, g.state, String(g.restarts), lastExit(g)] : [n, "missing", "-", "-"];
    });
    const lines = Math.max(1, devices.length, guests.length);
    for (let k = 0; k < lines; k++) {
      const head = k === 0 ? [label(h), h.address, ready, ob.reboot.reboot_required ? "yes" : "no"] : ["", "", "", ""];
      rows.push([...head, ...(devices[k] ?? ["", "", ""]), ...(guests[k] ?? ["", "", "", ""])]);
    }
    for (const p of ob.facts.problems) notes.push(`  ${label(h)}: ${p.code}: ${p.message}`);
    for (const r of ob.reboot.reboot_reasons) notes.push(`  ${label(h)}: after a reboot: ${r.what}: ${r.detail}`);
  });
  return [table(rows, ""), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** `status`: 0 when every host answered, 1 otherwise. */
export async function statusCommand(args: string[]): Promise<number> {
  const a = await fleetArgs("status", args);
  const outcomes = await eachHost(a.hosts, a.parallel, (h) => observe(h, a.ssh), (h, r, i, ms) => {
    process.stderr.write(`[${i}/${a.hosts.length}] ${label(h)} ${h.address}: ${r.ok ? "answered" : `error: ${r.error.split("\n")[0]}`} (${secs(ms)})\n`);
  });
  if (a.json) {
    const json = a.hosts.map((h, i) => {
      const o = outcomes[i]!;
      const base = { stack: h.stack, id: h.id, address: h.address };
      if (!o.ok) return { ...base, error: { code: o.code, message: o.error } };
      const ob = o.observation;
      return {
        ...base,
        agent: ob.agent,
        passthru_ready: ob.facts.passthru_ready,
        problems: ob.facts.problems,
        reboot_required: ob.reboot.reboot_required,
        reboot_reasons: ob.reboot.reboot_reasons,
        devices: h.desired.ppt.map((r) => {
          const dev = formatBsf(r.device);
          const driver = attachedDriver(ob, dev);
          return { device: dev, bind: r.bind, driver, bound: /^ppt\d*$/.test(driver ?? "") };
        }),
        guests: ob.guests.map(({ name, state, reason, pid, restarts, last_exit }) => ({ name, state, reason, pid, restarts, last_exit })),
      };
    });
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${statusTable(a.hosts, outcomes)}\n`);
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

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
