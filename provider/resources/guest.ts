/**
 * bhyve_guest: a guest and its passthrough slots. `command_line` is the bhyve argv the
 * configuration renders to (known at plan time, so a review reads the exact command); `argv` is
 * what the host really runs. Read reports the guest as it is: stopped, crashed or running with
 * other arguments shows as a planned update, and a guest deleted behind Terraform's back is planned
 * again.
 */
import { checkGuestAlone } from "../../agent/model/validate.js";
import { parsePciAddress } from "../../agent/model/pci-address.js";
import { guestToDocument } from "../../agent/model/canonical.js";
import { formatProblems, pathSegments } from "../../agent/model/problems.js";
import { GUEST_UP_STATES, type ChangeResult } from "../../agent/rpc/protocol.js";
import { renderBhyveArgv } from "../../agent/model/render.js";
import type { Guest } from "../../agent/model/types.js";
import { instanceId } from "../../agent/model/cloud-init.js";
import { formatSize, parseSize } from "../../agent/model/size.js";
import { replacedAttributes } from "../plugin/schema.js";
import { DiagnosticError, type Diagnostic, type ObjectValue, type ResourceDef } from "../plugin/types.js";
import { containsUnknown, isUnknown, UNKNOWN, type Value } from "../plugin/values.js";
import { problemDiagnostics, resultDiagnostics, toDiagnostic, type ProviderContext } from "./context.js";
import { carry, differs, validateConnection } from "./common.js";
import { attributePathOf, fromDocumentForm, toDocumentForm, withDefaults } from "./document-map.js";
import { GUEST_SCHEMA as schema } from "./guest-schema.js";

/** The attributes and blocks that are the guest's document. */
const DOCUMENT = [
  ...Object.entries(schema.attributes).filter(([, a]) => a.document).map(([k]) => k),
  ...Object.entries(schema.blocks ?? {}).filter(([, b]) => b.document).map(([k]) => k),
];
/** The attributes a change of which updates the guest in place: its document, and the host key it is reached with. */
const CONFIG = [...DOCUMENT.filter((k) => !schema.attributes[k]?.requiresReplace), "host_key"];
const list = (v: Value | undefined): ObjectValue[] => (Array.isArray(v) ? (v as ObjectValue[]) : []);

/** The agent's guest document for a configuration (known values only); a switch NIC's tap is the agent's, not the document's. */
function guestDocument(v: ObjectValue): Record<string, unknown> {
  const doc = toDocumentForm(schema, v);
  if (Array.isArray(doc.nics)) doc.nics = (doc.nics as Array<Record<string, unknown>>).map((n) => (n.switch !== undefined ? Object.fromEntries(Object.entries(n).filter(([k]) => k !== "tap")) : n));
  return doc;
}

/**
 * The taps of a guest's switch NICs in the planned or observed values: a switch NIC keeps the tap
 * it had (same index, same switch), else its tap is unknown until the agent allocates it.
 */
function planTaps(planned: ObjectValue[], prior: ObjectValue[] | null): ObjectValue[] {
  return planned.map((n, i) => {
    if (typeof n.switch !== "string") return n;
    const before = prior?.[i];
    return { ...n, tap: before && before.switch === n.switch && typeof before.tap === "string" ? before.tap : UNKNOWN };
  });
}

/** The guest with its switch NICs' taps from the NIC values; null while one is unknown. */
function withTaps(g: Guest, nics: ObjectValue[]): Guest | null {
  const out = g.nics.map((n, i) => (n.switch === undefined ? n : typeof nics[i]?.tap === "string" ? { ...n, tap: nics[i]!.tap as string } : null));
  return out.some((n) => n === null) ? null : { ...g, nics: out as Guest["nics"] };
}

