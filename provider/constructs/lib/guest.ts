/** Guest: a bhyve guest on a host (bhyve_guest); it depends on the reservations it passes through. */
import { Construct } from "constructs";
import { Guest as GuestResource } from "../gen/guest/index.js";
import type { BhyveHost } from "./host.js";
import { PptDevice } from "./ppt-device.js";
import { concrete } from "./tokens.js";

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

/** A bhyve guest on a host; it depends on the reservations it passes through. */
export class Guest extends Construct {
  readonly kind = "guest";
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
