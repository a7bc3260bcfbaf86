/**
 * What `cdktf-bhyve status` and `drift` see on a host, and the comparison of a host's desired
 * state (the synthesized document) with it. Pure code: the observation is fetched elsewhere.
 *
 * Two kinds of difference are reported, each with the field and both values:
 * - the agent holds another desired state than the stack (pushed from elsewhere, or not pushed
 *   yet): `ppt[4/0/1].bind`, `guests[web0].cpus`, ...;
 * - the host is not in the stack's desired state: loader.conf's managed settings, a device's
 *   driver, a switch's bridge and uplink, a guest's run state, the bhyve command line it runs and
 *   whether its switch NICs' taps are on their bridges.
 */
import { renderBhyveArgv, UUID_PENDING, VNC_PORT_PENDING } from "../../../agent/model/render.js";
import { UUID } from "../../../agent/model/decode.js";
import { formatBsf } from "../../../agent/model/pci-address.js";
import { toDocument } from "../../../agent/model/document.js";
import type { DesiredState } from "../../../agent/model/types.js";
import { GUEST_ACTIVE_STATES, type ResultOf } from "../../../agent/rpc/protocol.js";

/** A guest's runtime, as `guest.list` answers it (the fields compared here). */
export type ObservedGuest = Pick<ResultOf<"guest.list">[number], "name" | "state" | "reason" | "pid" | "restarts" | "last_exit" | "argv" | "vm_exists">;

/** What the agent reports about a host: the parts of five answers (protocol.ts) that status and drift read. */
export interface Observation {
  readonly agent: Pick<ResultOf<"agent.hello">, "version" | "protocol">;
  readonly document: ResultOf<"host.document">;
  readonly loader: Pick<ResultOf<"host.get">, "loader_conf" | "expected" | "loader_conf_in_sync">;
  readonly facts: Pick<ResultOf<"host.facts">, "passthru_ready" | "problems"> & { readonly pci: ReadonlyArray<Pick<ResultOf<"host.facts">["pci"][number], "device" | "driver" | "unit">> };
  readonly reboot: Pick<ResultOf<"host.status">, "reboot_required" | "reboot_reasons">;
  /** The switches and detached NICs of `host.status` (absent from agents older than switches). */
  readonly network: Partial<Pick<ResultOf<"host.status">, "switches" | "detached_nics">>;
  /** Managed disks that differ from what their guest asks (absent from agents older than managed disks). */
  readonly disks?: ResultOf<"host.status">["disk_drift"];
  /** VMs the agent did not create (absent from agents older than this report). */
  readonly foreign?: ResultOf<"host.status">["foreign_vms"];
  readonly guests: readonly ObservedGuest[];
}

/** The driver and unit a device is attached to now (igb1, ppt0); null when it has none or is not there. */
export function attachedDriver(o: Observation, device: string): string | null {
  const hw = o.facts.pci.find((p) => p.device === device);
  return hw?.driver ? `${hw.driver}${hw.unit ?? ""}` : null;
}

/** One difference: where, what the stack wants, what the host has. */
export interface Difference {
  readonly field: string;
  readonly desired: string;
  readonly actual: string;
}

const show = (v: unknown): string => (v === undefined ? "(absent)" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v));

type Doc = Record<string, unknown>;

/** Field-by-field differences of two items of the same kind. */
function fieldDiffs(prefix: string, want: Doc, have: Doc): Difference[] {
  const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])];
  return keys.filter((k) => JSON.stringify(want[k]) !== JSON.stringify(have[k])).map((k) => ({ field: `${prefix}.${k}`, desired: show(want[k]), actual: show(have[k]) }));
}

/** Keyed lists (ppt by device, guests by name): missing, extra and changed items. */
function listDiffs(kind: string, key: string, want: Doc[], have: Doc[], describe: (d: Doc) => string): Difference[] {
  const out: Difference[] = [];
  const haveBy = new Map(have.map((d) => [String(d[key]), d]));
  const wantBy = new Map(want.map((d) => [String(d[key]), d]));
  for (const w of want) {
    const h = haveBy.get(String(w[key]));
    if (!h) out.push({ field: `${kind}[${w[key]}]`, desired: describe(w), actual: "(absent)" });
    else out.push(...fieldDiffs(`${kind}[${w[key]}]`, w, h));
  }
  for (const h of have) if (!wantBy.has(String(h[key]))) out.push({ field: `${kind}[${h[key]}]`, desired: "(absent)", actual: describe(h) });
  return out;
}

/** The agent's stored desired state against the stack's. */
export function documentDifferences(desired: DesiredState, stored: Doc): Difference[] {
  const want = toDocument(desired);
  const host = fieldDiffs("host", want.host as Doc, (stored.host ?? {}) as Doc);
  const ppt = listDiffs("ppt", "device", want.ppt as Doc[], (stored.ppt ?? []) as Doc[], (d) => `reserved (bind ${d.bind})`);
  const switches = listDiffs("switches", "name", (want.switches ?? []) as Doc[], (stored.switches ?? []) as Doc[], (d) => (d.uplink ? `uplink ${d.uplink}${d.vlan ? ` VLAN ${d.vlan}` : ""}` : "host-only"));
  // A UUID the stack leaves to the agent is whatever the agent keeps (the provider sends it back once known).
  const storedGuests = ((stored.guests ?? []) as Doc[]).map((h) => {
    const w = (want.guests as Doc[]).find((x) => x.name === h.name);
    return w && w.uuid === undefined ? Object.fromEntries(Object.entries(h).filter(([k]) => k !== "uuid")) : h;
  });
  const guests = listDiffs("guests", "name", want.guests as Doc[], storedGuests, (d) => `${d.cpus} CPU, ${d.memory}, ${d.state}`);
  return [...host, ...ppt, ...switches, ...guests];
}

