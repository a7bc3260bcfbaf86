/**
 * The provider's documentation in the Terraform Registry's layout (docs/index.md,
 * docs/resources/NAME.md, docs/data-sources/NAME.md), written from the provider's own schema: each
 * attribute with its type, whether it is required, optional or computed, its default, whether a
 * change replaces the resource, and its description; an example per resource; import instructions.
 * Generated, never edited by hand: `cdktf-bhyve gen-docs` writes it, and a test fails when the
 * committed files differ from what the schema says or an attribute has no description.
 */
import type { AttributeDef, BlockDef } from "./schema.js";
import type { CtyType } from "./unknown.js";
import type { ProviderDef } from "./types.js";

/** Each resource's and data source's example configuration, and how it is imported. */
const EXAMPLES: Record<string, { hcl: string; importId?: string; importNote?: string }> = {
  bhyve_host: {
    hcl: `resource "bhyve_host" "gpu1" {
  address      = "10.0.0.5:22"
  host_key     = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78"
  vmm_load     = true
  amdvi_enable = "auto"
}`,
    importId: "10.0.0.5:22",
    importNote: "The id is the host's address as the resource gives it.",
  },
  bhyve_ppt_device: {
    hcl: `resource "bhyve_ppt_device" "gpu" {
  address   = bhyve_host.gpu1.address
  host_key  = bhyve_host.gpu1.host_key
  device    = "3/0/0"
  vendor_id = "0x10de"
  device_id = "0x1e07"
  bind      = "boot"
}`,
    importId: "10.0.0.5:22/3/0/0",
    importNote: "The id is ADDRESS/B/S/F.",
  },
  bhyve_switch: {
    hcl: `resource "bhyve_switch" "lan" {
  address  = bhyve_host.gpu1.address
  host_key = bhyve_host.gpu1.host_key
  name     = "lan"
  uplink   = "igb1"
}`,
    importId: "10.0.0.5:22/lan",
    importNote: "The id is ADDRESS/NAME.",
  },
  bhyve_guest: {
    hcl: `resource "bhyve_guest" "ml1" {
  address  = bhyve_host.gpu1.address
  host_key = bhyve_host.gpu1.host_key
  name     = "ml1"
  cpus     = 8
  memory   = "32G"
  bootrom  = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd"

  disk {
    zvol  = "zroot/vm/ml1/root"
    clone = "zroot/images/freebsd-14.3@base"
    size  = "40G"
    type  = "nvme"
  }
  nic {
    switch = bhyve_switch.lan.name
  }
  passthru {
    device = bhyve_ppt_device.gpu.device
    slot   = 6
  }
  cloud_init {
    user_data = "#cloud-config\\npackages: [nginx]\\n"
  }
}`,
    importId: "10.0.0.5:22/ml1",
    importNote: "The id is ADDRESS/NAME: a guest in the agent's desired state on that host.",
  },
  bhyve_host_facts: {
    hcl: `data "bhyve_host_facts" "gpu1" {
  address  = "10.0.0.5:22"
  host_key = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78"
}`,
  },
};

/** A description on one line, for the front matter's block scalar. */
const oneLine = (s: string): string => s.trim().replace(/\s*\n\s*/g, " ");

/** An example value (HCL) of attributes that mean the same wherever they are, by name. */
const COMMON_EXAMPLES: Record<string, string> = {
  address: `"10.0.0.5:22"`,
  host_key: `"SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78"`,
  cpu_vendor: `"intel"`,
  passthru_ready: "true",
  problems: `["E_IOMMU_DISABLED: the IOMMU is off (hw.vmm.iommu.enable=0)"]`,
  iommu: `"vt-d enabled"`,
  nested_paging: `"ept"`,
};

