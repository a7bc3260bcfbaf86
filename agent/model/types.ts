import type { PciAddress } from "./pci-address.js";

/** `auto` means: enable the AMD IOMMU when the host turns out to be AMD. */
export type AmdviSetting = "auto" | boolean;

/** `live` binds now with devctl and in loader.conf for the next boot; `boot` only in loader.conf. */
export type BindMode = "live" | "boot";

/** Guest disk emulations bhyve offers for a block device or image file. */
export const DISK_TYPES = ["virtio-blk", "nvme", "ahci-hd", "ahci-cd"] as const;
/** One of {@link DISK_TYPES}. */
export type DiskType = (typeof DISK_TYPES)[number];

/** Guest NIC emulations bhyve offers on a tap interface. */
export const NIC_MODELS = ["virtio-net", "e1000"] as const;
/** One of {@link NIC_MODELS}. */
export type NicModel = (typeof NIC_MODELS)[number];

/** Whether the guest should be running. */
export const GUEST_STATES = ["running", "stopped"] as const;
/** One of {@link GUEST_STATES}. */
export type GuestState = (typeof GUEST_STATES)[number];

/**
 * What the monitor does when bhyve exits: `on-reboot` restarts only after a guest reboot (exit 0),
 * `always` also after a crash (with backoff), `never` leaves the guest stopped.
 */
export const RESTART_POLICIES = ["always", "on-reboot", "never"] as const;
/** One of {@link RESTART_POLICIES}. */
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** The guest's RTC: kept in UTC (`-u`), or in local time as Windows expects by default. */
export const RTC_MODES = ["utc", "localtime"] as const;
/** One of {@link RTC_MODES}. */
export type RtcMode = (typeof RTC_MODES)[number];

/** The host bridge at slot 0: bhyve's own (`hostbridge`) or one that presents as AMD's (`amd_hostbridge`), which some GPU drivers want. */
export const HOSTBRIDGES = ["standard", "amd"] as const;
/** One of {@link HOSTBRIDGES}. */
export type Hostbridge = (typeof HOSTBRIDGES)[number];

/**
 * A UEFI guest's graphical console: bhyve's framebuffer (`-s 29,fbuf,rfb=ADDR:PORT,w=,h=[,wait]`)
 * with a USB tablet (`-s 30,xhci,tablet`) for the pointer, served as VNC (RFB) on `listen`.
 */
export interface Framebuffer {
  /** Pixels, 640-3840 (pci_fbuf.c's COLS_MIN and COLS_MAX). Default 1024. */
  readonly width: number;
  /** Pixels, 480-2160 (ROWS_MIN, ROWS_MAX). Default 768. */
  readonly height: number;
  /** bhyve waits for a VNC client before the guest boots (`wait`). Default false. */
  readonly wait: boolean;
  /** The address bhyve's VNC server listens on. Default 127.0.0.1; an address off loopback needs the host policy's `framebuffer_listen`. */
  readonly listen: string;
  /** The TCP port; absent: the agent allocates one from 5900 up, the first time, and keeps it for the guest. */
  readonly port?: number;
}

/** A vCPU pinned to a host CPU (`-p vcpu:hostcpu`). */
export interface CpuPin {
  readonly vcpu: number;
  readonly hostCpu: number;
}

/** Host-wide settings. */
export interface HostSettings {
  /** Load vmm.ko from loader.conf (needed for pptdevs to take effect). Default true. */
  readonly vmmLoad: boolean;
  /** Set `hw.vmm.amdvi.enable`. Default `auto`. */
  readonly amdviEnable: AmdviSetting;
  /** Refuse passthrough guests when no usable IOMMU is found. Default true. */
  readonly requireIommu: boolean;
  /** Refuse guests when the CPU lacks EPT / NPT. Default true. */
  readonly requireNestedPaging: boolean;
}

/** A PCI function reserved for passthrough (bound to ppt). */
export interface PptReservation {
  readonly device: PciAddress;
  /** Refuse to bind when the hardware at `device` has another vendor id. */
  readonly vendorId?: number;
  /** Refuse to bind when the hardware at `device` has another device id. */
  readonly deviceId?: number;
  /** Default `boot`. */
  readonly bind: BindMode;
}

/** What happens to a managed disk when its guest is deleted. */
export const ON_DELETE = ["keep", "destroy"] as const;
/** One of {@link ON_DELETE}. */
export type OnDelete = (typeof ON_DELETE)[number];

