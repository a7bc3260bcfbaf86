/**
 * bhyve_guest: a guest and its passthrough slots. `command_line` is the bhyve argv the
 * configuration renders to (known at plan time, so a review reads the exact command); `argv` is
 * what the host really runs. Read reports the guest as it is: stopped, crashed or running with
 * other arguments shows as a planned update, and a guest deleted behind Terraform's back is planned
 * again.
 */
import { checkGuestAlone } from "../../agent/model/validate.js";
import { parsePciAddress, formatBsf } from "../../agent/model/pci-address.js";
import { formatSize, parseSize } from "../../agent/model/size.js";
import { formatProblems, pathSegments } from "../../agent/model/problems.js";
import { GUEST_UP_STATES, type ChangeResult } from "../../agent/rpc/protocol.js";
import { renderBhyveArgv } from "../../agent/model/render.js";
import type { Guest } from "../../agent/model/types.js";
import { replacedAttributes, type BlockDef } from "../plugin/schema.js";
import { DiagnosticError, type Diagnostic, type ObjectValue, type ResourceDef } from "../plugin/types.js";
import { containsUnknown, isUnknown, UNKNOWN, type Value } from "../plugin/values.js";
import { resultDiagnostics, toDiagnostic, type ProviderContext } from "./context.js";
import { carry, CONNECTION_ATTRIBUTES, differs, validateConnection } from "./common.js";

const schema: BlockDef = {
  description: "A bhyve guest on a host, run by the host's agent under its own bhyve-monitor.",
  attributes: {
    id: { type: "string", computed: true, description: "ADDRESS/NAME." },
    ...CONNECTION_ATTRIBUTES,
    name: { type: "string", required: true, requiresReplace: true, description: "The VM name: 1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit. Changing it replaces the guest." },
    cpus: { type: "number", required: true, description: "Virtual CPUs." },
    memory: { type: "string", required: true, description: "Memory: bytes or a size with K/M/G/T (32G). At least 128M." },
    bootrom: { type: "string", optional: true, description: "UEFI firmware (e.g. /usr/local/share/uefi-firmware/BHYVE_UEFI.fd). Without it the guest boots with bhyveload from its first disk." },
    state: { type: "string", optional: true, computed: true, description: "running or stopped. Default running. Reads stopped when the guest is not running (powered off, crashed)." },
    restart: { type: "string", optional: true, computed: true, description: "always (also after a crash, with backoff), on-reboot (only after a guest reboot) or never. Default on-reboot." },
    start_order: { type: "number", optional: true, computed: true, description: "Lower starts first at boot. Default 0." },
    command_line: { type: ["list", "string"], computed: true, description: "The bhyve command line this configuration renders to." },
    argv: { type: ["list", "string"], computed: true, description: "The bhyve command line running now (empty when the guest is not running)." },
    status: { type: "string", computed: true, description: "What the guest's monitor reports: running, starting, backoff, stopping, stopped, crashed." },
    restarts: { type: "number", computed: true, description: "Restarts since the guest's monitor started." },
  },
  blocks: {
    disk: {
      block: {
        description: "A disk.",
        attributes: {
          path: { type: "string", required: true, description: "Host path of the disk (a zvol or an image file)." },
          type: { type: "string", optional: true, computed: true, description: "virtio-blk (default), nvme, ahci-hd or ahci-cd." },
          slot: { type: "number", optional: true, description: "Guest PCI slot; allocated from 4 when absent." },
        },
      },
    },
    nic: {
      block: {
        description: "A network interface on a host tap.",
        attributes: {
          tap: { type: "string", required: true, description: "Host interface (tap0)." },
          model: { type: "string", optional: true, computed: true, description: "virtio-net (default) or e1000." },
          mac: { type: "string", optional: true, description: "Fixed MAC address." },
          slot: { type: "number", optional: true, description: "Guest PCI slot; allocated from 15 when absent." },
        },
      },
    },
    passthru: {
      block: {
        description: "A reserved host PCI function handed to the guest.",
        attributes: {
          device: { type: "string", required: true, description: "Host B/S/F (3/0/0), reserved with a bhyve_ppt_device." },
          slot: { type: "number", required: true, description: "Guest PCI slot (1-30)." },
          function: { type: "number", optional: true, computed: true, description: "Guest PCI function (0-7); defaults to the host function." },
          rom: { type: "string", optional: true, description: "Option ROM file (a GPU VBIOS dump)." },
        },
      },
    },
  },
};

