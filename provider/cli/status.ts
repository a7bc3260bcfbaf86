/**
 * `cdktf-bhyve status`: every host of the app, asked in parallel: readiness, reserved devices with
 * their drivers, guests with their state, restarts and last exit. Exits 0 when every host answered.
 */
import { formatBsf } from "../../agent/model/pci-address.js";
import { attachedDriver, type Observation } from "./lib/fleet-compare.js";
import type { FleetHost } from "./lib/fleet-targets.js";
import { eachHost, fleetArgs, label, observe, secs, type Outcome } from "./lib/fleet.js";
import { table } from "./lib/table.js";

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