/** Each disk's path: given, or for a disk the agent makes, its volume's node or its file (unknown while those are). */
function planDiskPaths(disks: ObjectValue[]): ObjectValue[] {
  return disks.map((d) => {
    if (isUnknown(d.zvol) || isUnknown(d.file)) return typeof d.path === "string" ? d : { ...d, path: UNKNOWN };
    if (typeof d.zvol === "string") return { ...d, path: `/dev/zvol/${d.zvol}` };
    if (typeof d.file === "string") return { ...d, path: d.file };
    return d;
  });
}

/** The cloud-init block with its instance id (unknown while the content is). */
function planCloudInit(name: Value, blocks: ObjectValue[]): ObjectValue[] {
  return blocks.map((b) => {
    const known = typeof name === "string" && typeof b.user_data === "string" && !isUnknown(b.meta_data) && !isUnknown(b.network_config);
    return { ...b, instance_id: known ? instanceId(name, { userData: b.user_data as string, ...(typeof b.meta_data === "string" ? { metaData: b.meta_data } : {}), ...(typeof b.network_config === "string" ? { networkConfig: b.network_config } : {}) }) : UNKNOWN };
  });
}

/** A disk the agent makes, as messages name it. */
const diskLabel = (d: ObjectValue): string => (typeof d.zvol === "string" ? `volume ${d.zvol}` : `file ${String(d.file)}`);

