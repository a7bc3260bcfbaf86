/**
 * The agent protocol: every JSON-RPC method with its params, its result and whether it changes the
 * host. The agent's method table (methods.ts) is typed by it, and so are the provider's client
 * (`AgentConnection.call`), its resources and the fleet commands: a method whose result changes
 * shape no longer type-checks on either side. Result types come from the agent's own views (type
 * imports only: nothing of the agent is bundled into the provider through this file).
 */
import type { ConvergeResult } from "../engine/converge.js";
import type { DocumentView, GuestView, HostView, ReservationView, StatusView, SwitchView } from "../engine/service.js";
import type { GuestRuntime } from "../guests/lifecycle.js";
import type { HostFacts } from "../host/facts.js";
import type { BundleResult } from "../host/install.js";
import type { ForeignReport } from "../guests/adopt.js";

/** Version of the method set; bumped on incompatible changes. */
export const PROTOCOL_VERSION = 1;

/** What `agent.hello` answers. */
export interface HelloResult {
  readonly version: string;
  readonly protocol: number;
  readonly root: string;
  readonly executable: string | null;
  readonly installed: string | null;
  readonly native_probe: { readonly available: true } | { readonly available: false; readonly reason: string };
  readonly methods: string[];
}

/** What `agent.upgrade` answers. */
export interface UpgradeResult extends BundleResult {
  readonly running_version: string;
  readonly note: string;
}

/** A guest in the document's form (snake_case keys), as guest.put takes it. */
export type GuestDocument = Record<string, unknown>;
/** A reservation in the document's form, as ppt.put takes it. */
export type ReservationDocument = Record<string, unknown>;

/**
 * Each method: `params` as the caller sends them, `result` as the agent answers, and `changes`:
 * whether a call may change the host (and so must be audited, and makes a client's cached reads of
 * that host stale).
 */
export interface Methods {
  "agent.hello": { params: Record<string, never>; result: HelloResult; changes: false };
  "agent.upgrade": { params: { bundle: string; sha256: string; version?: string }; result: UpgradeResult; changes: true };
  "host.facts": { params: Record<string, never>; result: HostFacts; changes: false };
  "host.status": { params: Record<string, never>; result: StatusView; changes: false };
  "host.foreign": { params: Record<string, never>; result: ForeignReport; changes: false };
  "host.get": { params: Record<string, never>; result: HostView; changes: false };
  "host.document": { params: Record<string, never>; result: DocumentView; changes: false };
  "host.release": { params: Record<string, never>; result: ConvergeResult; changes: true };
  "host.configure": { params: { host: Record<string, unknown> }; result: ConvergeResult; changes: true };
  "host.apply": { params: { document: Record<string, unknown> | string }; result: ConvergeResult; changes: true };
  "ppt.get": { params: { device: string }; result: ReservationView; changes: false };
  "ppt.put": { params: { reservation: ReservationDocument }; result: ConvergeResult; changes: true };
  "ppt.delete": { params: { device: string }; result: ConvergeResult; changes: true };
  "switch.get": { params: { name: string }; result: SwitchView; changes: false };
  "switch.put": { params: { switch: Record<string, unknown> }; result: ConvergeResult; changes: true };
  "switch.delete": { params: { name: string }; result: ConvergeResult; changes: true };
  "guest.get": { params: { name: string }; result: GuestView; changes: false };
  "guest.list": { params: Record<string, never>; result: GuestRuntime[]; changes: false };
  "guest.put": { params: { guest: GuestDocument }; result: ConvergeResult; changes: true };
  "guest.delete": { params: { name: string }; result: ConvergeResult; changes: true };
  "guest.start": { params: { name: string }; result: ConvergeResult; changes: true };
  "guest.stop": { params: { name: string }; result: ConvergeResult; changes: true };
  /**
   * Attaches the session to the guest's serial console: after this answer the channel carries the
   * console's bytes both ways until either side ends (the client detaches with ~.). A change: what
   * is typed reaches the guest, so each attach is on record in the audit log.
   */
  "guest.console": { params: { name: string }; result: { guest: string; attached: true }; changes: true };
  /** What the guest printed on its console (the monitor's bounded log, older part first). */
  "guest.console_log": { params: { name: string }; result: { guest: string; log: string }; changes: false };
  /**
   * Connects the session to the guest's VNC server (its framebuffer, on the host's loopback):
   * after this answer the channel carries the RFB stream both ways until either side ends. A
   * change, as guest.console: keys and pointer reach the guest.
   */
  "guest.vnc": { params: { name: string }; result: { guest: string; attached: true }; changes: true };
}

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M]["params"];
export type ResultOf<M extends MethodName> = Methods[M]["result"];

/** Whether each method may change the host: the one list the server's audit and the client's cache both read. */
export const CHANGES: { readonly [M in MethodName]: Methods[M]["changes"] } = {
  "agent.hello": false,
  "agent.upgrade": true,
  "host.facts": false,
  "host.status": false,
  "host.foreign": false,
  "host.get": false,
  "host.document": false,
  "host.release": true,
  "host.configure": true,
  "host.apply": true,
  "ppt.get": false,
  "ppt.put": true,
  "ppt.delete": true,
  "switch.get": false,
  "switch.put": true,
  "switch.delete": true,
  "guest.get": false,
  "guest.list": false,
  "guest.put": true,
  "guest.delete": true,
  "guest.start": true,
  "guest.stop": true,
  "guest.console": true,
  "guest.console_log": false,
  "guest.vnc": true,
};

/** Every method name, in the order above. */
export const METHOD_NAMES = Object.keys(CHANGES) as MethodName[];

/** Whether a method name is one of the protocol's (an own key: never an inherited property). */
export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(CHANGES, name);
}

/** Whether a call of `method` may change the host. Unknown names count as changes (fail closed). */
export function changesHost(method: string): boolean {
  return isMethodName(method) ? CHANGES[method] : true;
}

/** The change results every changing method returns, as the provider reads them. */
export type ChangeResult = ConvergeResult;

/**
 * Guest states in which the monitor keeps the guest up: what a desired `running` guest is in
 * (starting and backoff are on their way to running, by the monitor's own doing).
 */
export const GUEST_UP_STATES: ReadonlySet<GuestRuntime["state"]> = new Set(["running", "starting", "backoff"]);

/** Guest states with a live monitor: up, or stopping. A guest that should not run is still active in these. */
export const GUEST_ACTIVE_STATES: ReadonlySet<GuestRuntime["state"]> = new Set([...GUEST_UP_STATES, "stopping"]);
