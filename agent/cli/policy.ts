/**
 * `bhyve-agent policy`: the policy in force (the file's settings over the defaults) and the devices
 * this host protects, with why. `bhyve-agent audit [--since T]`: the audit log, oldest first.
 */
import { stringify } from "yaml";
import { agentConfigPath, readAgentConfig } from "../host/config.js";
import { printable, readAudit } from "../host/audit.js";
import { protectedDevices, sessionAddresses } from "../host/protected.js";
import { policyDocument } from "../model/policy.js";
import { UserError } from "./errors.js";
import { hostOptions, shownArg, takeOption } from "./options.js";

/** `bhyve-agent policy [--root DIR] [--json]`. */
export async function policyCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent policy [--root DIR] [--json]";
  const o = hostOptions(args, usage);
  if (o.operands.length) throw new UserError(usage, "E_USAGE", 64);
  let policy;
  try {
    policy = readAgentConfig(o.paths).policy;
  } catch (err) {
    throw new UserError((err as Error).message, "E_CONFIG");
  }
  const prot = await protectedDevices(o.paths, sessionAddresses());
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ file: agentConfigPath(o.paths), policy: policyDocument(policy), protected: prot.devices, unmapped: prot.unmapped, notes: prot.notes }, null, 2)}\n`);
    return 0;
  }
  const lines = [`# policy in force (${agentConfigPath(o.paths)} over the defaults)`, stringify({ policy: policyDocument(policy) }).trimEnd(), "", "# devices this host depends on: never reserved unless named in policy.ppt.take_protected"];
  if (prot.devices.length === 0) lines.push("# (none found)");
  for (const d of prot.devices) lines.push(`#   ${d.device} ${d.name}: ${d.why}${policy.ppt.takeProtected.includes(d.device) ? " [released by take_protected]" : ""}`);
  for (const n of prot.notes) lines.push(`# note: ${n}`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** An ISO 8601 date, or date and time (seconds, fraction and zone optional). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * "2026-11-30T10:00:00Z" (ISO 8601 only: Date.parse alone takes "1" or "foo 12" for a year), or
 * an age: 30m, 2h, 7d. A time the clock cannot hold is refused, never read as "no limit".
 */
function parseSince(v: string): Date {
  const refuse = (why: string): never => {
    throw new UserError(`--since takes a time (2026-11-30T10:00:00Z) or an age (30m, 2h, 7d), not ${shownArg(v)}${why}`, "E_USAGE", 64);
  };
  const age = /^(\d{1,12})(s|m|h|d)$/.exec(v);
  const t = age ? Date.now() - Number(age[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[age[2] as "s" | "m" | "h" | "d"] : ISO_TIME.test(v) ? Date.parse(v) : refuse("");
  const date = new Date(t);
  if (Number.isNaN(date.getTime())) refuse(age ? ": that is before the earliest time the clock holds" : ": there is no such time");
  if (!age) {
    // Date.parse rolls 2026-02-30 over to March 2: the day must exist in its month.
    const [y, m, d] = v.slice(0, 10).split("-").map(Number) as [number, number, number];
    const day = new Date(0);
    day.setUTCFullYear(y, m - 1, d);
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) refuse(": there is no such day");
  }
  return date;
}

/** `bhyve-agent audit [--since T] [--root DIR] [--json]`. */
export async function auditCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent audit [--since TIME|AGE] [--root DIR] [--json]";
  const rest = [...args];
  const sinceText = takeOption(rest, "--since", usage);
  const since = sinceText === undefined ? undefined : parseSince(sinceText);
  const o = hostOptions(rest, usage);
  if (o.operands.length) throw new UserError(usage, "E_USAGE", 64);
  const entries = readAudit(o.paths, since);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  for (const e of entries) {
    const who = e.via === "ssh" ? `${e.client}${e.key ? ` key ${e.key}` : ""}` : "console";
    const what = e.outcome === "ok"
      ? `ok${e.changed?.length ? `, ${e.changed.length} change(s)` : ""}`
      : e.outcome === "pending"
        ? "pending: no outcome on record (the agent stopped during the change)"
        : `${e.outcome} ${e.code ?? ""}${e.message ? `: ${e.message.split("\n")[0]}` : ""}${e.refused?.length ? `: ${JSON.stringify(e.refused)}` : ""}`;
    // Everything in an entry may come from a request: escape it for the terminal.
    process.stdout.write(`${printable(`${e.time}  ${who}  ${e.method}  ${what}`)}\n`);
  }
  return 0;
}
