/**
 * L2 constructs for bhyve hosts: BhyveHost, PptDevice and Guest, on top of the generated L1
 * bindings. A host gathers its reservations and guests; at synth time the whole of a host's
 * desired state is checked with the agent's own spec model (the same rules the agent and the
 * provider apply), and every problem is reported against the construct and field at fault.
 */
import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { Host } from "../gen/host/index.js";
import { PptDevice as PptDeviceResource } from "../gen/ppt-device/index.js";
import { Guest as GuestResource } from "../gen/guest/index.js";
import { formatBsf, parsePciAddress } from "../../../agent/model/pci-address.js";
import { checkDocumentData, type CheckResult } from "../../../agent/model/validate.js";
import type { Problem } from "../../../agent/model/problems.js";
import { attachReport } from "./report.js";
import { attachDocuments } from "./documents.js";
import { pushModeOf, registerHost } from "./mode.js";
import { pushResource } from "./push.js";
import type { Resource as NullResource } from "@cdktf/provider-null/lib/resource/index.js";

/** Props of a {@link BhyveHost}. */
export interface BhyveHostProps {
  /** SSH address: host or host:port (port 22 by default). */
  readonly address: string;
  /** The host's SSH key fingerprint, `SHA256:...` (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). */
  readonly hostKey: string;
  /** Load vmm.ko from loader.conf. @default true */
  readonly vmmLoad?: boolean;
  /** hw.vmm.amdvi.enable: "auto" turns it on for AMD hosts. @default "auto" */
  readonly amdviEnable?: "auto" | boolean;
}

/** Props of a {@link PptDevice}. */
export interface PptDeviceProps {
  /** The host that reserves the device. */
  readonly host: BhyveHost;
  /** B/S/F in decimal (3/0/0) or pci0:B:S:F. */
  readonly device: string;
  /** Expected vendor id (0x10de or 4318): the reservation is refused when the hardware differs. @default no check */
  readonly vendorId?: string | number;
  /** Expected device id. @default no check */
  readonly deviceId?: string | number;
  /** "live" binds to ppt at once and at boot; "boot" at the next boot only. @default "boot" */
  readonly bind?: "live" | "boot";
}

/** A guest disk. */
export interface GuestDisk {
  /** Host path of a zvol or image file. */
  readonly path: string;
  /** @default "virtio-blk" */
  readonly type?: "virtio-blk" | "nvme" | "ahci-hd" | "ahci-cd";
  /** Guest PCI slot. @default allocated from 4 */
  readonly slot?: number;
}

/** A guest NIC. */
export interface GuestNic {
  /** Host tap interface. */
  readonly tap: string;
  /** @default "virtio-net" */
  readonly model?: "virtio-net" | "e1000";
  /** @default derived by bhyve from the VM name and slot */
  readonly mac?: string;
  /** Guest PCI slot. @default allocated from 15 */
  readonly slot?: number;
}

/** A passthrough slot. */
export interface GuestPassthru {
  /** A reservation of the same host, or its B/S/F. */
  readonly device: PptDevice | string;
  /** Guest PCI slot (1-30). */
  readonly slot: number;
  /** Guest PCI function (0-7). @default the host function */
  readonly function?: number;
  /** Option ROM file (a GPU VBIOS dump). @default none */
  readonly rom?: string;
}

/** Props of a {@link Guest}. */
export interface GuestProps {
  /** The host that runs the guest. */
  readonly host: BhyveHost;
  /** VM name: 1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit. */
  readonly name: string;
  /** Virtual CPUs. */
  readonly cpus: number;
  /** Memory: bytes, or a size with K/M/G/T ("32G"). At least 128M. */
  readonly memory: string | number;
  /** UEFI firmware path. @default none: boot with bhyveload from the first disk */
  readonly bootrom?: string;
  /** @default none */
  readonly disks?: readonly GuestDisk[];
  /** @default none */
  readonly nics?: readonly GuestNic[];
  /** @default none */
  readonly passthru?: readonly GuestPassthru[];
  /** @default "running" */
  readonly state?: "running" | "stopped";
  /** @default "on-reboot" */
  readonly restart?: "always" | "on-reboot" | "never";
  /** Lower starts first at boot. @default 0 */
  readonly startOrder?: number;
}

