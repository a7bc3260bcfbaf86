import { checkDocumentText, toDocument } from "../model/document.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GUEST_NAME } from "../model/decode.js";
import { isTapPlanList, tapsUp } from "../guests/network.js";
import type { ConvergeResult } from "../engine/converge.js";
import { applyDocument, autostart, shutdownGuests, status } from "../engine/service.js";
import { asUserError, UserError } from "./errors.js";
import { hostOptions } from "./options.js";
import { readInput } from "./read-input.js";
import { refusal } from "./validate.js";
import { audited } from "../host/audit.js";
import type { HostPaths } from "../host/paths.js";

/** The text form of a converge result. */
export function formatResult(r: ConvergeResult): string {
  const lines: string[] = [];
  for (const c of r.changed) lines.push(`changed  ${c.what}: ${c.detail}`);
  for (const c of r.pending) lines.push(`pending  ${c.what}: ${c.detail}`);
  for (const c of r.refused) lines.push(`refused  ${c.what}: ${c.detail}`);
  for (const w of r.warnings) lines.push(`warning  ${w}`);
  if (!r.changed.length && !r.pending.length && !r.refused.length) lines.push("no changes: the host matches the desired state");
  if (r.reboot_required) lines.push("reboot required: some of the desired state takes effect at the next boot");
  return `${lines.join("\n")}\n`;
}

async function run(json: boolean, work: () => Promise<ConvergeResult>, audit?: { paths: HostPaths; method: string; request: unknown }): Promise<number> {
  let r: ConvergeResult;
  try {
    r = audit ? await audited(audit.paths, audit.method, audit.request, work) : await work();
  } catch (err) {
    // A refused document's message is its first problems and how many more.
    throw asUserError(err);
  }
  process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : formatResult(r));
  return r.refused.length ? 1 : 0;
}

/** `bhyve-agent apply FILE|- [--root DIR] [--json]`: converge the host to a document. Exit 1 when something was refused. */
export async function applyCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent apply FILE|- [--root DIR] [--json]";
  const o = hostOptions(args, usage);
  if (o.operands.length !== 1) throw new UserError(usage, "E_USAGE", 64);
  const check = checkDocumentText(await readInput(o.operands[0]!));
  if (!check.ok) throw refusal(check);
  return run(o.json, () => applyDocument(o.paths, check.state), { paths: o.paths, method: "apply", request: { document: toDocument(check.state) } });
}

/** `bhyve-agent autostart [--root DIR]`: at boot, converge to the stored desired state, guests in start_order. */
export async function autostartCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent autostart [--root DIR] [--json]";
  const o = hostOptions(args, usage);
  if (o.operands.length) throw new UserError(usage, "E_USAGE", 64);
  try {
    return await run(o.json, () => autostart(o.paths), { paths: o.paths, method: "autostart", request: {} });
  } catch (err) {
    // At boot: say plainly that nothing was started, and why, rather than fail obscurely.
    if (err instanceof UserError && err.code === "E_STATE") throw new UserError(`autostart started no guest: ${err.message}`, err.code);
    throw err;
  }
}

/** `bhyve-agent shutdown [--root DIR]`: stop every guest (for the rc.d script at shutdown); the desired state is kept. */
export async function shutdownCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent shutdown [--root DIR] [--json]";
  const o = hostOptions(args, usage);
  if (o.operands.length) throw new UserError(usage, "E_USAGE", 64);
  return run(o.json, () => shutdownGuests(o.paths), { paths: o.paths, method: "shutdown", request: {} });
}

/** `bhyve-agent status [--root DIR] [--json]`. */
export async function statusCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent status [--root DIR] [--json]";
  const o = hostOptions(args, usage);
  if (o.operands.length) throw new UserError(usage, "E_USAGE", 64);
  const s = await status(o.paths);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  const lines = ["GUEST            STATE      PID      RESTARTS  LAST EXIT"];
  for (const g of s.guests) {
    const last = g.last_exit ? (g.last_exit.signal ?? `exit ${g.last_exit.code}`) : "-";
    lines.push(`${g.name.padEnd(16)} ${g.state.padEnd(10)} ${String(g.pid ?? "-").padEnd(8)} ${String(g.restarts).padEnd(9)} ${last}`);
  }
  lines.push("", "DEVICE     BOUND  DRIVER");
  for (const p of s.ppt) lines.push(`${p.device.padEnd(10)} ${(p.bound ? "yes" : "no").padEnd(6)} ${p.driver ?? "none"}`);
  if (s.switches.length) {
    lines.push("", "SWITCH           BRIDGE     PRESENT  UPLINK");
    for (const w of s.switches) lines.push(`${w.name.padEnd(16)} ${(w.bridge ?? "-").padEnd(10)} ${(w.present ? "yes" : "no").padEnd(8)} ${w.uplink_member === null ? "-" : `${w.uplink_member}${w.uplink_attached ? "" : " (not attached)"}`}`);
  }
  for (const n of s.detached_nics) lines.push(`drift: guest ${n.guest}'s ${n.tap ?? "tap"} is not on switch ${n.switch}'s ${n.bridge ?? "bridge"}; apply again to put it back`);
  lines.push("", s.reboot_required ? `reboot required: ${s.reboot_reasons.map((r) => `${r.what} (${r.detail})`).join("; ")}` : "no reboot pending");
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/**
 * `bhyve-agent net-up GUEST [--root DIR]`: the guest's monitor runs it before every start. Makes
 * the guest's taps (spec net.json) ready on their switches' bridges; exit 1, saying why, when one
 * cannot be (the monitor then counts the start as failed). Takes no host lock: it touches only the
 * guest's own taps, and the converge that starts the monitor may hold the lock meanwhile.
 */
export async function netUpCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent net-up GUEST [--root DIR]";
  const o = hostOptions(args, usage);
  const [name, ...rest] = o.operands;
  if (name === undefined || rest.length || !GUEST_NAME.test(name)) throw new UserError(usage, "E_USAGE", 64);
  const file = join(o.paths.guestSpecDir(name), "net.json");
  if (!existsSync(file)) return 0;
  const plans: unknown = JSON.parse(readFileSync(file, "utf8"));
  // The spec is the agent's own file; still, only names the agent makes are acted on.
  if (!isTapPlanList(plans)) {
    throw new UserError(`${file}: not a list of taps on bridges; apply the desired state again to rewrite it`, "E_SPEC_INVALID");
  }
  for (const line of await tapsUp(o.paths, plans)) process.stdout.write(`bhyve-agent net-up: ${name}: ${line}\n`);
  return 0;
}