/**
 * A disk the agent makes before the guest's first start and owns from then on: a ZFS volume
 * (created sparse or reserved, or cloned from a snapshot) or a sparse image file. The agent marks
 * a volume it made with the user property {@link DISK_OWNER_PROPERTY} naming the guest, and
 * records a file it made (path, device, inode) in its state; what carries no such mark it never
 * resizes or destroys.
 */
export interface ManagedDisk {
  readonly kind: "zvol" | "file";
  /** The volume's dataset (pool/path), for a zvol. */
  readonly dataset?: string;
  /** Bytes. Absent only for a clone without a size (it keeps the snapshot's). Grow only. */
  readonly size?: number;
  /** A volume without a reservation (`zfs create -s`). Default true; a file is always sparse. */
  readonly sparse: boolean;
  /** The volume's block size in bytes (fixed at creation); absent: the pool's default. */
  readonly volblocksize?: number;
  /** The snapshot (pool/path@name) a volume is cloned from. */
  readonly clone?: string;
  /** Default keep: deleting the guest leaves the data. */
  readonly onDelete: OnDelete;
}

/** The ZFS user property on a volume the agent made: the guest's name. */
export const DISK_OWNER_PROPERTY = "bhyve-agent:guest";

/** A guest disk. */
export interface Disk {
  /** What bhyve opens: `/dev/zvol/DATASET` for a zvol, the file for a file, or a path given as it is (not managed). */
  readonly path: string;
  readonly type: DiskType;
  /** Guest PCI slot; allocated when absent. */
  readonly slot?: number;
  /** PCI function within `slot` (0-7); absent: 0. A slot with a device at another function needs one at function 0. */
  readonly function?: number;
  /** UEFI boot order (`bootindex=N`, lowest first; FreeBSD 14.0 and later). */
  readonly bootindex?: number;
  /** Made and owned by the agent; absent: the disk exists on its own (`path`). */
  readonly managed?: ManagedDisk;
}

/**
 * A NoCloud seed for cloud-init: the agent writes `user-data`, `meta-data` (with the instance id
 * and the guest's name as its host name) and `network-config` into an ISO 9660 image labelled
 * `cidata` in the guest's directory and attaches it as a CD.
 */
export interface CloudInit {
  readonly userData: string;
  /** YAML mapping; merged over the agent's (local-hostname), never over instance-id. */
  readonly metaData?: string;
  readonly networkConfig?: string;
}

/**
 * A virtual switch: an if_bridge(4) the agent creates and owns, with an optional uplink (a host
 * NIC, or a vlan(4) interface on it when `vlan` is set) as a member.
 */
export interface Switch {
  /** Follows the guest-name rules. */
  readonly name: string;
  /** The host interface the switch reaches the network through; none: a host-only switch. */
  readonly uplink?: string;
  /** 802.1Q tag (1-4094) on the uplink: the switch carries that VLAN only. */
  readonly vlan?: number;
  /** MTU of the bridge (and the guests' taps on it). */
  readonly mtu?: number;
}

/**
 * A guest NIC: on a switch (the agent allocates, creates and attaches its tap) or on a tap
 * interface the operator manages (exactly one of the two).
 */
export interface Nic {
  /** The tap bhyve opens: given for an unmanaged NIC; for a switch NIC, the one the agent allocated (absent until then). */
  readonly tap?: string;
  /** The switch the NIC is on (managed). */
  readonly switch?: string;
  readonly model: NicModel;
  /** Fixed MAC; bhyve derives one from the VM name and slot when absent. */
  readonly mac?: string;
  /** Guest PCI slot; allocated when absent. */
  readonly slot?: number;
  /** PCI function within `slot` (0-7); absent: 0 (vm-bhyve puts a guest's NICs at 15:0, 15:1, ...). */
  readonly function?: number;
}

/** A host PCI function handed to the guest. */
export interface Passthru {
  readonly device: PciAddress;
  /** Guest PCI slot (1-30). */
  readonly slot: number;
  /** Guest PCI function (0-7); defaults to the host function. */
  readonly function: number;
  /** Option ROM file exposed as the device's expansion ROM (e.g. a GPU VBIOS dump). */
  readonly rom?: string;
  /** UEFI boot order (`bootindex=N`), for a passed-through boot device (an NVMe drive, a storage controller). */
  readonly bootindex?: number;
}