/**
 * Whether a running guest's command line is the one its desired state renders. A switch NIC renders
 * as `{switch:NAME}` until the agent allocates its tap, so there any tap name matches (whether that
 * tap is on the switch's bridge is checked on its own, from the host's detached NICs); a UUID the
 * document leaves to the agent renders as `{uuid}`, which any UUID matches, and a framebuffer port it
 * leaves to the agent as `{vnc-port}`, which any port matches.
 */
export function argvMatches(desired: readonly string[], actual: readonly string[]): boolean {
  if (desired.length !== actual.length) return false;
  return desired.every((d, i) => {
    if (d === actual[i]) return true;
    if (d === UUID_PENDING) return UUID.test(actual[i]!);
    if (!d.includes("{switch:") && !d.includes(VNC_PORT_PENDING)) return false;
    const pattern = d
      .split(/(\{switch:[^}]*\}|\{vnc-port\})/)
      .map((part) => (part.startsWith("{switch:") ? "tap[0-9]+" : part === VNC_PORT_PENDING ? "[0-9]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("");
    return new RegExp(`^${pattern}$`).test(actual[i]!);
  });
}

/** The host against the stack's desired state. */
export function hostDifferences(desired: DesiredState, o: Observation): Difference[] {
  const out: Difference[] = [];
  if (!o.loader.loader_conf_in_sync) {
    const want = new Map(o.loader.expected);
    const have = new Map(o.loader.loader_conf);
    const keys = [...new Set([...want.keys(), ...have.keys()])];
    const changed = keys.filter((k) => want.get(k) !== have.get(k));
    for (const k of changed) out.push({ field: `loader.conf ${k}`, desired: show(want.get(k)), actual: show(have.get(k)) });
    if (changed.length === 0) out.push({ field: "loader.conf", desired: "managed settings only in the agent's block", actual: "lines outside the block set them too" });
  }
  for (const r of desired.ppt) {
    const dev = formatBsf(r.device);
    const hw = o.facts.pci.find((p) => p.device === dev);
    const driver = attachedDriver(o, dev) ?? (hw ? "(no driver)" : "(no such device)");
    if (hw?.driver !== "ppt") out.push({ field: `ppt[${dev}].driver`, desired: r.bind === "live" ? "ppt" : "ppt (bound at boot: reboot the host)", actual: driver });
  }
  const have = new Map((o.network.switches ?? []).map((w) => [w.name, w]));
  for (const w of desired.switches) {
    const h = have.get(w.name);
    if (!h?.present) out.push({ field: `switches[${w.name}].bridge`, desired: "a bridge of the agent's", actual: h?.bridge ? `${h.bridge} (gone, or not described as the agent's)` : "(absent)" });
    else if (!h.uplink_attached) out.push({ field: `switches[${w.name}].uplink`, desired: `${h.uplink_member} a member of ${h.bridge}`, actual: "not a member" });
  }
  for (const n of o.network.detached_nics ?? []) {
    out.push({ field: `guests[${n.guest}].nics[switch ${n.switch}]`, desired: `${n.tap ?? "its tap"} on ${n.bridge ?? "the switch's bridge"}`, actual: n.tap ? "off the bridge" : "no tap" });
  }
  for (const d of o.disks ?? []) {
    for (const why of d.drift) out.push({ field: `guests[${d.guest}].disks[${d.path}]`, desired: "as the guest asks", actual: why });
  }
  const byName = new Map(o.guests.map((g) => [g.name, g]));
  for (const g of desired.guests) {
    const r = byName.get(g.name);
    const state = r?.state ?? "missing";
    const why = r?.reason ? ` (${r.reason})` : "";
    if (g.state === "running" && state !== "running") out.push({ field: `guests[${g.name}].state`, desired: "running", actual: `${state}${why}` });
    else if (g.state === "stopped" && GUEST_ACTIVE_STATES.has(state)) out.push({ field: `guests[${g.name}].state`, desired: "stopped", actual: state });
    if (g.state === "running" && state === "running" && r?.argv && !argvMatches(renderBhyveArgv(g), r.argv)) {
      out.push({ field: `guests[${g.name}].argv`, desired: renderBhyveArgv(g).join(" "), actual: r.argv.join(" ") });
    }
  }
  const wanted = new Set(desired.guests.map((g) => g.name));
  for (const r of o.guests) {
    if (!wanted.has(r.name) && (GUEST_ACTIVE_STATES.has(r.state) || r.vm_exists)) out.push({ field: `guests[${r.name}]`, desired: "(absent)", actual: r.state });
  }
  return out;
}

/** Every difference: the stored document first (the cause), then the host (the effect). */
export function differences(desired: DesiredState, o: Observation): Difference[] {
  return [...documentDifferences(desired, o.document.document), ...hostDifferences(desired, o)];
}
