/**
 * The RPC methods: a short list of typed messages, each checked before anything is touched.
 * Params are JSON objects with snake_case keys, as in the desired-state document.
 */
import { checkDocumentData } from "../model/validate.js";
import { decodeWholeDocument } from "../model/document.js";
import type { HostPaths } from "../host/paths.js";
import { hostFacts } from "../host/snapshot.js";
import { loadNativeProbe } from "../host/native.js";
import { AGENT_VERSION } from "../version.js";
import * as svc from "../engine/service.js";
import { withHostLock } from "../host/host-lock.js";
import { installBundle, installedVersions } from "../host/install.js";
import { readAgentConfig } from "../host/config.js";
import { POLICY_FILE } from "../model/policy.js";
import { GUEST_NAME } from "../model/decode.js";
import { shown } from "../model/limits.js";
import { relativeTo } from "../model/problems.js";
import { PROTOCOL_VERSION, type MethodName, type ResultOf } from "./protocol.js";
import { AgentError, problemsError } from "../model/errors.js";
import { foreignReport } from "../guests/adopt.js";


/** Params that do not have the method's shape (JSON-RPC -32602, no problems list). */
function invalidParams(message: string): AgentError {
  return new AgentError(message, "E_INVALID_PARAMS");
}

type Params = Record<string, unknown>;
/** A method's implementation: params as received (checked here, never trusted), the protocol's result. */
type Impl<M extends MethodName> = (paths: HostPaths, params: Params) => ResultOf<M> | Promise<ResultOf<M>>;
type Method = (paths: HostPaths, params: Params) => Promise<unknown> | unknown;

function only(params: Params, allowed: readonly string[]): void {
  const extra = Object.keys(params).filter((k) => !allowed.includes(k));
  if (extra.length) throw invalidParams(`unknown parameter(s) ${extra.slice(0, 5).map((k) => shown(k, 32)).join(", ")}${extra.length > 5 ? ` and ${extra.length - 5} more` : ""}; expected ${allowed.join(", ") || "none"}`);
}

function str(params: Params, key: string): string {
  const v = params[key];
  if (typeof v !== "string" || v === "") throw invalidParams(`parameter ${key} must be a non-empty string`);
  return v;
}


/** A guest name parameter, checked with the same rule as a guest's `name` in guest.put. */
function guestName(params: Params, what = "guest"): string {
  const v = params.name;
  if (typeof v !== "string" || !GUEST_NAME.test(v)) {
    throw problemsError([{ path: "name", message: `${typeof v === "string" ? shown(v) : "the value"} is not a ${what} name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit` }]);
  }
  return v;
}

/** A switch name parameter: switch names follow the guest-name rules. */
const switchName = (params: Params): string => guestName(params, "switch");

/** A PCI device parameter (`B/S/F` or `pciD:B:S:F`), checked with the same parser as a reservation's device in ppt.put. */
function device(params: Params): string {
  const v = params.device;
  if (typeof v !== "string" || v.length > 32) throw problemsError([{ path: "device", message: `${typeof v === "string" ? shown(v) : "the value"} is not a PCI address: expected B/S/F (decimal) or pciD:B:S:F` }]);
  svc.parseAddress(v);
  return v;
}

function obj(params: Params, key: string): Record<string, unknown> {
  const v = params[key];
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalidParams(`parameter ${key} must be an object`);
  return v as Record<string, unknown>;
}