const CONFIG = ["cpus", "memory", "bootrom", "disk", "nic", "passthru", "restart", "start_order", "host_key"] as const;
const list = (v: Value | undefined): ObjectValue[] => (Array.isArray(v) ? (v as ObjectValue[]) : []);
const opt = (o: Record<string, unknown>, k: string, v: Value | undefined): void => {
  if (v !== null && v !== undefined && !isUnknown(v)) o[k] = v;
};

/** The agent's guest document for a configuration (known values only). */
function guestDocument(v: ObjectValue): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: v.name, cpus: v.cpus, memory: v.memory };
  opt(doc, "bootrom", v.bootrom);
  opt(doc, "state", v.state);
  opt(doc, "restart", v.restart);
  opt(doc, "start_order", v.start_order);
  doc.disks = list(v.disk).map((d) => {
    const o: Record<string, unknown> = { path: d.path };
    opt(o, "type", d.type);
    opt(o, "slot", d.slot);
    return o;
  });
  doc.nics = list(v.nic).map((n) => {
    const o: Record<string, unknown> = { tap: n.tap };
    opt(o, "model", n.model);
    opt(o, "mac", n.mac);
    opt(o, "slot", n.slot);
    return o;
  });
  doc.passthru = list(v.passthru).map((p) => {
    const o: Record<string, unknown> = { device: p.device, slot: p.slot };
    opt(o, "function", p.function);
    opt(o, "rom", p.rom);
    return o;
  });
  return doc;
}

/** Maps a guest problem's path (passthru[1].slot, also as the agent sends it: guest.passthru[1].slot) to the attribute path. */
function attributePath(path: string): Array<string | number> | undefined {
  const at = pathSegments(path);
  if (!at) return undefined;
  const rest = at[0] === "guests" && typeof at[1] === "number" ? at.slice(2) : at[0] === "guest" ? at.slice(1) : at;
  if (rest.length === 0) return undefined;
  const names: Record<string, string> = { disks: "disk", nics: "nic" };
  return rest.map((k) => (typeof k === "string" ? (names[k] ?? k) : k));
}

/** Checks a fully known configuration with the model, as the agent checks guest.put (each passthrough device taken as reserved). */
function specCheck(v: ObjectValue): { guest: Guest | null; diagnostics: Diagnostic[] } {
  const r = checkGuestAlone(guestDocument(v));
  if (r.ok) return { guest: r.guest, diagnostics: [] };
  return {
    guest: null,
    diagnostics: r.problems.map((p) => {
      const attribute = attributePath(p.path);
      return { severity: "error" as const, summary: "Invalid guest configuration", detail: `${p.path}: ${p.message}`, ...(attribute ? { attribute } : {}) };
    }),
  };
}

function validate(config: ObjectValue): Diagnostic[] {
  const diags = validateConnection(config);
  if (containsUnknown(config)) return diags;
  return [...diags, ...specCheck(config).diagnostics];
}

/** Keeps the user's spelling of a value when it means the same as the agent's. */
function sameMemory(prior: Value | undefined, agent: string): string {
  if (typeof prior === "string") {
    const a = parseSize(prior);
    const b = parseSize(agent);
    if (a.ok && b.ok && a.bytes === b.bytes) return prior;
  }
  return agent;
}
function sameDevice(prior: Value | undefined, agent: string): string {
  if (typeof prior === "string") {
    const a = parsePciAddress(prior);
    if (a.ok && formatBsf(a.address) === agent) return prior;
  }
  return agent;
}

