/**
 * bhyve_ppt_device: a PCI function reserved for passthrough. Read reports whether loader.conf still
 * lists it (`bind` reads "none" when a hand edit removed it) and whether it is bound to ppt now; a
 * `live` device that lost its binding plans `bound: false -> true`.
 */
import { parsePciAddress } from "../../agent/model/pci-address.js";
import { replacedAttributes } from "../plugin/schema.js";
import { DiagnosticError, type Diagnostic, type ObjectValue, type ResourceDef } from "../plugin/types.js";
import { UNKNOWN } from "../plugin/values.js";
import { resultDiagnostics, type ProviderContext } from "./context.js";
import { carry, differs, validateConnection } from "./common.js";
import { canonical, PPT_DEVICE_SCHEMA as schema } from "./ppt-device-schema.js";
import { toDocumentForm, withDefaults } from "./document-map.js";

/** The attributes a change of which updates the reservation in place: its document (the device replaces it), and the host key. */
const CONFIG = [...Object.entries(schema.attributes).filter(([, a]) => a.document && !a.requiresReplace).map(([k]) => k), "host_key"];

const ID = /^0x[0-9a-fA-F]{1,4}$/;

function validate(config: ObjectValue): Diagnostic[] {
  const diags = validateConnection(config);
  if (typeof config.device === "string") {
    const r = parsePciAddress(config.device);
    if (!r.ok) diags.push({ severity: "error", summary: "Invalid device", detail: r.reason, attribute: ["device"] });
  }
  for (const k of ["vendor_id", "device_id"]) {
    const v = config[k];
    if (typeof v === "string" && !ID.test(v)) diags.push({ severity: "error", summary: `Invalid ${k}`, detail: `"${v}" is not a 16-bit id such as 0x10de`, attribute: [k] });
  }
  const b = config.bind;
  if (typeof b === "string" && !["live", "boot"].includes(b)) diags.push({ severity: "error", summary: "Invalid bind", detail: `expected live or boot, got "${b}"`, attribute: ["bind"] });
  return diags;
}

const hex = (n: number | null): string | null => (n === null ? null : `0x${n.toString(16).padStart(4, "0")}`);

async function observe(ctx: ProviderContext, address: string, hostKey: string, device: string, prior?: ObjectValue): Promise<ObjectValue | null> {
  const v = await ctx.call(address, hostKey, "ppt.get", { device });
  if (!v.reserved) return null;
  // Keep the user's spelling of ids (0x10DE vs 0x10de) when they mean the same number.
  const same = (k: "vendor_id" | "device_id", n: number | null): string | null =>
    typeof prior?.[k] === "string" && n !== null && parseInt(prior[k] as string, 16) === n ? (prior[k] as string) : hex(n);
  return {
    id: `${address}/${v.device}`,
    address,
    host_key: hostKey,
    device: prior && typeof prior.device === "string" && canonical(prior.device) === v.device ? prior.device : v.device,
    vendor_id: same("vendor_id", v.vendor_id),
    device_id: same("device_id", v.device_id),
    bind: v.in_loader_conf ? v.bind : "none",
    driver: v.driver ?? "none",
    bound: v.bound,
    description: v.hardware?.name ?? "",
  };
}

/** The bhyve_ppt_device resource. */
export function pptDeviceResource(ctx: ProviderContext): ResourceDef {
  return {
    schema,
    version: 0,
    validate,
    async plan(prior, proposed, config) {
      // Defaults from the configuration: Terraform proposes the prior (read) value, which would hide a lost reservation.
      const planned = withDefaults(schema, config, proposed) as ObjectValue;
      planned.id = typeof proposed.address === "string" && typeof proposed.device === "string" ? `${proposed.address}/${canonical(proposed.device) ?? proposed.device}` : UNKNOWN;
      const requiresReplace = replacedAttributes(schema, prior, proposed);
      const replace = requiresReplace.length > 0;
      const changed = replace || differs(prior, planned, CONFIG);
      Object.assign(planned, carry(prior, ["driver", "description"], changed));
      // A live device must be bound now: a lost binding is drift that apply heals.
      planned.bound = planned.bind === "live" ? true : prior && !changed ? prior.bound! : UNKNOWN;
      if (prior && !replace && prior.bound === false && planned.bound === true) planned.driver = UNKNOWN;
      const diags: Diagnostic[] = [];
      if (planned.bind === "boot" && (!prior || prior.bind !== "boot")) {
        diags.push({ severity: "warning", summary: "Reserved at the next boot", detail: `${planned.device}: bind = boot lists the device in pptdevs; it is bound to ppt when the host reboots`, attribute: ["bind"] });
      }
      return { planned, requiresReplace, diagnostics: diags };
    },
    async apply(prior, planned) {
      const target = planned ?? prior!;
      const address = target.address as string;
      const hostKey = target.host_key as string;
      const dev = canonical(target.device as string)!;
      const concerns = (w: string): boolean => w === `ppt ${dev}` || w === "loader.conf" || w === "vmm.ko";
      if (!planned) {
        const r = await ctx.call(address, hostKey, "ppt.delete", { device: dev });
        return { state: null, diagnostics: resultDiagnostics(r, address, concerns) };
      }
      const r = await ctx.call(address, hostKey, "ppt.put", { reservation: toDocumentForm(schema, { ...planned, device: dev }) });
      const diags = resultDiagnostics(r, address, concerns);
      const state = await observe(ctx, address, hostKey, dev, planned);
      if (!state) throw new DiagnosticError("Reservation missing after apply", `${address}: the agent does not list ${dev} as reserved`);
      if (!diags.some((d) => d.severity === "error") && planned.bound === true && !state.bound) {
        diags.push({ severity: "error", summary: `${dev} on ${address} is not bound to ppt`, detail: "the agent reported no refusal, yet the device is not on ppt; run terraform apply again" });
      }
      return { state, diagnostics: diags };
    },
    async read(state) {
      return { state: await observe(ctx, state.address as string, state.host_key as string, canonical(state.device as string) ?? (state.device as string), state), diagnostics: [] };
    },
    async import(id) {
      const m = /^(.+)\/(\d+\/\d+\/\d+)$/.exec(id);
      if (!m) throw new DiagnosticError("Invalid import id", `expected ADDRESS/B/S/F (e.g. 10.0.0.5/3/0/0), got "${id}"`);
      const state = await observe(ctx, m[1]!, ctx.importKey(m[1]!), m[2]!);
      if (!state) throw new DiagnosticError("No such reservation", `${m[2]} is not reserved on ${m[1]}`);
      return { state, diagnostics: [] };
    },
  };
}