/** Each method of the protocol (protocol.ts), implemented: the compiler holds each to its declared result. */
const IMPLEMENTATIONS: { readonly [M in MethodName]: Impl<M> } = {
  "agent.hello": (paths, p) => {
    only(p, []);
    const native = loadNativeProbe();
    return { version: AGENT_VERSION, protocol: PROTOCOL_VERSION, root: paths.root, executable: process.argv[1] ?? null, installed: installedVersions(paths).current, native_probe: native.available ? { available: true } : { available: false, reason: native.reason }, methods: [...METHODS.keys()] };
  },
  "agent.upgrade": async (paths, p) => {
    only(p, ["bundle", "sha256", "version"]);
    const sha = str(p, "sha256");
    if (!/^[0-9a-fA-F]{64}$/.test(sha)) throw invalidParams("parameter sha256 must be 64 hex digits");
    const bundle = Buffer.from(str(p, "bundle"), "base64");
    const version = p.version === undefined ? undefined : str(p, "version");
    if (!readAgentConfig(paths).policy.agentUpgrade) {
      throw new AgentError(`this host's policy does not let the agent be upgraded over the agent protocol (policy agent_upgrade: false in ${POLICY_FILE}); set agent_upgrade: true there, or run cdktf-bhyve bootstrap with an administrator's login`, "E_POLICY");
    }
    if (installedVersions(paths).current === null) {
      throw new AgentError("this host's agent was not installed by bootstrap (no usr/local/libexec/bhyve-agent/current): run cdktf-bhyve bootstrap once", "E_NOT_INSTALLED");
    }
    const r = await withHostLock(paths, async () => installBundle(paths, bundle, sha, process.execPath, version));
    return { ...r, running_version: AGENT_VERSION, note: "new sessions run the new version; running guests and their monitors are not touched" };
  },
  "host.facts": (paths, p) => {
    only(p, []);
    return hostFacts(paths);
  },
  "host.status": (paths, p) => {
    only(p, []);
    return svc.status(paths);
  },
  "host.foreign": (paths, p) => {
    only(p, []);
    return withHostLock(paths, () => foreignReport(paths));
  },
  "host.get": (paths, p) => {
    only(p, []);
    return svc.getHost(paths);
  },
  "host.document": (paths, p) => {
    only(p, []);
    return svc.getDocument(paths);
  },
  "host.release": (paths, p) => {
    only(p, []);
    return svc.releaseHost(paths);
  },
  "host.configure": (paths, p) => {
    only(p, ["host"]);
    const r = checkDocumentData({ host: obj(p, "host") });
    if (!r.ok) throw problemsError(r.problems);
    return svc.configureHost(paths, r.state.host);
  },
  "host.apply": (paths, p) => {
    only(p, ["document"]);
    // A blank or null document is refused (E_EMPTY_DOCUMENT), never taken for "remove everything".
    const doc = typeof p.document === "string" ? p.document : obj(p, "document");
    return svc.applyDocument(paths, decodeWholeDocument(doc));
  },
  "ppt.get": (paths, p) => {
    only(p, ["device"]);
    return svc.getReservation(paths, device(p));
  },
  "ppt.put": (paths, p) => {
    only(p, ["reservation"]);
    const r = checkDocumentData({ ppt: [obj(p, "reservation")] });
    if (!r.ok) throw problemsError(r.problems.map((x) => relativeTo(x, ["ppt", 0], "reservation")));
    return svc.putReservation(paths, r.state.ppt[0]!);
  },
  "ppt.delete": (paths, p) => {
    only(p, ["device"]);
    return svc.deleteReservation(paths, device(p));
  },
  "switch.get": (paths, p) => {
    only(p, ["name"]);
    return svc.getSwitch(paths, switchName(p));
  },
  "switch.put": (paths, p) => {
    only(p, ["switch"]);
    const r = checkDocumentData({ switches: [obj(p, "switch")] });
    if (!r.ok) throw problemsError(r.problems.map((x) => relativeTo(x, ["switches", 0], "switch")));
    return svc.putSwitch(paths, r.state.switches[0]!);
  },
  "switch.delete": (paths, p) => {
    only(p, ["name"]);
    return svc.deleteSwitch(paths, switchName(p));
  },
  "guest.get": (paths, p) => {
    only(p, ["name"]);
    return svc.getGuest(paths, guestName(p));
  },
  "guest.list": (paths, p) => {
    only(p, []);
    return svc.listGuests(paths);
  },
  "guest.put": (paths, p) => {
    only(p, ["guest"]);
    return svc.putGuest(paths, svc.decodeGuest(obj(p, "guest")));
  },
  "guest.delete": (paths, p) => {
    only(p, ["name"]);
    return svc.deleteGuestByName(paths, guestName(p));
  },
  "guest.start": (paths, p) => {
    only(p, ["name"]);
    return svc.setGuestState(paths, guestName(p), "running");
  },
  "guest.stop": (paths, p) => {
    only(p, ["name"]);
    return svc.setGuestState(paths, guestName(p), "stopped");
  },
  "guest.console": (paths, p) => {
    only(p, ["name"]);
    const name = guestName(p);
    svc.consoleSocketOf(paths, name);
    return { guest: name, attached: true as const };
  },
  "guest.console_log": (paths, p) => {
    only(p, ["name"]);
    const name = guestName(p);
    return { guest: name, log: svc.consoleLog(paths, name) };
  },
  "guest.vnc": (paths, p) => {
    only(p, ["name"]);
    const name = guestName(p);
    svc.vncTargetOf(paths, name);
    return { guest: name, attached: true as const };
  },
};

/** Every method, by name: a Map, so that no name from a request reaches an inherited property. */
export const METHODS: ReadonlyMap<string, Method> = new Map<string, Method>(Object.entries(IMPLEMENTATIONS));
