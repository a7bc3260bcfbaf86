/** data bhyve_host_facts: what a host's agent reports, for use in configuration (e.g. choosing devices). */
import type { BlockDef } from "../plugin/schema.js";
import type { DataSourceDef, ObjectValue } from "../plugin/types.js";
import type { ProviderContext } from "./context.js";
import { CONNECTION_ATTRIBUTES, validateConnection } from "./common.js";

const PCI: ["object", Record<string, "string" | "bool">] = ["object", {
  device: "string", selector: "string", driver: "string", vendor_id: "string", device_id: "string", class: "string", name: "string", bridge: "bool",
}];

const schema: BlockDef = {
  description: "Facts a host's agent reports: CPU, nested paging, IOMMU, vmm.ko, PCI devices, wired-memory limit.",
  attributes: {
    id: { type: "string", computed: true, description: "The address." },
    ...CONNECTION_ATTRIBUTES,
    os_release: { type: "string", computed: true, description: "FreeBSD release." },
    cpu_vendor: { type: "string", computed: true, description: "intel, amd or other." },
    nested_paging: { type: "bool", computed: true, description: "EPT or NPT present and usable." },
    nested_paging_kind: { type: "string", computed: true, description: "ept, npt or none." },
    unrestricted_guest: { type: "bool", computed: true, description: "VT-x unrestricted guest (needed for UEFI guests); false when unknown." },
    iommu: { type: "string", computed: true, description: "vt-d, amd-vi or none." },
    iommu_enabled: { type: "bool", computed: true, description: "The IOMMU can be used for passthrough now." },
    vmm_loaded: { type: "bool", computed: true, description: "vmm.ko is loaded." },
    passthru_ready: { type: "bool", computed: true, description: "Passthrough guests can run now." },
    max_user_wired: { type: "number", computed: true, description: "vm.max_user_wired in bytes: the most guest memory that can be wired." },
    problems: { type: ["list", "string"], computed: true, description: "Why the host is not (fully) ready, each as CODE: message." },
    pci_devices: { type: ["list", PCI], computed: true, description: "Every PCI function, with its driver now." },
  },
};

/** The bhyve_host_facts data source. */
export function hostFactsDataSource(ctx: ProviderContext): DataSourceDef {
  return {
    schema,
    validate: validateConnection,
    async read(config) {
      const address = config.address as string;
      const f = (await ctx.hostFacts(address, config.host_key as string)) as any;
      const state: ObjectValue = {
        id: address,
        address,
        host_key: config.host_key ?? null,
        os_release: f.os.release ?? "",
        cpu_vendor: f.cpu.vendor,
        nested_paging: f.nested_paging.ok,
        nested_paging_kind: f.nested_paging.kind ?? "none",
        unrestricted_guest: f.nested_paging.unrestricted_guest === true,
        iommu: f.iommu.kind ?? "none",
        iommu_enabled: f.iommu.enabled,
        vmm_loaded: f.vmm.loaded,
        passthru_ready: f.passthru_ready,
        max_user_wired: f.memory.max_user_wired ?? 0,
        problems: f.problems.map((p: { code: string; message: string }) => `${p.code}: ${p.message}`),
        pci_devices: f.pci.map((p: any) => ({
          device: p.device, selector: p.selector, driver: p.driver ? `${p.driver}${p.unit}` : "none", vendor_id: p.vendor_id, device_id: p.device_id, class: p.class, name: p.device_name ?? "", bridge: p.bridge,
        })),
      };
      return { state, diagnostics: ctx.takeNotices(address) };
    },
  };
}
