/** What every resource and data source shares: the connection attributes and their checks, and plan helpers. */
import type { Diagnostic, ObjectValue } from "../plugin/types.js";
import { isUnknown, UNKNOWN } from "../plugin/unknown.js";

/** The address and host_key attributes every resource has. */
export const CONNECTION_ATTRIBUTES = {
  address: { type: "string", required: true, requiresReplace: true, description: "The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource." },
  host_key: { type: "string", required: true, description: "The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key." },
} as const;

/** An SSH host key fingerprint as ssh-keygen -l prints it for SHA-256. */
export const HOST_KEY = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Diagnostics for address and host_key. */
export function validateConnection(config: ObjectValue): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const key = config.host_key;
  if (typeof key === "string" && !HOST_KEY.test(key)) {
    diags.push({ severity: "error", summary: "Invalid host_key", detail: `"${key}" is not a SHA256 fingerprint (SHA256: followed by 43 base64 characters, as ssh-keygen -lf prints)`, attribute: ["host_key"] });
  }
  const address = config.address;
  if (typeof address === "string" && !/^(\[[0-9a-fA-F:]+\]|[^:\s/[\]]+)(:\d{1,5})?$/.test(address)) {
    diags.push({ severity: "error", summary: "Invalid address", detail: `"${address}" is not host or host:port`, attribute: ["address"] });
  }
  return diags;
}

/** Keeps prior values for computed attributes when nothing changes, else marks them unknown. */
export function carry(prior: ObjectValue | null, names: readonly string[], changed: boolean): ObjectValue {
  const out: ObjectValue = {};
  for (const n of names) out[n] = prior && !changed ? (prior[n] ?? null) : UNKNOWN;
  return out;
}

/** True when the configurable attributes differ between prior state and the proposal. */
export function differs(prior: ObjectValue | null, proposed: ObjectValue, names: readonly string[]): boolean {
  if (!prior) return true;
  return names.some((n) => JSON.stringify(prior[n]) !== JSON.stringify(proposed[n]) || isUnknown(proposed[n]));
}
