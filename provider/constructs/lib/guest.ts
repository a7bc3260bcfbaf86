/** Guest: a bhyve guest on a host (bhyve_guest); it depends on the reservations it passes through. */
import { Construct } from "constructs";
import { stringify } from "yaml";
import { Guest as GuestResource, type GuestConfig } from "../gen/guest/index.js";
import { documentLeaves, documentOfProps, l1Properties } from "../../resources/document-map.js";
import { GUEST_SCHEMA } from "../../resources/guest-schema.js";
import type { BhyveHost } from "./host.js";
import { isPptDevice, PptDevice } from "./ppt-device.js";
import { isSwitch, type Switch } from "./switch.js";
import { concrete } from "./tokens.js";

/**
 * A guest disk: one that exists (`path`), or one the agent makes: a ZFS volume (`zvol`, with
 * `size` or `clone`) or a sparse image file (`file` and `size`). Exactly one of path, zvol, file.
 */
export interface GuestDisk {
  /** Host path of a zvol or image file that exists, used as it is. @default for zvol or file: /dev/zvol/DATASET or the file */
  readonly path?: string;
  /** A ZFS volume the agent makes before the first start (under the host policy's zvol_parents), e.g. "zroot/vm/web1/disk0". @default none */
  readonly zvol?: string;
  /** A sparse image file the agent makes (under the policy's disk_prefixes). @default none */
  readonly file?: string;
  /** Size of a zvol or file ("20G"); grow only. For a zvol a multiple of volblocksize. @default a clone's snapshot size */
  readonly size?: string;
  /** zvol only: false reserves the whole size. @default true */
  readonly sparse?: boolean;
  /** zvol only: block size, a power of two from 512 to 128K, fixed at creation. @default "16K" (given to zfs create as -b) */
  readonly volblocksize?: string;
  /** zvol only: clone the volume from this snapshot ("zroot/images/freebsd-14.3@base"). @default none */
  readonly clone?: string;
  /** "destroy": the zvol or file goes with the guest (only one the agent made for it). @default "keep" */
  readonly onDelete?: "keep" | "destroy";
  /** @default "virtio-blk" */
  readonly type?: "virtio-blk" | "nvme" | "ahci-hd" | "ahci-cd";
  /** Guest PCI slot. @default allocated from 4 */
  readonly slot?: number;
  /** PCI function within slot (0-7; needs slot). @default 0 */
  readonly function?: number;
  /** UEFI boot order, lowest first (FreeBSD 14.0 and later). @default none */
  readonly bootindex?: number;
}

/** A guest NIC: on a switch (the agent makes and attaches its tap), or on a host tap you manage (exactly one). */
export interface GuestNic {
  /** The switch (of the same host, or its name) the NIC is on. @default none */
  readonly switch?: Switch | string;
  /** Host tap interface you manage. @default none (with switch: the agent allocates one) */
  readonly tap?: string;
  /** @default "virtio-net" */
  readonly model?: "virtio-net" | "e1000";
  /** @default derived by bhyve from the VM name and slot */
  readonly mac?: string;
  /** Guest PCI slot. @default allocated from 15 */
  readonly slot?: number;
  /** PCI function within slot (0-7; needs slot), as vm-bhyve packs NICs into slot 15. @default 0 */
  readonly function?: number;
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
  /** UEFI boot order for a passed-through boot device (FreeBSD 14.0 and later). @default none */
  readonly bootindex?: number;
}

/** A UEFI guest's graphical console (bhyve's framebuffer and a USB tablet), served as VNC on the host. */
export interface GuestFramebuffer {
  /** Pixels, 640-3840. @default 1024 */
  readonly width?: number;
  /** Pixels, 480-2160. @default 768 */
  readonly height?: number;
  /** Hold the guest's boot until a VNC viewer connects. @default false */
  readonly wait?: boolean;
  /** Numeric address the VNC server listens on; off loopback only where the host policy allows it. @default "127.0.0.1" */
  readonly listen?: string;
  /** VNC port on the host. @default allocated by the agent from 5900 up and kept */
  readonly port?: number;
}

