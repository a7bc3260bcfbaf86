/**
 * The canonical document of a state: every field written out, defaults included, devices as B/S/F
 * and sizes in their shortest unit. Two documents that mean the same have one canonical form (and
 * one hash). Pure, without the YAML reader, so the provider can use it.
 */
import { createHash } from "node:crypto";
import { formatBsf } from "./pci-address.js";
import { formatSize } from "./size.js";
import type { DesiredState, Disk, Guest, Switch } from "./types.js";

/** The canonical document for a state: every field written out, defaults included. */
export function toDocument(state: DesiredState): Record<string, unknown> {
  return {
    host: {
      vmm_load: state.host.vmmLoad,
      amdvi_enable: state.host.amdviEnable,
      require_iommu: state.host.requireIommu,
      require_nested_paging: state.host.requireNestedPaging,
    },
    ppt: state.ppt.map((p) => ({
      device: formatBsf(p.device),
      ...(p.vendorId !== undefined ? { vendor_id: p.vendorId } : {}),
      ...(p.deviceId !== undefined ? { device_id: p.deviceId } : {}),
      bind: p.bind,
    })),
    // Written only when there are switches, so that states from before switches keep their hash.
    ...(state.switches.length ? { switches: state.switches.map(switchToDocument) } : {}),
    guests: state.guests.map(guestToDocument),
  };
}

/** The canonical document of one switch. */
export function switchToDocument(w: Switch): Record<string, unknown> {
  return {
    name: w.name,
    ...(w.uplink !== undefined ? { uplink: w.uplink } : {}),
    ...(w.vlan !== undefined ? { vlan: w.vlan } : {}),
    ...(w.mtu !== undefined ? { mtu: w.mtu } : {}),
  };
}

/** The canonical document of one disk: a managed one with its path (derived) beside what makes it. */
export function diskToDocument(d: Disk): Record<string, unknown> {
  const m = d.managed;
  return {
    ...(m?.kind === "zvol" ? { zvol: m.dataset } : m?.kind === "file" ? { file: d.path } : {}),
    path: d.path,
    type: d.type,
    ...(d.slot !== undefined ? { slot: d.slot } : {}),
    ...(d.function !== undefined ? { function: d.function } : {}),
    ...(d.bootindex !== undefined ? { bootindex: d.bootindex } : {}),
    ...(m?.size !== undefined ? { size: formatSize(m.size) } : {}),
    // sparse and on_delete only when they are not their defaults, as the provider's attributes leave them null.
    ...(m?.kind === "zvol" && !m.sparse ? { sparse: false } : {}),
    ...(m?.volblocksize !== undefined ? { volblocksize: formatSize(m.volblocksize) } : {}),
    ...(m?.clone !== undefined ? { clone: m.clone } : {}),
    ...(m && m.onDelete !== "keep" ? { on_delete: m.onDelete } : {}),
  };
}

/** The canonical document of one guest: every field written out, defaults included. */
export function guestToDocument(g: Guest): Record<string, unknown> {
  return {
    name: g.name,
    cpus: g.cpus,
    memory: formatSize(g.memory),
    ...(g.bootrom !== undefined ? { bootrom: g.bootrom } : {}),
    wired: g.wired,
    disks: g.disks.map(diskToDocument),
    nics: g.nics.map((n) => ({
      // A switch NIC is its switch; the tap the agent allocated for it is the host's, not the document's.
      ...(n.switch !== undefined ? { switch: n.switch } : { tap: n.tap }),
      model: n.model,
      ...(n.mac !== undefined ? { mac: n.mac } : {}),
      ...(n.slot !== undefined ? { slot: n.slot } : {}),
      ...(n.function !== undefined ? { function: n.function } : {}),
    })),
    passthru: g.passthru.map((p) => ({
      device: formatBsf(p.device),
      slot: p.slot,
      function: p.function,
      ...(p.rom !== undefined ? { rom: p.rom } : {}),
      ...(p.bootindex !== undefined ? { bootindex: p.bootindex } : {}),
    })),
    state: g.state,
    restart: g.restart,
    start_order: g.startOrder,
    // The fields below are written only when they are not their defaults, so that the states from
    // before them keep their hash.
    ...(g.rtc !== "utc" ? { rtc: g.rtc } : {}),
    ...(g.ignoreUnknownMsrs ? { ignore_unknown_msrs: true } : {}),
    ...(g.hostbridge !== "standard" ? { hostbridge: g.hostbridge } : {}),
    ...(!g.exitOnPause ? { exit_on_pause: false } : {}),
    ...(g.sockets !== undefined ? { sockets: g.sockets } : {}),
    ...(g.cores !== undefined ? { cores: g.cores } : {}),
    ...(g.threads !== undefined ? { threads: g.threads } : {}),
    ...(g.cpuPinning.length ? { cpu_pinning: g.cpuPinning.map((p) => ({ vcpu: p.vcpu, host_cpu: p.hostCpu })) } : {}),
    ...(g.uuid !== undefined ? { uuid: g.uuid } : {}),
    ...(g.uefiVars !== (g.bootrom !== undefined) ? { uefi_vars: g.uefiVars } : {}),
    ...(!g.console ? { console: false } : {}),
    ...(g.adopt ? { adopt: true } : {}),
    ...(g.framebuffer !== undefined
      ? { framebuffer: { width: g.framebuffer.width, height: g.framebuffer.height, wait: g.framebuffer.wait, listen: g.framebuffer.listen, ...(g.framebuffer.port !== undefined ? { port: g.framebuffer.port } : {}) } }
      : {}),
    ...(g.cloudInit !== undefined
      ? { cloud_init: { user_data: g.cloudInit.userData, ...(g.cloudInit.metaData !== undefined ? { meta_data: g.cloudInit.metaData } : {}), ...(g.cloudInit.networkConfig !== undefined ? { network_config: g.cloudInit.networkConfig } : {}) } }
      : {}),
  };
}

/**
 * The content hash of a state: SHA-256 (hex) of its canonical document as JSON. Two documents that
 * mean the same (defaults written out or not, `3/0/0` or `pci0:3:0:0`) hash the same.
 */
export function documentHash(state: DesiredState): string {
  return createHash("sha256").update(JSON.stringify(toDocument(state))).digest("hex");
}