/** A planned disk size below the size the same disk has now (its prior, read value): E_SHRINK at plan, naming the attribute. */
function shrinkDiagnostics(prior: ObjectValue[], planned: ObjectValue[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  planned.forEach((d, i) => {
    const same = (p: ObjectValue): boolean => (typeof d.zvol === "string" && p.zvol === d.zvol) || (typeof d.file === "string" && p.file === d.file);
    const before = prior.find(same);
    if (!before || typeof before.size !== "string" || typeof d.size !== "string") return;
    const was = parseSize(before.size);
    const now = parseSize(d.size);
    if (!was.ok || !now.ok || now.bytes >= was.bytes) return;
    out.push({ severity: "error", summary: "A disk cannot shrink (E_SHRINK)", detail: `size ${formatSize(now.bytes)} is smaller than the ${formatSize(was.bytes)} ${diskLabel(d)} has: disks only grow (shrinking would cut off the guest's data); set size to ${formatSize(was.bytes)} or more`, attribute: ["disk", i, "size"] });
  });
  return out;
}

/** What a delete (or a replacement, which deletes first) of `prior` destroys: its disks that say on_delete = "destroy". */
function destroyWarnings(prior: ObjectValue, what: string): Diagnostic[] {
  const doomed = list(prior.disk).filter((d) => d.on_delete === "destroy").map(diskLabel);
  if (doomed.length === 0) return [];
  return [{ severity: "warning", summary: `${what} destroys ${doomed.length === 1 ? "a disk" : `${doomed.length} disks`}`, detail: `on_delete = "destroy": ${doomed.join(", ")} (only what the agent made for this guest; its other disks are kept)`, attribute: ["disk"] }];
}

/** Maps a guest problem's path (passthru[1].slot, also as the agent sends it: guest.passthru[1].slot) to the attribute path. */
function attributePath(text: string): Array<string | number> | undefined {
  const at = pathSegments(text);
  if (!at) return undefined;
  const rest = at[0] === "guests" && typeof at[1] === "number" ? at.slice(2) : at[0] === "guest" ? at.slice(1) : at;
  return attributePathOf(schema, rest);
}

/** Checks a fully known configuration with the model, as the agent checks guest.put (each passthrough device taken as reserved). */
function specCheck(v: ObjectValue): { guest: Guest | null; diagnostics: Diagnostic[] } {
  const r = checkGuestAlone(guestDocument(v));
  if (r.ok) return { guest: r.guest, diagnostics: [] };
  return { guest: null, diagnostics: problemDiagnostics(r.problems, "Invalid guest configuration", attributePath) };
}

function validate(config: ObjectValue): Diagnostic[] {
  const diags = validateConnection(config);
  if (containsUnknown(config)) return diags;
  return [...diags, ...specCheck(config).diagnostics];
}

async function observe(ctx: ProviderContext, address: string, hostKey: string, name: string, prior?: ObjectValue): Promise<ObjectValue | null> {
  const g = await ctx.call(address, hostKey, "guest.get", { name });
  if (!g.desired) return null;
  // The agent's stored configuration, read through the same model that checks a configuration.
  const decoded = checkGuestAlone(g.desired);
  if (!decoded.ok) throw new DiagnosticError(`Unreadable guest ${name} on ${address}`, `the agent's stored configuration of ${name} does not pass this provider's model: ${formatProblems(decoded.problems)}`);
  const running = g.monitor_pid !== null && GUEST_UP_STATES.has(g.state);
  const values = fromDocumentForm(schema, guestToDocument(decoded.guest), prior) as ObjectValue;
  // The UUID: the configuration's, or the one the agent made and keeps (a computed value).
  values.uuid = g.uuid ?? values.uuid ?? null;
  // Whether it keeps UEFI variables: the model's value (its default follows the bootrom).
  values.uefi_vars = decoded.guest.uefiVars;
  // The framebuffer's port: the configuration's, or the one the agent allocated and keeps (computed).
  const vncPort = g.vnc?.port ?? decoded.guest.framebuffer?.port ?? null;
  values.framebuffer = list(values.framebuffer).map((f) => ({ ...f, port: vncPort }));
  const varsGone = g.uefi_vars_present === false;
  // Switch NICs: the taps the agent allocated, in NIC order.
  const network = [...(g.network ?? [])];
  values.nic = list(values.nic).map((n) => (typeof n.switch === "string" ? { ...n, tap: network.shift()?.tap ?? null } : n));
  // A disk the agent makes reads as the host has it: its size now (null when it is missing) and
  // whether it is sparse, so that a volume shrunk, lost or changed behind the agent's back is drift.
  const disks = g.disks ?? [];
  values.disk = list(values.disk).map((d, i) => {
    const v = disks.find((x) => x.index === i);
    const m = decoded.guest.disks[i]?.managed;
    if (!v || !m) return d;
    // sparse and on_delete written out at their defaults in the configuration read as written.
    const before = list(prior?.disk)[i];
    if (before?.sparse === m.sparse && m.kind === "zvol") d = { ...d, sparse: m.sparse };
    if (before?.on_delete === m.onDelete) d = { ...d, on_delete: m.onDelete };
    const size: Value = m.size === undefined ? (d.size ?? null) : v.exists && v.owner === name && v.size !== null ? (m.size === v.size ? (d.size ?? null) : formatSize(v.size)) : null;
    const sparse: Value = m.kind === "zvol" && m.clone === undefined && v.sparse !== null && v.sparse !== m.sparse ? v.sparse : (d.sparse ?? null);
    return { ...d, size, sparse };
  });
  values.cloud_init = planCloudInit(name, list(values.cloud_init));
  // Disk drift no attribute shows is a status of its own, as a detached NIC: a missing disk without a
  // size, one that is no longer the agent's or not a volume (or file), a changed volmode or block size.
  const diskDrift = disks.some((v) => {
    const m = decoded.guest.disks[v.index]?.managed;
    if (!m || v.drift.length === 0) return false;
    if (!v.exists) return m.size === undefined;
    return v.owner !== name || v.size === null || (m.kind === "zvol" && (v.volmode !== "dev" || (m.volblocksize !== undefined && v.volblocksize !== m.volblocksize)));
  });
  const d = {
    ...(withTaps(decoded.guest, list(values.nic)) ?? decoded.guest),
    ...(typeof values.uuid === "string" ? { uuid: values.uuid } : {}),
    ...(decoded.guest.framebuffer && vncPort !== null ? { framebuffer: { ...decoded.guest.framebuffer, port: vncPort } } : {}),
  };
  // A switch NIC whose tap is off its bridge is drift, as a guest that does not run.
  const detached = running && (g.network ?? []).some((n) => !n.on_bridge);
  return {
    id: `${address}/${name}`,
    address,
    host_key: hostKey,
    ...values,
    name,
    state: running ? "running" : "stopped",
    command_line: renderBhyveArgv(d),
    argv: running ? (g.argv ?? []) : [],
    status: g.monitor_pid === null && GUEST_UP_STATES.has(g.state) ? "stopped" : detached ? "detached" : running && varsGone ? "vars-missing" : running && diskDrift ? "disk-drift" : g.state,
    restarts: g.restarts,
  };
}

/** The bhyve_guest resource. */
export function guestResource(ctx: ProviderContext): ResourceDef {
  return {
    schema,
    version: 0,
    validate,
    planDelete(prior) {
      return destroyWarnings(prior, `Deleting guest ${String(prior.name)}`);
    },
    async plan(prior, proposed, config) {
      // Optional attributes with defaults come from the configuration, not from the proposal:
      // Terraform proposes the prior (read) value for them, which would hide drift.
      const planned = withDefaults(schema, config, proposed) as ObjectValue;
      planned.id = typeof proposed.address === "string" && typeof proposed.name === "string" ? `${proposed.address}/${proposed.name}` : UNKNOWN;
      // A passthrough's guest function defaults to its host function: known once the device is.
      planned.passthru = list(config.passthru).map((p) => {
        if (p.function !== null) return p;
        const r = typeof p.device === "string" ? parsePciAddress(p.device) : null;
        return { ...p, function: r?.ok ? r.address.function : UNKNOWN };
      });
      const requiresReplace = replacedAttributes(schema, prior, proposed);
      const replace = requiresReplace.length > 0;
      const diags: Diagnostic[] = [];
      planned.nic = planTaps(list(planned.nic), prior ? list(prior.nic) : null);
      planned.disk = planDiskPaths(list(planned.disk));
      // Disks only grow: a size below the one the disk has (read into the prior state) fails the plan, as the agent would refuse it.
      if (prior && !replace) diags.push(...shrinkDiagnostics(list(prior.disk), list(planned.disk)));
      planned.cloud_init = planCloudInit(planned.name ?? null, list(planned.cloud_init));
      // The UUID: the configuration's; else the one the agent made (kept from the prior state), unknown until it makes one.
      planned.uuid = typeof config.uuid === "string" ? config.uuid : !replace && typeof prior?.uuid === "string" ? prior.uuid : UNKNOWN;
      // The framebuffer's port: the configuration's; else the one the agent allocated (kept from the prior state), unknown until it does.
      const priorPort = !replace ? list(prior?.framebuffer)[0]?.port : undefined;
      planned.framebuffer = list(planned.framebuffer).map((f, i) => {
        const given = list(config.framebuffer)[i]?.port;
        return { ...f, port: typeof given === "number" ? given : typeof priorPort === "number" ? priorPort : UNKNOWN };
      });
      // UEFI variables: the configuration's choice, else on exactly for a UEFI guest (the model's default).
      planned.uefi_vars = typeof config.uefi_vars === "boolean" ? config.uefi_vars : isUnknown(config.bootrom) ? UNKNOWN : typeof config.bootrom === "string";
      let commandLine: Value = UNKNOWN;
      if (!containsUnknown({ ...planned, nic: list(planned.nic).map((n) => (typeof n.switch === "string" ? { ...n, tap: null } : n)) })) {
        const check = specCheck(planned);
        diags.push(...check.diagnostics);
        const resolved = check.guest ? withTaps(check.guest, list(planned.nic)) : null;
        if (resolved) commandLine = renderBhyveArgv(resolved);
      }
      planned.command_line = commandLine;
      const configChanged = replace || differs(prior, planned, CONFIG);
      const wantRunning = planned.state === "running";
      // Drift: the guest should run but does not, or runs another command line.
      const drifted = !!prior && !replace && wantRunning && (prior.status !== "running" || JSON.stringify(prior.argv) !== JSON.stringify(commandLine));
      const changed = configChanged || drifted || prior?.state !== planned.state;
      Object.assign(planned, carry(prior, ["status", "restarts"], changed));
      planned.argv = !changed && prior ? prior.argv! : wantRunning ? UNKNOWN : [];
      if (prior && replace) diags.push(...destroyWarnings(prior, `Replacing guest ${String(prior.name)}`));
      if (prior && !replace && configChanged && prior.status === "running" && wantRunning && JSON.stringify(prior.command_line) !== JSON.stringify(commandLine)) {
        diags.push({ severity: "warning", summary: `Guest ${planned.name} will be restarted`, detail: "its command line changes: the guest is powered off (ACPI, then forced after the timeout) and started again", attribute: ["command_line"] });
      }
      return { planned, requiresReplace, diagnostics: diags };
    },
    async apply(prior, planned) {
      const target = planned ?? prior!;
      const address = target.address as string;
      const hostKey = target.host_key as string;
      const name = target.name as string;
      const concerns = (w: string): boolean => w === `guest ${name}`;
      if (!planned) {
        const r = await ctx.call(address, hostKey, "guest.delete", { name });
        return { state: null, diagnostics: resultDiagnostics(r, address, concerns) };
      }
      let r: ChangeResult;
      try {
        r = await ctx.call(address, hostKey, "guest.put", { guest: guestDocument(planned) });
      } catch (err) {
        throw err instanceof DiagnosticError ? err : toDiagnostic(err, address, attributePath);
      }
      const diags = resultDiagnostics(r, address, concerns);
      const state = await observe(ctx, address, hostKey, name, planned);
      if (!state) throw new DiagnosticError("Guest missing after apply", `${address}: the agent does not list guest ${name}`);
      // The desired state is what was applied; whether it runs yet is status/argv (a refusal is an error above).
      const applied: ObjectValue = { ...state, ...Object.fromEntries(DOCUMENT.map((k) => [k, planned[k] ?? null])) };
      // The taps the agent allocated for the switch NICs (unknown in the plan).
      applied.nic = list(planned.nic).map((n, i) => (typeof n.switch === "string" ? { ...n, tap: list(state.nic)[i]?.tap ?? null } : n));
      // A UUID left to the agent is unknown in the plan of a new guest: the one it made.
      if (typeof planned.uuid !== "string") applied.uuid = state.uuid ?? null;
      // So is the port it allocates for a framebuffer.
      applied.framebuffer = list(planned.framebuffer).map((f, i) => (typeof f.port === "number" ? f : { ...f, port: list(state.framebuffer)[i]?.port ?? null }));
      return { state: applied, diagnostics: diags };
    },
    async read(state) {
      return { state: await observe(ctx, state.address as string, state.host_key as string, state.name as string, state), diagnostics: [] };
    },
    async import(id) {
      const m = /^(.+)\/([A-Za-z0-9][A-Za-z0-9_.-]{0,30})$/.exec(id);
      if (!m) throw new DiagnosticError("Invalid import id", `expected ADDRESS/NAME (e.g. 10.0.0.5/ml1), got "${id}"`);
      const state = await observe(ctx, m[1]!, ctx.importKey(m[1]!), m[2]!);
      if (!state) {
        // A VM of that name that the agent did not create has no state to import: it is taken over with adopt instead.
        const g = await ctx.call(m[1]!, ctx.importKey(m[1]!), "guest.get", { name: m[2]! });
        if (g.vm_foreign) throw new DiagnosticError("Not the agent's guest", `a VM named ${m[2]} runs on ${m[1]}, but the agent did not create it, so it has nothing of it to import; declare the guest with adopt = true instead (cdktf-bhyve adopt ${m[1]} writes that configuration when the VM can be taken over as it runs) and apply`);
        throw new DiagnosticError("No such guest", `the agent on ${m[1]} has no guest ${m[2]} in its desired state`);
      }
      return { state, diagnostics: [] };
    },
  };
}