async function observe(ctx: ProviderContext, address: string, hostKey: string, name: string, prior?: ObjectValue): Promise<ObjectValue | null> {
  const g = await ctx.call(address, hostKey, "guest.get", { name });
  if (!g.desired) return null;
  // The agent's stored configuration, read through the same model that checks a configuration.
  const decoded = checkGuestAlone(g.desired);
  if (!decoded.ok) throw new DiagnosticError(`Unreadable guest ${name} on ${address}`, `the agent's stored configuration of ${name} does not pass this provider's model: ${formatProblems(decoded.problems)}`);
  const d = decoded.guest;
  const priorList = (k: string, i: number): ObjectValue | undefined => list(prior?.[k])[i];
  const running = g.monitor_pid !== null && GUEST_UP_STATES.has(g.state);
  return {
    id: `${address}/${name}`,
    address,
    host_key: hostKey,
    name,
    cpus: d.cpus,
    memory: sameMemory(prior?.memory, formatSize(d.memory)),
    bootrom: d.bootrom ?? null,
    state: running ? "running" : "stopped",
    restart: d.restart,
    start_order: d.startOrder,
    disk: d.disks.map((x) => ({ path: x.path, type: x.type, slot: x.slot ?? null })),
    nic: d.nics.map((x, i) => {
      const mine = priorList("nic", i)?.mac;
      return { tap: x.tap, model: x.model, mac: typeof mine === "string" && x.mac !== undefined && mine.toLowerCase() === x.mac ? mine : (x.mac ?? null), slot: x.slot ?? null };
    }),
    passthru: d.passthru.map((x, i) => ({ device: sameDevice(priorList("passthru", i)?.device, formatBsf(x.device)), slot: x.slot, function: x.function, rom: x.rom ?? null })),
    command_line: renderBhyveArgv(d),
    argv: running ? (g.argv ?? []) : [],
    status: g.monitor_pid === null && GUEST_UP_STATES.has(g.state) ? "stopped" : g.state,
    restarts: g.restarts,
  };
}

/** The bhyve_guest resource. */
export function guestResource(ctx: ProviderContext): ResourceDef {
  return {
    schema,
    version: 0,
    validate,
    async plan(prior, proposed, config) {
      // Optional attributes with defaults come from the configuration, not from the proposal:
      // Terraform proposes the prior (read) value for them, which would hide drift.
      const planned: ObjectValue = { ...proposed };
      planned.id = typeof proposed.address === "string" && typeof proposed.name === "string" ? `${proposed.address}/${proposed.name}` : UNKNOWN;
      planned.state = config.state ?? "running";
      planned.restart = config.restart ?? "on-reboot";
      planned.start_order = config.start_order ?? 0;
      planned.disk = list(config.disk).map((d) => ({ ...d, type: d.type ?? "virtio-blk" }));
      planned.nic = list(config.nic).map((n) => ({ ...n, model: n.model ?? "virtio-net" }));
      planned.passthru = list(config.passthru).map((p) => {
        if (p.function !== null) return p;
        const r = typeof p.device === "string" ? parsePciAddress(p.device) : null;
        return { ...p, function: r?.ok ? r.address.function : UNKNOWN };
      });
      const requiresReplace = replacedAttributes(schema, prior, proposed);
      const replace = requiresReplace.length > 0;
      const diags: Diagnostic[] = [];
      let commandLine: Value = UNKNOWN;
      if (!containsUnknown(planned)) {
        const check = specCheck(planned);
        diags.push(...check.diagnostics);
        if (check.guest) commandLine = renderBhyveArgv(check.guest);
      }
      planned.command_line = commandLine;
      const configChanged = replace || differs(prior, planned, CONFIG);
      const wantRunning = planned.state === "running";
      // Drift: the guest should run but does not, or runs another command line.
      const drifted = !!prior && !replace && wantRunning && (prior.status !== "running" || JSON.stringify(prior.argv) !== JSON.stringify(commandLine));
      const changed = configChanged || drifted || prior?.state !== planned.state;
      Object.assign(planned, carry(prior, ["status", "restarts"], changed));
      planned.argv = !changed && prior ? prior.argv! : wantRunning ? UNKNOWN : [];
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
      const applied: ObjectValue = { ...state, state: planned.state!, disk: planned.disk!, nic: planned.nic!, passthru: planned.passthru!, memory: planned.memory! };
      return { state: applied, diagnostics: diags };
    },
    async read(state) {
      return { state: await observe(ctx, state.address as string, state.host_key as string, state.name as string, state), diagnostics: [] };
    },
    async import(id) {
      const m = /^(.+)\/([A-Za-z0-9][A-Za-z0-9_.-]{0,30})$/.exec(id);
      if (!m) throw new DiagnosticError("Invalid import id", `expected ADDRESS/NAME (e.g. 10.0.0.5/ml1), got "${id}"`);
      const state = await observe(ctx, m[1]!, ctx.importKey(m[1]!), m[2]!);
      if (!state) throw new DiagnosticError("No such guest", `the agent on ${m[1]} has no guest ${m[2]} in its desired state`);
      return { state, diagnostics: [] };
    },
  };
}