/** One bhyve guest. */
export interface Guest {
  readonly name: string;
  readonly cpus: number;
  /** Bytes. */
  readonly memory: number;
  /** UEFI firmware path; absent means boot with bhyveload. */
  readonly bootrom?: string;
  /**
   * Keep the guest's UEFI variables (boot entries) in a copy of the firmware's variables template
   * (`-l bootrom,CODE,VARS`), made at the first start and kept for the guest's life. Default: on
   * for a UEFI guest; never without a bootrom.
   */
  readonly uefiVars: boolean;
  /**
   * A serial console on com1 (`-l com1,/dev/nmdm-NAME.1A`): the guest's monitor holds the nmdm B
   * side, logs what the guest prints and lets an operator attach. Default true.
   */
  readonly console: boolean;
  /** Wire guest memory (`-S`). Forced on by passthrough; default: on exactly when there is passthrough. */
  readonly wired: boolean;
  readonly disks: readonly Disk[];
  readonly nics: readonly Nic[];
  readonly passthru: readonly Passthru[];
  /** Default `running`. */
  readonly state: GuestState;
  /** Default `on-reboot`. */
  readonly restart: RestartPolicy;
  /** Lower starts first; ties start in name order. Default 0. */
  readonly startOrder: number;
  /** RTC in UTC (`-u`) or local time. Default utc. */
  readonly rtc: RtcMode;
  /** `-w`: ignore guest accesses to MSRs bhyve does not emulate (GPU drivers probe some). Default false. */
  readonly ignoreUnknownMsrs: boolean;
  /** The slot-0 host bridge. Default standard. */
  readonly hostbridge: Hostbridge;
  /** `-P`: a vCPU that spins on PAUSE exits to the host (vm-bhyve leaves it out for UEFI guests). Default true. */
  readonly exitOnPause: boolean;
  /** CPU topology (`-c cpus=N,sockets=S,cores=C,threads=T`); when any is given, their product is `cpus` (absent ones count 1). */
  readonly sockets?: number;
  readonly cores?: number;
  readonly threads?: number;
  /** vCPUs pinned to host CPUs (`-p`), each vCPU at most once. */
  readonly cpuPinning: readonly CpuPin[];
  /**
   * SMBIOS system UUID (`-U`). Given in the document, or absent: the agent generates one the first
   * time it configures the guest and keeps it for the guest's life.
   */
  readonly uuid?: string;
  /** A graphical console (UEFI guests only); absent: none. */
  readonly framebuffer?: Framebuffer;
  /** First-boot configuration (a NoCloud seed attached as a CD); absent: none. */
  readonly cloudInit?: CloudInit;
  /**
   * Take over a VM of this name that the agent did not create (started by vm-bhyve or by hand) when
   * it runs exactly what this guest renders to, without restarting it: the one deliberate exception
   * to the ownership rule. A VM that runs anything else is refused (E_ADOPT_MISMATCH) and left
   * alone. No effect on a guest that is already the agent's. Default false.
   */
  readonly adopt: boolean;
}

/**
 * The document's defaults, by document key: what an absent key means. Declared once, here; the
 * decoder applies them and the provider schema declares them on its attributes (plans show them).
 * A guest's `wired` and a passthrough's `function` depend on other fields and are the decoder's.
 */
export const DEFAULTS = {
  host: { vmm_load: true, amdvi_enable: "auto", require_iommu: true, require_nested_paging: true },
  ppt: { bind: "boot" },
  guest: { state: "running", restart: "on-reboot", start_order: 0, rtc: "utc", ignore_unknown_msrs: false, hostbridge: "standard", console: true, adopt: false, exit_on_pause: true },
  disk: { type: "virtio-blk", sparse: true, on_delete: "keep" },
  nic: { model: "virtio-net" },
  framebuffer: { width: 1024, height: 768, wait: false, listen: "127.0.0.1" },
} as const satisfies Record<string, Record<string, unknown>>;

/** One host's desired state, decoded and with defaults applied. */
export interface DesiredState {
  readonly host: HostSettings;
  readonly ppt: readonly PptReservation[];
  readonly switches: readonly Switch[];
  readonly guests: readonly Guest[];
}

/** What the agent knows about the host, for the checks that depend on it. All optional. */
export interface HostContext {
  readonly cpuVendor?: "intel" | "amd" | "other";
  /** `vm.max_user_wired` in bytes. */
  readonly maxUserWired?: number;
  /** PCI inventory from pciconf. */
  readonly pci?: readonly HostPciFunction[];
}

/** The facts about one host PCI function that validation needs. */
export interface HostPciFunction {
  readonly address: PciAddress;
  readonly vendorId: number;
  readonly deviceId: number;
  /** PCI header type without the multi-function bit: 0 endpoint, 1 PCI bridge, 2 CardBus bridge. */
  readonly headerType: number;
}
