/**
 * bhyve_switch: a switch on a host (switch.put / switch.get / switch.delete). Read reports whether
 * its bridge is there and its uplink attached; a missing bridge or a detached uplink plans
 * `present`/`uplink_attached: false -> true`, which apply heals.
 */
import { checkDocumentData } from "../../agent/model/validate.js";
import { replacedAttributes } from "../plugin/schema.js";
import { DiagnosticError, type Diagnostic, type ObjectValue, type ResourceDef } from "../plugin/types.js";
import { containsUnknown, UNKNOWN } from "../plugin/values.js";
import { problemDiagnostics, resultDiagnostics, type ProviderContext } from "./context.js";
import { carry, differs, validateConnection } from "./common.js";
import { attributePathOf, fromDocumentForm, toDocumentForm } from "./document-map.js";
import { SWITCH_SCHEMA as schema } from "./switch-schema.js";

/** The attributes a change of which updates the switch in place. */
const CONFIG = [...Object.entries(schema.attributes).filter(([, a]) => a.document && !a.requiresReplace).map(([k]) => k), "host_key"];

function validate(config: ObjectValue): Diagnostic[] {
  const diags = validateConnection(config);
  if (containsUnknown(config)) return diags;
  const r = checkDocumentData({ switches: [toDocumentForm(schema, config)] });
  if (r.ok) return diags;
  return [...diags, ...problemDiagnostics(r.problems, "Invalid switch", (text) => {
    const m = /^switches\[0\]\.(\w+)$/.exec(text);
    return m ? attributePathOf(schema, [m[1]!]) : undefined;
  })];
}

async function observe(ctx: ProviderContext, address: string, hostKey: string, name: string, prior?: ObjectValue): Promise<ObjectValue | null> {
  const v = await ctx.call(address, hostKey, "switch.get", { name });
  if (!v.desired) return null;
  return {
    id: `${address}/${name}`,
    address,
    host_key: hostKey,
    ...(fromDocumentForm(schema, v.desired, prior) as ObjectValue),
    bridge: v.bridge ?? "",
    present: v.present,
    uplink_attached: v.uplink_attached,
  };
}

/** The bhyve_switch resource. */
export function switchResource(ctx: ProviderContext): ResourceDef {
  return {
    schema,
    version: 0,
    validate,
    async plan(prior, proposed) {
      const planned = { ...proposed } as ObjectValue;
      planned.id = typeof proposed.address === "string" && typeof proposed.name === "string" ? `${proposed.address}/${proposed.name}` : UNKNOWN;
      const requiresReplace = replacedAttributes(schema, prior, proposed);
      const replace = requiresReplace.length > 0;
      const changed = replace || differs(prior, planned, CONFIG);
      Object.assign(planned, carry(prior, ["bridge"], changed));
      // After apply the bridge is there and the uplink attached: anything else read is drift.
      planned.present = true;
      planned.uplink_attached = true;
      if (prior && (prior.present === false || prior.uplink_attached === false)) planned.bridge = UNKNOWN;
      return { planned, requiresReplace, diagnostics: [] };
    },
    async apply(prior, planned) {
      const target = planned ?? prior!;
      const address = target.address as string;
      const hostKey = target.host_key as string;
      const name = target.name as string;
      const concerns = (w: string): boolean => w === `switch ${name}` || w === "net.link.tap.up_on_open";
      if (!planned) {
        const r = await ctx.call(address, hostKey, "switch.delete", { name });
        return { state: null, diagnostics: resultDiagnostics(r, address, concerns) };
      }
      const r = await ctx.call(address, hostKey, "switch.put", { switch: toDocumentForm(schema, planned) });
      const diags = resultDiagnostics(r, address, concerns);
      const state = await observe(ctx, address, hostKey, name, planned);
      if (!state) throw new DiagnosticError("Switch missing after apply", `${address}: the agent does not list switch ${name}`);
      if (!diags.some((d) => d.severity === "error") && (!state.present || !state.uplink_attached)) {
        diags.push({ severity: "error", summary: `Switch ${name} on ${address} is not in place`, detail: `the agent reported no refusal, yet ${state.present ? "its uplink is not attached" : "its bridge is missing"}; run terraform apply again` });
      }
      return { state, diagnostics: diags };
    },
    async read(state) {
      return { state: await observe(ctx, state.address as string, state.host_key as string, state.name as string, state), diagnostics: [] };
    },
    async import(id) {
      const m = /^(.+)\/([A-Za-z0-9][A-Za-z0-9_.-]{0,30})$/.exec(id);
      if (!m) throw new DiagnosticError("Invalid import id", `expected ADDRESS/NAME (e.g. 10.0.0.5/lan), got "${id}"`);
      const state = await observe(ctx, m[1]!, ctx.importKey(m[1]!), m[2]!);
      if (!state) throw new DiagnosticError("No such switch", `the agent on ${m[1]} has no switch ${m[2]} in its desired state`);
      return { state, diagnostics: [] };
    },
  };
}