/** An example value (HCL) of each other attribute, by resource (or provider, data source) and path. */
const ATTRIBUTE_EXAMPLES: Record<string, string> = {
  "provider.ssh_user": `"bhyve-deploy"`,
  "provider.ssh_private_key": `file("~/.ssh/deploy_ed25519")`,
  "provider.ssh_private_key_file": `pathexpand("~/.ssh/deploy_ed25519")`,
  "provider.ssh_agent_socket": `"/tmp/ssh-agent.sock"`,
  "provider.connect_timeout": `"15s"`,
  "provider.command_timeout": `"10m"`,
  "provider.host_keys": `{ "10.0.0.5:22" = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78" }`,
  "provider.agent_upgrade": "true",
  "bhyve_host.id": `"10.0.0.5:22"`,
  "bhyve_host.vmm_load": "true",
  "bhyve_host.amdvi_enable": `"auto"`,
  "bhyve_host.loader_conf_in_sync": "true",
  "bhyve_host.agent_version": `"0.1.0"`,
  "bhyve_host.reboot_required": "false",
  "bhyve_ppt_device.id": `"10.0.0.5:22/3/0/0"`,
  "bhyve_ppt_device.device": `"3/0/0"`,
  "bhyve_ppt_device.vendor_id": `"0x10de"`,
  "bhyve_ppt_device.device_id": `"0x1e07"`,
  "bhyve_ppt_device.bind": `"live"`,
  "bhyve_ppt_device.driver": `"ppt0"`,
  "bhyve_ppt_device.bound": "true",
  "bhyve_ppt_device.description": `"NVIDIA Corporation TU104 [GeForce RTX 2080]"`,
  "bhyve_switch.id": `"10.0.0.5:22/lan"`,
  "bhyve_switch.name": `"lan"`,
  "bhyve_switch.uplink": `"igb1"`,
  "bhyve_switch.vlan": "20",
  "bhyve_switch.mtu": "9000",
  "bhyve_switch.bridge": `"bridge0"`,
  "bhyve_switch.present": "true",
  "bhyve_switch.uplink_attached": "true",
  "bhyve_guest.id": `"10.0.0.5:22/ml1"`,
  "bhyve_guest.name": `"ml1"`,
  "bhyve_guest.cpus": "8",
  "bhyve_guest.memory": `"32G"`,
  "bhyve_guest.bootrom": `"/usr/local/share/uefi-firmware/BHYVE_UEFI.fd"`,
  "bhyve_guest.state": `"running"`,
  "bhyve_guest.restart": `"always"`,
  "bhyve_guest.start_order": "10",
  "bhyve_guest.uefi_vars": "true",
  "bhyve_guest.rtc": `"localtime"`,
  "bhyve_guest.ignore_unknown_msrs": "true",
  "bhyve_guest.adopt": "true",
  "bhyve_guest.exit_on_pause": "false",
  "bhyve_guest.hostbridge": `"amd"`,
  "bhyve_guest.sockets": "1",
  "bhyve_guest.cores": "4",
  "bhyve_guest.threads": "2",
  "bhyve_guest.uuid": `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`,
  "bhyve_guest.console": "true",
  "bhyve_guest.command_line": `["/usr/sbin/bhyve", "-c", "8", "-m", "32G", "-S", "...", "ml1"]`,
  "bhyve_guest.argv": `["/usr/sbin/bhyve", "-c", "8", "-m", "32G", "-S", "...", "ml1"]`,
  "bhyve_guest.status": `"running"`,
  "bhyve_guest.restarts": "0",
  "bhyve_guest.disk.path": `"/dev/zvol/zroot/vm/ml1"`,
  "bhyve_guest.disk.zvol": `"zroot/vm/ml1/root"`,
  "bhyve_guest.disk.file": `"/vm/ml1/scratch.img"`,
  "bhyve_guest.disk.size": `"40G"`,
  "bhyve_guest.disk.sparse": "false",
  "bhyve_guest.disk.volblocksize": `"16K"`,
  "bhyve_guest.disk.clone": `"zroot/images/freebsd-14.3@base"`,
  "bhyve_guest.disk.on_delete": `"destroy"`,
  "bhyve_guest.disk.type": `"nvme"`,
  "bhyve_guest.disk.slot": "4",
  "bhyve_guest.disk.function": "1",
  "bhyve_guest.disk.bootindex": "0",
  "bhyve_guest.nic.switch": `"lan"`,
  "bhyve_guest.nic.tap": `"tap0"`,
  "bhyve_guest.nic.model": `"e1000"`,
  "bhyve_guest.nic.mac": `"58:9c:fc:00:00:01"`,
  "bhyve_guest.nic.slot": "15",
  "bhyve_guest.nic.function": "1",
  "bhyve_guest.cpu_pin.vcpu": "0",
  "bhyve_guest.cpu_pin.host_cpu": "2",
  "bhyve_guest.cloud_init.user_data": `"#cloud-config\\npackages: [nginx]\\n"`,
  "bhyve_guest.cloud_init.meta_data": `"local-hostname: www1\\n"`,
  "bhyve_guest.cloud_init.network_config": `"version: 2\\nethernets:\\n  id0:\\n    match: { name: vtnet0 }\\n    dhcp4: true\\n"`,
  "bhyve_guest.cloud_init.instance_id": `"iid-ml1-0c1f9a5e2b7d4e61"`,
  "bhyve_guest.framebuffer.width": "1920",
  "bhyve_guest.framebuffer.height": "1080",
  "bhyve_guest.framebuffer.wait": "false",
  "bhyve_guest.framebuffer.listen": `"127.0.0.1"`,
  "bhyve_guest.framebuffer.port": "5901",
  "bhyve_guest.passthru.device": `"3/0/0"`,
  "bhyve_guest.passthru.slot": "6",
  "bhyve_guest.passthru.function": "0",
  "bhyve_guest.passthru.rom": `"/vm/roms/tu104.rom"`,
  "bhyve_guest.passthru.bootindex": "1",
  "bhyve_host_facts.id": `"10.0.0.5:22"`,
  "bhyve_host_facts.os_release": `"14.3-RELEASE"`,
  "bhyve_host_facts.nested_paging": "true",
  "bhyve_host_facts.nested_paging_kind": `"ept"`,
  "bhyve_host_facts.unrestricted_guest": "true",
  "bhyve_host_facts.iommu": `"vt-d"`,
  "bhyve_host_facts.iommu_enabled": "true",
  "bhyve_host_facts.vmm_loaded": "true",
  "bhyve_host_facts.max_user_wired": "54975581388",
  "bhyve_host_facts.pci_devices": `[{ device = "3/0/0", selector = "pci0:3:0:0", driver = "ppt0", vendor_id = "0x10de", device_id = "0x1e07", class = "0x030000", name = "TU104", bridge = false }]`,
};