/** cloud-init's NoCloud seed: user-data, meta-data and network-config on a CD labelled cidata. */
export interface GuestCloudInit {
  /** user-data: a string (a #cloud-config document or a script), or an object written as #cloud-config YAML. */
  readonly userData: string | Readonly<Record<string, unknown>>;
  /** meta-data: a YAML mapping as a string or an object; the agent sets instance-id, and local-hostname unless given. @default instance-id and local-hostname */
  readonly metaData?: string | Readonly<Record<string, unknown>>;
  /** network-config (version 1 or 2), as a string or an object. @default none */
  readonly networkConfig?: string | Readonly<Record<string, unknown>>;
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
  /** Keep the guest's UEFI variables in its own copy of BHYVE_UEFI_VARS.fd (bhyve -l bootrom,CODE,VARS). @default true for a UEFI guest */
  readonly uefiVars?: boolean;
  /** The guest's RTC: "utc" (bhyve -u) or "localtime" (Windows' default). @default "utc" */
  readonly rtc?: "utc" | "localtime";
  /** bhyve -w: ignore accesses to MSRs bhyve does not emulate (GPU drivers probe some). @default false */
  readonly ignoreUnknownMsrs?: boolean;
  /** The slot-0 host bridge: "standard", or "amd" (amd_hostbridge, which some AMD GPU drivers want). @default "standard" */
  readonly hostbridge?: "standard" | "amd";
  /** bhyve -P: a vCPU spinning on PAUSE exits to the host. @default true */
  readonly exitOnPause?: boolean;
  /** CPU topology: sockets x cores x threads must be `cpus` (absent ones count 1). @default none: bhyve's */
  readonly sockets?: number;
  /** CPU topology: cores per socket. @default none */
  readonly cores?: number;
  /** CPU topology: threads per core. @default none */
  readonly threads?: number;
  /** vCPUs pinned to host CPUs (bhyve -p), each vCPU at most once. @default none */
  readonly cpuPinning?: ReadonlyArray<{ readonly vcpu: number; readonly hostCpu: number }>;
  /** SMBIOS system UUID (bhyve -U). @default made by the agent at the first apply and kept */
  readonly uuid?: string;
  /** A serial console on com1 (nmdm), logged by the guest's monitor; attach with cdktf-bhyve console. @default true */
  readonly console?: boolean;
  /** A graphical console (UEFI guests); reach it with cdktf-bhyve vnc. @default none */
  readonly framebuffer?: GuestFramebuffer;
  /** First-boot configuration: a cloud-init NoCloud seed attached as a CD. @default none */
  readonly cloudInit?: GuestCloudInit;
  /**
   * Take over a running VM of this name that the agent did not create (vm-bhyve's, or one started
   * by hand) without restarting it, when it runs exactly what this guest renders to; otherwise the
   * apply is refused (E_ADOPT_MISMATCH) and the VM left alone. `cdktf-bhyve adopt` writes these.
   * @default false
   */
  readonly adopt?: boolean;
}

/** cloud-init's texts: a string as it is, an object as YAML (user-data with its #cloud-config line). */
function cloudInitTexts(ci: GuestCloudInit): { userData: string; metaData?: string; networkConfig?: string } {
  const text = (v: string | Readonly<Record<string, unknown>>, header = ""): string => (typeof v === "string" ? v : `${header}${stringify(v)}`);
  return {
    userData: text(ci.userData, "#cloud-config\n"),
    ...(ci.metaData !== undefined ? { metaData: text(ci.metaData) } : {}),
    ...(ci.networkConfig !== undefined ? { networkConfig: text(ci.networkConfig) } : {}),
  };
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
    const used = (props.passthru ?? []).flatMap((p) => (isPptDevice(p.device) && p.device.resource ? [p.device.resource] : []));
    const named = (props.passthru ?? []).flatMap((p) => {
      if (typeof p.device !== "string") return [];
      const d = props.host.devices.find((x) => x.bsf === p.device || x.device === p.device);
      return d?.resource ? [d.resource] : [];
    });
    // The switches its NICs are on, given as constructs or by name.
    const onSwitches = (props.nics ?? []).flatMap((n) => {
      const w = isSwitch(n.switch) ? n.switch : typeof n.switch === "string" ? props.host.switches.find((x) => x.name === n.switch) : undefined;
      return w?.resource ? [w.resource] : [];
    });
    // The L1 properties are the document form the host validates, through the schema's mapper.
    this.resource = props.host.push ? undefined : new GuestResource(this, "guest", {
      ...(l1Properties(GUEST_SCHEMA, this.toDocument()) as Omit<GuestConfig, "address" | "hostKey">),
      address: props.host.address,
      hostKey: props.host.hostKey,
      dependsOn: [...(props.host.resource ? [props.host.resource] : []), ...new Set([...used, ...named, ...onSwitches])],
    });
    props.host.guests.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    this.allKnown ??= documentLeaves(this.toDocument()).every(concrete);
    return this.allKnown;
  }

  private allKnown: boolean | undefined;

  /** The guest's document: its properties with the document's names, a reservation by its B/S/F. */
  toDocument(): Record<string, unknown> {
    // The props are read-only: the document is made once (validation asks for it per check).
    // A reservation by its brand, not instanceof: two copies of this module may be loaded.
    // cloud-init's objects become their YAML text first: their keys are cloud-init's, not the document's.
    const props = this.props.cloudInit ? { ...this.props, cloudInit: cloudInitTexts(this.props.cloudInit) } : this.props;
    this.document ??= documentOfProps(props, { omit: ["host"], value: (v) => (isPptDevice(v) ? v.device : isSwitch(v) ? v.name : v) });
    return this.document;
  }

  private document: Record<string, unknown> | undefined;

  /** A PptDevice of another host cannot be passed through here. */
  crossHostProblems(): string[] {
    return [
      ...(this.props.passthru ?? []).flatMap((x, i) =>
        isPptDevice(x.device) && x.device.host !== this.host
          ? [`passthru[${i}].device: ${x.device.node.path} is reserved on host ${x.device.host.node.path} (${x.device.host.address}), not on ${this.host.node.path} (${this.host.address})`]
          : [],
      ),
      ...(this.props.nics ?? []).flatMap((n, i) =>
        isSwitch(n.switch) && n.switch.host !== this.host
          ? [`nics[${i}].switch: ${n.switch.node.path} is a switch of host ${n.switch.host.node.path} (${n.switch.host.address}), not of ${this.host.node.path} (${this.host.address})`]
          : [],
      ),
    ];
  }
}