const idString = (v: string | number | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === "number" ? `0x${v.toString(16).padStart(4, "0")}` : v;

const concrete = (v: unknown): boolean => !(typeof v === "string" || typeof v === "number") || !Token.isUnresolved(v);

/** A bhyve host: its settings, and the reservations and guests declared on it. */
export class BhyveHost extends Construct {
  /** The L1 bhyve_host resource (undefined in push mode). */
  readonly resource: Host | undefined;
  /** In push mode, the null_resource that pushes this host's document (undefined otherwise). */
  readonly pushResource: NullResource | undefined;
  /** Marks hosts across copies of this module (the bundled and the source one). */
  readonly isBhyveHost = true;
  /** Whether the stack is in push mode. */
  readonly push: boolean;
  readonly address: string;
  readonly hostKey: string;
  /** Reservations declared on this host, in order. */
  readonly devices: PptDevice[] = [];
  /** Guests declared on this host, in order. */
  readonly guests: Guest[] = [];
  private checked: { readonly items: number; readonly result: CheckResult } | null = null;

  constructor(scope: Construct, id: string, readonly props: BhyveHostProps) {
    super(scope, id);
    this.address = props.address;
    this.hostKey = props.hostKey;
    const stack = TerraformStack.of(this);
    registerHost(stack);
    const mode = pushModeOf(stack);
    this.push = mode !== undefined;
    this.resource = mode ? undefined : new Host(this, "host", {
      address: props.address,
      hostKey: props.hostKey,
      ...(props.vmmLoad !== undefined ? { vmmLoad: props.vmmLoad } : {}),
      ...(props.amdviEnable !== undefined ? { amdviEnable: String(props.amdviEnable) } : {}),
    });
    this.pushResource = mode ? pushResource(this, mode) : undefined;
    this.node.addValidation({ validate: () => this.problemsFor("host") });
    attachReport(this);
    attachDocuments(this);
  }

  /** Reserves a device on this host (a PptDevice in this host's scope). */
  reservePpt(id: string, props: Omit<PptDeviceProps, "host">): PptDevice {
    return new PptDevice(this, id, { ...props, host: this });
  }

  /**
   * The agent's desired-state document for this host (the same shape `bhyve-agent apply` takes).
   * Values that are tokens (known only at apply) are left out, and so are the items holding them.
   */
  toDocument(): { host: Record<string, unknown>; ppt: Array<Record<string, unknown>>; guests: Array<Record<string, unknown>> } {
    const host: Record<string, unknown> = {};
    if (this.props.vmmLoad !== undefined) host.vmm_load = this.props.vmmLoad;
    if (this.props.amdviEnable !== undefined) host.amdvi_enable = this.props.amdviEnable;
    return {
      host,
      ppt: this.devices.filter((d) => d.concrete).map((d) => d.toDocument()),
      guests: this.guests.filter((g) => g.concrete).map((g) => g.toDocument()),
    };
  }

  /**
   * The spec check of this host's whole document, shared by the validations, the passthru report,
   * the documents and push mode. Props are read-only, so the result holds until another
   * reservation or guest is declared on the host.
   */
  check(): CheckResult {
    const items = this.devices.length + this.guests.length;
    if (this.checked?.items !== items) this.checked = { items, result: checkDocumentData(this.toDocument()) };
    return this.checked.result;
  }

  /** Problems of the whole host, handed out to the construct at fault. */
  problemsFor(who: "host" | PptDevice | Guest): string[] {
    const r = this.check();
    const problems: readonly Problem[] = r.ok ? [] : r.problems;
    const devices = this.devices.filter((d) => d.concrete);
    const guests = this.guests.filter((g) => g.concrete);
    const out: string[] = [];
    for (const p of problems) {
      const m = /^(ppt|guests)\[(\d+)\]\.?(.*)$/.exec(p.path);
      const owner = m ? (m[1] === "ppt" ? devices[Number(m[2])] : guests[Number(m[2])]) : undefined;
      const field = m ? m[3]! : p.path;
      if ((owner ?? "host") === who) out.push(`${field ? `${field}: ` : ""}${p.message}`);
    }
    if (who instanceof Guest) out.push(...who.crossHostProblems());
    if (this.push) out.push(...this.pushProblems(who));
    return out;
  }

  /** Push mode sends a whole document at synth: every value must be known then. */
  private pushProblems(who: "host" | PptDevice | Guest): string[] {
    const why = "is known only at apply; push mode writes the whole document at synth, so every value must be known then (or use BhyveProvider)";
    if (who === "host") return (["address", "hostKey"] as const).filter((k) => !concrete(this.props[k])).map((k) => `${k}: ${why}`);
    return who.concrete ? [] : [`a value ${why}`];
  }
}

/** A PCI function reserved for passthrough on a host. */
export class PptDevice extends Construct {
  /** The L1 bhyve_ppt_device resource (undefined in push mode: the host's document holds the reservation). */
  readonly resource: PptDeviceResource | undefined;
  readonly host: BhyveHost;
  /** The device as given. */
  readonly device: string;
  /** B/S/F, or the device as given when it is not an address (validation reports it). */
  readonly bsf: string;

  constructor(scope: Construct, id: string, readonly props: PptDeviceProps) {
    super(scope, id);
    this.host = props.host;
    this.device = props.device;
    const a = concrete(props.device) ? parsePciAddress(props.device) : null;
    this.bsf = a?.ok ? formatBsf(a.address) : props.device;
    const vendorId = idString(props.vendorId);
    const deviceId = idString(props.deviceId);
    this.resource = props.host.push ? undefined : new PptDeviceResource(this, "device", {
      address: props.host.address,
      hostKey: props.host.hostKey,
      device: props.device,
      ...(vendorId !== undefined ? { vendorId } : {}),
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(props.bind !== undefined ? { bind: props.bind } : {}),
      dependsOn: props.host.resource ? [props.host.resource] : [],
    });
    props.host.devices.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    return [this.props.device, this.props.vendorId, this.props.deviceId].every(concrete);
  }

  toDocument(): Record<string, unknown> {
    const doc: Record<string, unknown> = { device: this.props.device };
    if (this.props.vendorId !== undefined) doc.vendor_id = idString(this.props.vendorId);
    if (this.props.deviceId !== undefined) doc.device_id = idString(this.props.deviceId);
    if (this.props.bind !== undefined) doc.bind = this.props.bind;
    return doc;
  }
}

/** A bhyve guest on a host; it depends on the reservations it passes through. */
export class Guest extends Construct {
  /** The L1 bhyve_guest resource (undefined in push mode: the host's document holds the guest). */
  readonly resource: GuestResource | undefined;
  readonly host: BhyveHost;
  readonly name: string;

  constructor(scope: Construct, id: string, readonly props: GuestProps) {
    super(scope, id);
    this.host = props.host;
    this.name = props.name;
    const used = (props.passthru ?? []).flatMap((p) => (p.device instanceof PptDevice && p.device.resource ? [p.device.resource] : []));
    const named = (props.passthru ?? []).flatMap((p) => {
      if (typeof p.device !== "string") return [];
      const d = props.host.devices.find((x) => x.bsf === p.device || x.device === p.device);
      return d?.resource ? [d.resource] : [];
    });
    this.resource = props.host.push ? undefined : new GuestResource(this, "guest", {
      address: props.host.address,
      hostKey: props.host.hostKey,
      name: props.name,
      cpus: props.cpus,
      memory: String(props.memory),
      ...(props.bootrom !== undefined ? { bootrom: props.bootrom } : {}),
      disk: (props.disks ?? []).map((d) => ({ path: d.path, ...(d.type ? { type: d.type } : {}), ...(d.slot !== undefined ? { slot: d.slot } : {}) })),
      nic: (props.nics ?? []).map((n) => ({ tap: n.tap, ...(n.model ? { model: n.model } : {}), ...(n.mac ? { mac: n.mac } : {}), ...(n.slot !== undefined ? { slot: n.slot } : {}) })),
      passthru: (props.passthru ?? []).map((p) => ({
        device: p.device instanceof PptDevice ? p.device.device : p.device,
        slot: p.slot,
        ...(p.function !== undefined ? { function: p.function } : {}),
        ...(p.rom !== undefined ? { rom: p.rom } : {}),
      })),
      ...(props.state !== undefined ? { state: props.state } : {}),
      ...(props.restart !== undefined ? { restart: props.restart } : {}),
      ...(props.startOrder !== undefined ? { startOrder: props.startOrder } : {}),
      dependsOn: [...(props.host.resource ? [props.host.resource] : []), ...new Set([...used, ...named])],
    });
    props.host.guests.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    const p = this.props;
    const values: unknown[] = [p.name, p.cpus, p.memory, p.bootrom, p.state, p.restart, p.startOrder];
    for (const d of p.disks ?? []) values.push(d.path, d.slot);
    for (const n of p.nics ?? []) values.push(n.tap, n.mac, n.slot);
    for (const x of p.passthru ?? []) values.push(typeof x.device === "string" ? x.device : x.device.device, x.slot, x.function, x.rom);
    return values.every(concrete);
  }

  toDocument(): Record<string, unknown> {
    const p = this.props;
    const doc: Record<string, unknown> = { name: p.name, cpus: p.cpus, memory: p.memory };
    if (p.bootrom !== undefined) doc.bootrom = p.bootrom;
    doc.disks = (p.disks ?? []).map((d) => ({ ...d }));
    doc.nics = (p.nics ?? []).map((n) => ({ ...n }));
    doc.passthru = (p.passthru ?? []).map((x) => ({
      device: typeof x.device === "string" ? x.device : x.device.device,
      slot: x.slot,
      ...(x.function !== undefined ? { function: x.function } : {}),
      ...(x.rom !== undefined ? { rom: x.rom } : {}),
    }));
    if (p.state !== undefined) doc.state = p.state;
    if (p.restart !== undefined) doc.restart = p.restart;
    if (p.startOrder !== undefined) doc.start_order = p.startOrder;
    return doc;
  }

  /** A PptDevice of another host cannot be passed through here. */
  crossHostProblems(): string[] {
    return (this.props.passthru ?? []).flatMap((x, i) =>
      x.device instanceof PptDevice && x.device.host !== this.host
        ? [`passthru[${i}].device: ${x.device.node.path} is reserved on host ${x.device.host.node.path} (${x.device.host.address}), not on ${this.host.node.path} (${this.host.address})`]
        : [],
    );
  }
}
