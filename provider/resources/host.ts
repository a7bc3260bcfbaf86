/**
 * bhyve_host: a host's own settings (vmm_load, amdvi_enable) and what it reports about itself.
 * Read compares loader.conf's managed block with what the desired state renders to, so that a hand
 * edit of the block shows as `loader_conf_in_sync: false -> true` in the plan; apply rewrites it.
 */
import { DEFAULTS } from "../../agent/model/types.js";
import { replacedAttributes, type BlockDef } from "../plugin/schema.js";
import { DiagnosticError, type Diagnostic, type ObjectValue, type ResourceDef } from "../plugin/types.js";
import { UNKNOWN, type Value } from "../plugin/values.js";
import { resultDiagnostics, type ProviderContext } from "./context.js";
import { carry, CONNECTION_ATTRIBUTES, differs, validateConnection } from "./common.js";
import { toDocumentForm, withDefaults } from "./document-map.js";

const COMPUTED = ["agent_version", "cpu_vendor", "iommu", "nested_paging", "passthru_ready", "reboot_required", "problems"] as const;

const schema: BlockDef = {
  description: "A bhyve host: its loader.conf settings (vmm_load, the AMD IOMMU) and what its agent reports about it.",
  attributes: {
    id: { type: "string", computed: true, description: "The address." },
    ...CONNECTION_ATTRIBUTES,
    vmm_load: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.host.vmm_load, description: "Load vmm.ko from loader.conf (needed for pptdevs). Default true." },
    amdvi_enable: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.host.amdvi_enable, description: "hw.vmm.amdvi.enable: auto (on for AMD hosts), true or false. Default auto. Takes effect at the next boot." },
    loader_conf_in_sync: { type: "bool", computed: true, description: "loader.conf's managed block is what the desired state renders to (false after a hand edit)." },
    agent_version: { type: "string", computed: true, description: "bhyve-agent's version on the host." },
    cpu_vendor: { type: "string", computed: true, description: "intel, amd or other." },
    iommu: { type: "string", computed: true, description: "vt-d, amd-vi or none, with enabled/disabled." },
    nested_paging: { type: "string", computed: true, description: "ept, npt, or none when the CPU lacks it." },
    passthru_ready: { type: "bool", computed: true, description: "The host can run passthrough guests now." },
    reboot_required: { type: "bool", computed: true, description: "Some desired state takes effect only after the host reboots." },
    problems: { type: ["list", "string"], computed: true, description: "Why the host is not (fully) ready, each as CODE: message." },
  },
};

/** The attributes a change of which updates the host's settings: its document, and the host key. */
const CONFIG = [...Object.entries(schema.attributes).filter(([, a]) => a.document).map(([k]) => k), "host_key"];

function validate(config: ObjectValue): Diagnostic[] {
  const diags = validateConnection(config);
  const a = config.amdvi_enable;
  if (typeof a === "string" && !["auto", "true", "false"].includes(a)) {
    diags.push({ severity: "error", summary: "Invalid amdvi_enable", detail: `expected auto, true or false, got "${a}"`, attribute: ["amdvi_enable"] });
  }
  return diags;
}

async function observe(ctx: ProviderContext, address: string, hostKey: string): Promise<ObjectValue | null> {
  const view = await ctx.call(address, hostKey, "host.get");
  if (!view.managed) return null;
  const f = await ctx.hostFacts(address, hostKey);
  const status = await ctx.call(address, hostKey, "host.status");
  return {
    id: address,
    address,
    host_key: hostKey,
    vmm_load: view.host.vmm_load as Value,
    amdvi_enable: String(view.host.amdvi_enable),
    loader_conf_in_sync: view.loader_conf_in_sync,
    agent_version: f.agent.version,
    cpu_vendor: f.cpu.vendor,
    iommu: f.iommu.kind ? `${f.iommu.kind} ${f.iommu.enabled ? "enabled" : "disabled"}` : "none",
    nested_paging: f.nested_paging.ok ? (f.nested_paging.kind ?? "none") : "none",
    passthru_ready: f.passthru_ready,
    reboot_required: status.reboot_required,
    problems: f.problems.map((p) => `${p.code}: ${p.message}`),
  };
}

/** The host settings document: amdvi_enable is a string attribute ("auto", "true", "false") and auto or a boolean in the document. */
function hostParams(v: ObjectValue): Record<string, unknown> {
  const doc = toDocumentForm(schema, withDefaults(schema, v, v));
  return { ...doc, amdvi_enable: doc.amdvi_enable === "auto" ? "auto" : doc.amdvi_enable === "true" };
}

/** The bhyve_host resource. */
export function hostResource(ctx: ProviderContext): ResourceDef {
  return {
    schema,
    version: 0,
    validate,
    async plan(prior, proposed, config) {
      const planned = withDefaults(schema, config, proposed) as ObjectValue;
      planned.id = proposed.address ?? UNKNOWN;
      const changed = differs(prior, planned, CONFIG) || prior?.loader_conf_in_sync === false;
      Object.assign(planned, carry(prior, COMPUTED, changed));
      planned.loader_conf_in_sync = true;
      const diags: Diagnostic[] = [];
      if (prior && (prior.amdvi_enable !== planned.amdvi_enable || prior.vmm_load !== planned.vmm_load)) {
        diags.push({ severity: "warning", summary: "Host settings take effect at the next boot", detail: `${planned.address}: vmm_load and amdvi_enable are read by the loader; the agent writes them to loader.conf now`, attribute: ["amdvi_enable"] });
      }
      return { planned, requiresReplace: replacedAttributes(schema, prior, proposed), diagnostics: diags };
    },
    async apply(prior, planned) {
      const target = planned ?? prior!;
      const address = target.address as string;
      const hostKey = target.host_key as string;
      if (!planned) {
        const r = await ctx.call(address, hostKey, "host.release");
        return { state: null, diagnostics: resultDiagnostics(r, address, (w) => w === "loader.conf") };
      }
      const r = await ctx.call(address, hostKey, "host.configure", { host: hostParams(planned) });
      const diags = resultDiagnostics(r, address, (w) => w === "loader.conf" || w === "vmm.ko");
      const state = await observe(ctx, address, hostKey);
      if (!state) throw new DiagnosticError("Host not managed after configure", `${address}: the agent does not report the host as managed`);
      return { state, diagnostics: [...diags, ...ctx.takeNotices(address)] };
    },
    async read(state) {
      const address = state.address as string;
      return { state: await observe(ctx, address, state.host_key as string), diagnostics: ctx.takeNotices(address) };
    },
    async import(id) {
      const state = await observe(ctx, id, ctx.importKey(id));
      if (!state) throw new DiagnosticError("Host not managed", `the agent on ${id} has no host settings from Terraform to import; apply the resource instead`);
      return { state, diagnostics: [] };
    },
  };
}