/** The example value of an attribute (`where`: resource name and path, as bhyve_guest.disk.size). */
export function attributeExample(where: string): string | undefined {
  return ATTRIBUTE_EXAMPLES[where] ?? COMMON_EXAMPLES[where.slice(where.lastIndexOf(".") + 1)];
}

/** A type as the registry's docs write it: String, Number, Bool, List of String, Map of String, List of Object. */
export function typeName(t: CtyType): string {
  if (typeof t === "string") return t === "bool" ? "Boolean" : t === "dynamic" ? "Dynamic" : t[0]!.toUpperCase() + t.slice(1);
  if (t[0] === "object") return "Object";
  return `${t[0] === "list" ? "List" : t[0] === "set" ? "Set" : "Map"} of ${typeName(t[1])}`;
}

function attributeLine(name: string, a: AttributeDef, where: string): string {
  const notes = [typeName(a.type)];
  if (a.sensitive) notes.push("Sensitive");
  if (a.requiresReplace) notes.push("Forces replacement");
  if (a.default !== undefined) notes.push(`Default: \`${JSON.stringify(a.default)}\``);
  const example = attributeExample(`${where}.${name}`);
  return `- \`${name}\` (${notes.join(", ")}) ${a.description.trim()}${example !== undefined ? ` Example: \`${name} = ${example}\`.` : ""}`;
}

/**
 * The schema's attributes and nested blocks in the registry's three groups (tfplugindocs' layout:
 * `### Required` at the top level, `Required:` lines in a nested schema), blocks after attributes.
 */
function blockSection(b: BlockDef, level: number, anchor: string, where: string): string[] {
  const out: string[] = [];
  const attrs = Object.entries(b.attributes);
  const required = attrs.filter(([, a]) => a.required);
  const optional = attrs.filter(([, a]) => a.optional);
  const readOnly = attrs.filter(([, a]) => a.computed && !a.optional && !a.required);
  const blocks = Object.entries(b.blocks ?? {});
  const group = (name: string): string => (level === 3 ? `### ${name}` : `${name}:`);
  if (required.length) out.push(group("Required"), "", ...required.map(([n, a]) => attributeLine(n, a, where)), "");
  if (optional.length || blocks.length) {
    out.push(group("Optional"), "", ...optional.map(([n, a]) => `${attributeLine(n, a, where)}${a.computed ? " (Computed when not set.)" : ""}`));
    for (const [n, nb] of blocks) out.push(`- \`${n}\` (Block List${nb.single ? ", Max: 1" : ""}) ${nb.block.description.trim()} (see [below for nested schema](#nestedblock--${anchor}${n}))`);
    out.push("");
  }
  if (readOnly.length) out.push(group("Read-Only"), "", ...readOnly.map(([n, a]) => attributeLine(n, a, where)), "");
  for (const [n, nb] of blocks) {
    out.push(`<a id="nestedblock--${anchor}${n}"></a>`, `### Nested Schema for \`${anchor.replace(/--/g, ".")}${n}\``, "", ...blockSection(nb.block, level + 1, `${anchor}${n}--`, `${where}.${n}`));
  }
  return out;
}

