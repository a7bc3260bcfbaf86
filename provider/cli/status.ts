/**
 * `cdktf-bhyve status`: every host of the app, asked in parallel: readiness, reserved devices with
 * their drivers, switches with their bridges, guests with their state, restarts and last exit.
 * Exits 0 when every host answered.
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

/** A switch as the host has it: its bridge, and what is wrong with it. */
function switchState(ob: Observation, name: string): string {
  const w = ob.network.switches?.find((x) => x.name === name);
  if (!w?.present) return "missing";
  return w.uplink_attached ? w.bridge ?? "-" : `${w.bridge}, ${w.uplink_member} detached`;
}

/**
 * The status table: a row per host, continued on the next rows by its further devices, switches
 * (columns shown when a host declares any) and guests; then why hosts are not ready.
 */
export function statusTable(hosts: readonly FleetHost[], outcomes: readonly Outcome[]): string {
  const withSwitches = hosts.some((h) => h.desired.switches.length > 0);
  const rows = [["HOST", "ADDRESS", "READY", "REBOOT", "DEVICE", "BIND", "DRIVER", ...(withSwitches ? ["SWITCH", "BRIDGE"] : []), "GUEST", "STATE", "RESTARTS", "LAST EXIT"]];
  const blank = (n: number): string[] => Array<string>(n).fill("");
  const notes: string[] = [];
  hosts.forEach((h, i) => {
    const o = outcomes[i]!;
    if (!o.ok) {
      rows.push([label(h), h.address, "unknown", ...Array<string>(rows[0]!.length - 3).fill("-")]);
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
    const switches = h.desired.switches.map((w) => [w.name, switchState(ob, w.name)]);
    const lines = Math.max(1, devices.length, switches.length, guests.length);
    for (let k = 0; k < lines; k++) {
      const head = k === 0 ? [label(h), h.address, ready, ob.reboot.reboot_required ? "yes" : "no"] : blank(4);
      rows.push([...head, ...(devices[k] ?? blank(3)), ...(withSwitches ? switches[k] ?? blank(2) : []), ...(guests[k] ?? blank(4))]);
    }
    for (const n of ob.network.detached_nics ?? []) {
      notes.push(`  ${label(h)}: guest ${n.guest}'s ${n.tap ?? "tap"} is not on switch ${n.switch}'s ${n.bridge ?? "bridge"} (the next apply puts it back)`);
    }
    for (const d of ob.disks ?? []) for (const why of d.drift) notes.push(`  ${label(h)}: guest ${d.guest}'s disk ${d.path}: ${why}`);
    for (const v of ob.foreign ?? []) notes.push(`  ${label(h)}: VM ${v.name}${v.pid !== null ? ` (bhyve pid ${v.pid})` : " (no bhyve runs for it)"} is not the agent's: it never stops, destroys or changes it (cdktf-bhyve adopt ${h.address} reads whether it can be taken over as it runs)`);
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
        switches: ob.network.switches ?? [],
        detached_nics: ob.network.detached_nics ?? [],
        disk_drift: ob.disks ?? [],
        foreign_vms: ob.foreign ?? [],
        guests: ob.guests.map(({ name, state, reason, pid, restarts, last_exit }) => ({ name, state, reason, pid, restarts, last_exit })),
      };
    });
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    process.stdout.write(`${statusTable(a.hosts, outcomes)}\n`);
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}