function page(kind: "resource" | "data-source", name: string, b: BlockDef): string {
  const ex = EXAMPLES[name];
  const lines = [
    "---",
    `page_title: "${name} ${kind === "resource" ? "Resource" : "Data Source"} - bhyve"`,
    `subcategory: ""`,
    `description: |-`,
    `  ${oneLine(b.description)}`,
    "---",
    "",
    `# ${name} (${kind === "resource" ? "Resource" : "Data Source"})`,
    "",
    b.description.trim(),
    "",
  ];
  if (ex) lines.push("## Example Usage", "", "```terraform", ex.hcl, "```", "");
  lines.push("<!-- schema generated by cdktf-bhyve gen-docs -->", "## Schema", "", ...blockSection(b, 3, "", name));
  if (ex?.importId) {
    lines.push(
      "## Import",
      "",
      `${ex.importNote ?? ""} Terraform 1.5 and later can import with a block (and write the configuration with \`terraform plan -generate-config-out=FILE\`); the provider reads the host key from its \`host_keys\` setting:`,
      "",
      "```terraform",
      `import {`,
      `  to = ${name}.example`,
      `  id = "${ex.importId}"`,
      `}`,
      "```",
      "",
      "Or on the command line:",
      "",
      "```shell",
      `terraform import ${name}.example ${ex.importId}`,
      "```",
      "",
    );
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Every documentation file, by path under docs/. */
export function providerDocs(p: ProviderDef): Record<string, string> {
  const out: Record<string, string> = {};
  const index = [
    "---",
    `page_title: "bhyve Provider"`,
    `description: |-`,
    `  ${oneLine(p.schema.description)}`,
    "---",
    "",
    "# bhyve Provider",
    "",
    p.schema.description.trim(),
    "",
    "Each resource names its host by `address` and pins its SSH host key (`host_key`); the provider",
    "reaches the host's `bhyve-agent` over SSH with the key configured here. Resources: " +
      Object.keys(p.resources).sort().map((r) => `\`${r}\``).join(", ") + "; data sources: " +
      Object.keys(p.dataSources).sort().map((d) => `\`${d}\``).join(", ") + ".",
    "",
    "## Example Usage",
    "",
    "```terraform",
    `provider "bhyve" {`,
    `  ssh_private_key_file = pathexpand("~/.ssh/deploy_ed25519")`,
    `  host_keys = {`,
    `    "10.0.0.5:22" = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78"`,
    `  }`,
    `}`,
    "```",
    "",
    "<!-- schema generated by cdktf-bhyve gen-docs -->",
    "## Schema",
    "",
    ...blockSection(p.schema, 3, "", "provider"),
  ];
  out["index.md"] = `${index.join("\n").trimEnd()}\n`;
  for (const [name, r] of Object.entries(p.resources)) out[`resources/${name.replace(/^bhyve_/, "")}.md`] = page("resource", name, r.schema);
  for (const [name, d] of Object.entries(p.dataSources)) out[`data-sources/${name.replace(/^bhyve_/, "")}.md`] = page("data-source", name, d.schema);
  return out;
}

/** Attributes and blocks without a description, by path (resource.block.attribute). */
export function undocumented(p: ProviderDef): string[] {
  const out: string[] = [];
  const walk = (where: string, b: BlockDef): void => {
    if (!b.description?.trim()) out.push(where);
    for (const [n, a] of Object.entries(b.attributes)) if (!a.description?.trim()) out.push(`${where}.${n}`);
    for (const [n, nb] of Object.entries(b.blocks ?? {})) walk(`${where}.${n}`, nb.block);
  };
  walk("provider", p.schema);
  for (const [n, r] of Object.entries(p.resources)) walk(n, r.schema);
  for (const [n, d] of Object.entries(p.dataSources)) walk(n, d.schema);
  return out;
}
