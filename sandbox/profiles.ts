/**
 * Machine profiles for sandbox hosts: the CPU, firmware tables, PCI inventory and memory of a
 * kind of FreeBSD host. Values follow freebsd-bhyve.md: dmesg feature lines as identcpu.c prints
 * them, `hw.vmm.*` as vmm.ko registers them, pciconf ids of real devices.
 */

/** One PCI function of a profile. */
export interface ProfilePciFunction {
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly subvendorId: number;
  readonly subdeviceId: number;
  readonly classCode: number;
  readonly revision: number;
  /** Header type byte: bit 7 = multi-function, low bits 0 endpoint / 1 PCI bridge. */
  readonly header: number;
  /** The driver that claims the function at boot, or null when none does. */
  readonly hostDriver: string | null;
  /** The host driver lives in vmm.ko (the AMD-Vi PCI function), so it attaches only with vmm loaded. */
  readonly driverNeedsVmm?: boolean;
  readonly vendorName: string;
  readonly deviceName: string;
  readonly className: string;
  readonly subclassName?: string;
}

/** A kind of host. */
export interface Profile {
  readonly name: string;
  readonly summary: string;
  /** `kern.osrelease`, e.g. `14.3-RELEASE`. */
  readonly osrelease: string;
  /** The release line, which decides how bhyve and friends behave where releases differ (13.x, 14.x, 15). */
  readonly release: { readonly major: number; readonly minor: number };
  /** Pre-13 pciconf prints `card=`/`chip=` instead of vendor=/device=/… */
  readonly oldPciconf: boolean;
  readonly cpu: {
    readonly vendor: "intel" | "amd";
    readonly origin: "GenuineIntel" | "AuthenticAMD";
    readonly model: string;
    readonly mhz: string;
    readonly ncpu: number;
    /** The `VT-x:` or `SVM:` line after the label, as dmesg.boot prints it. */
    readonly virtLine: string;
    /** vmx_init/svm_init accept the CPU: vmm.ko loads. */
    readonly vmmLoads: boolean;
    /** Why vmm.ko refuses to load, as the kernel prints it. */
    readonly vmmLoadError?: string;
    /**
     * FEATURE_CONTROL has VMX (or VM_CR has SVM) off: identcpu prints `(disabled in BIOS) ` after
     * the label. vmm still loads unless the firmware also locked the register (`vmmLoads`).
     */
    readonly disabledInBios?: boolean;
    readonly unrestrictedGuest: boolean;
    /** CPUID 0x8000000A EDX as `hw.vmm.svm.features` reports it on AMD. */
    readonly svmFeatures?: number;
    readonly svmAsids?: number;
  };
  readonly memoryBytes: number;
  /** ACPI tables `acpidump -t` lists, in order. */
  readonly acpiTables: readonly string[];
  readonly acpiOem: { readonly oemId: string; readonly tableId: string; readonly creatorId: string };
  /** Number of AMD-Vi units (IVHD entries) when the profile has an IVRS table. */
  readonly amdviUnits: number;
  readonly pci: readonly ProfilePciFunction[];
  /** What the host itself runs on: the NIC of its management address and the disk of its root file system. */
  readonly host: {
    /** Interface that carries the host's own address (a PCI NIC's driver and unit, e.g. em0). */
    readonly mgmtIf: string;
    readonly rootFs: "zfs" | "ufs";
    /** Partition of the root file system (zfs: the pool's vdev), e.g. ada0p4. ada sits on an ahci channel, nda on an nvme controller. */
    readonly rootPartition: string;
    /** The GEOM label the root is mounted or pooled by (gpt/rootfs, gptid/…), when not the partition itself. */
    readonly rootLabel?: string;
    /** Active swap devices as swapctl -l lists them; a GEOM label names its partition. */
    readonly swap: ReadonlyArray<{ readonly device: string; readonly bytes: number; readonly partition?: string }>;
    /** B/S/F of the USB host controller a daN root disk (a USB stick, umass0 on its root hub) hangs on. */
    readonly usbController?: string;
    /** The management network the host is created with (as `sandbox network` would set it): NICs in lagg0, a vlan tag over it. */
    readonly net?: { readonly lagg: readonly string[]; readonly vlan?: number };
  };
  /** The installed loader.conf sets `boot_verbose="YES"`: dmesg.boot has identcpu's multi-line VT-x/SVM blocks. */
  readonly bootVerbose?: boolean;
}

const GiB = 2 ** 30;

function fn(
  bsf: string,
  ids: [number, number, number, number],
  classCode: number,
  header: number,
  hostDriver: string | null,
  names: [string, string, string, string?],
  extra: Partial<ProfilePciFunction> = {},
): ProfilePciFunction {
  const [bus, slot, func] = bsf.split("/").map(Number) as [number, number, number];
  return {
    bus, slot, function: func,
    vendorId: ids[0], deviceId: ids[1], subvendorId: ids[2], subdeviceId: ids[3],
    classCode, revision: extra.revision ?? 0, header, hostDriver,
    vendorName: names[0], deviceName: names[1], className: names[2],
    ...(names[3] ? { subclassName: names[3] } : {}),
    ...extra,
  };
}

const INTEL = "Intel Corporation";
const NVIDIA = "NVIDIA Corporation";

/** Chipset functions most Intel servers show: host bridge, a root port, LPC and SATA. */
function intelPlatform(rootPortDevice: number): ProfilePciFunction[] {
  return [
    fn("0/0/0", [0x8086, 0x2020, 0x15d9, 0x095d], 0x060000, 0x00, "hostb", [INTEL, "Sky Lake-E DMI3 Registers", "bridge", "HOST-PCI"], { revision: 0x04 }),
    fn("0/1/0", [0x8086, rootPortDevice, 0x0000, 0x0000], 0x060400, 0x01, "pcib", [INTEL, "Sky Lake-E PCI Express Root Port A", "bridge", "PCI-PCI"], { revision: 0x04 }),
    fn("0/31/0", [0x8086, 0xa1cb, 0x15d9, 0x095d], 0x060100, 0x80, "isab", [INTEL, "C620 Series Chipset Family LPC/eSPI Controller", "bridge", "PCI-ISA"], { revision: 0x09 }),
    fn("0/31/2", [0x8086, 0xa1a1, 0x15d9, 0x095d], 0x058000, 0x00, null, [INTEL, "C620 Series Chipset Family Power Management Controller", "memory"], { revision: 0x09 }),
    fn("0/17/5", [0x8086, 0xa1d2, 0x15d9, 0x095d], 0x010601, 0x00, "ahci", [INTEL, "C620 Series Chipset Family SSATA Controller [AHCI mode]", "mass storage", "SATA"], { revision: 0x09 }),
    fn("0/31/6", [0x8086, 0x15b7, 0x15d9, 0x095d], 0x020000, 0x00, "em", [INTEL, "Ethernet Connection (2) I219-LM", "network", "ethernet"]),
  ];
}

/** A GPU with its HDMI audio function, a two-port I350 and an NVMe drive, at the buses the examples use. */
function passthroughCards(gpuBus: number, nicBus: number, nvmeBus: number): ProfilePciFunction[] {
  return [
    fn(`${gpuBus}/0/0`, [0x10de, 0x1e07, 0x10de, 0x12fa], 0x030000, 0x80, "vgapci", [NVIDIA, "TU102 [GeForce RTX 2080 Ti Rev. A]", "display", "VGA"], { revision: 0xa1 }),
    fn(`${gpuBus}/0/1`, [0x10de, 0x10f7, 0x10de, 0x12fa], 0x040300, 0x00, "hdac", [NVIDIA, "TU102 High Definition Audio Controller", "multimedia", "HDA"], { revision: 0xa1 }),
    fn(`${nicBus}/0/0`, [0x8086, 0x1521, 0x15d9, 0x1521], 0x020000, 0x80, "igb", [INTEL, "I350 Gigabit Network Connection", "network", "ethernet"], { revision: 0x01 }),
    fn(`${nicBus}/0/1`, [0x8086, 0x1521, 0x15d9, 0x1521], 0x020000, 0x00, "igb", [INTEL, "I350 Gigabit Network Connection", "network", "ethernet"], { revision: 0x01 }),
    fn(`${nvmeBus}/0/0`, [0x144d, 0xa808, 0x144d, 0xa801], 0x010802, 0x00, "nvme", ["Samsung Electronics Co Ltd", "NVMe SSD Controller SM981/PM981/PM983", "mass storage", "NVM"]),
  ];
}

const INTEL_VTX_FULL = "PAT,HLT,MTF,PAUSE,EPT,UG,VPID,VID,PostIntr";

/** The Intel VT-d host most tests use; the profiles below that vary one thing start from it. */
const INTEL_VTD: Profile = {
  name: "intel-vtd",
  summary: "FreeBSD 14.3, Xeon with VT-x (EPT, UG) and VT-d (DMAR); GPU+audio at 3/0/0-1, two-port I350 at 4/0/0-1, NVMe at 5/0/0; 64 GiB",
  osrelease: "14.3-RELEASE",
  release: { major: 14, minor: 3 },
  oldPciconf: false,
  cpu: {
    vendor: "intel", origin: "GenuineIntel", model: "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", mhz: "2200.00", ncpu: 24,
    virtLine: INTEL_VTX_FULL, vmmLoads: true, unrestrictedGuest: true,
  },
  memoryBytes: 64 * GiB,
  acpiTables: ["XSDT", "FACP", "APIC", "MCFG", "HPET", "DMAR"],
  acpiOem: { oemId: "SUPERM", tableId: "SMCI--MB", creatorId: "INTL" },
  amdviUnits: 0,
  pci: [...intelPlatform(0x2030), ...passthroughCards(3, 4, 5)],
  host: { mgmtIf: "em0", rootFs: "zfs", rootPartition: "ada0p4", swap: [{ device: "/dev/ada0p3", bytes: 4 * GiB }] },
};

/** Every profile, by name. */
export const PROFILES: readonly Profile[] = [
  INTEL_VTD,
  {
    name: "amd-vi",
    summary: "FreeBSD 14.3, EPYC with SVM (NP, NRIP) and AMD-Vi (IVRS, 4 units); hw.vmm.amdvi.enable is 0 until loader.conf sets it; GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 64 GiB",
    osrelease: "14.3-RELEASE",
    release: { major: 14, minor: 3 },
    oldPciconf: false,
    cpu: {
      vendor: "amd", origin: "AuthenticAMD", model: "AMD EPYC 7502P 32-Core Processor               ", mhz: "2495.45", ncpu: 64,
      virtLine: "NP,NRIP,VClean,AFlush,DAssist,NAsids=32768", vmmLoads: true, unrestrictedGuest: true,
      svmFeatures: 0x0001bcff, svmAsids: 32768,
    },
    memoryBytes: 64 * GiB,
    acpiTables: ["XSDT", "FACP", "APIC", "MCFG", "HPET", "IVRS"],
    acpiOem: { oemId: "AMD", tableId: "ETHANOLX", creatorId: "AMD" },
    amdviUnits: 4,
    pci: [
      fn("0/0/0", [0x1022, 0x1480, 0x1022, 0x1480], 0x060000, 0x00, "hostb", ["Advanced Micro Devices, Inc. [AMD]", "Starship/Matisse Root Complex", "bridge", "HOST-PCI"]),
      fn("0/0/2", [0x1022, 0x1481, 0x1022, 0x1481], 0x080600, 0x00, "amdiommu", ["Advanced Micro Devices, Inc. [AMD]", "Starship/Matisse IOMMU", "base peripheral", "IOMMU"], { driverNeedsVmm: true }),
      fn("0/1/1", [0x1022, 0x1483, 0x0000, 0x0000], 0x060400, 0x01, "pcib", ["Advanced Micro Devices, Inc. [AMD]", "Starship/Matisse GPP Bridge", "bridge", "PCI-PCI"]),
      fn("0/20/3", [0x1022, 0x790e, 0x1022, 0x790e], 0x060100, 0x80, "isab", ["Advanced Micro Devices, Inc. [AMD]", "FCH LPC Bridge", "bridge", "PCI-ISA"], { revision: 0x51 }),
      ...passthroughCards(3, 4, 5),
      fn("6/0/0", [0x10ec, 0x8168, 0x1458, 0xe000], 0x020000, 0x00, "re", ["Realtek Semiconductor Co., Ltd.", "RTL8111/8168/8211/8411 PCI Express Gigabit Ethernet Controller", "network", "ethernet"], { revision: 0x16 }),
      fn("7/0/0", [0x1022, 0x7901, 0x1022, 0x7901], 0x010601, 0x00, "ahci", ["Advanced Micro Devices, Inc. [AMD]", "FCH SATA Controller [AHCI mode]", "mass storage", "SATA"], { revision: 0x51 }),
    ],
    host: { mgmtIf: "re0", rootFs: "zfs", rootPartition: "ada0p4", rootLabel: "gptid/4fbd0a5e-8ad6-11ee-9f0e-a8a1590c3f12", swap: [{ device: "/dev/zvol/zroot/swap", bytes: 8 * GiB }] },
  },
  {
    name: "no-iommu",
    summary: "FreeBSD 14.3, Core i5 desktop with VT-x (EPT, UG) but no DMAR table (VT-d off in firmware); GPU at 1/0/0, Realtek NIC at 2/0/0; 16 GiB",
    osrelease: "14.3-RELEASE",
    release: { major: 14, minor: 3 },
    oldPciconf: false,
    cpu: {
      vendor: "intel", origin: "GenuineIntel", model: "Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz", mhz: "3000.00", ncpu: 6,
      virtLine: "PAT,HLT,MTF,PAUSE,EPT,UG,VPID", vmmLoads: true, unrestrictedGuest: true,
    },
    memoryBytes: 16 * GiB,
    acpiTables: ["XSDT", "FACP", "APIC", "MCFG", "HPET"],
    acpiOem: { oemId: "ALASKA", tableId: "A M I", creatorId: "AMI" },
    amdviUnits: 0,
    pci: [
      fn("0/0/0", [0x8086, 0x3ec2, 0x1462, 0x7b46], 0x060000, 0x00, "hostb", [INTEL, "8th Gen Core Processor Host Bridge/DRAM Registers", "bridge", "HOST-PCI"], { revision: 0x07 }),
      fn("0/1/0", [0x8086, 0x1901, 0x0000, 0x0000], 0x060400, 0x01, "pcib", [INTEL, "6th-10th Gen Core Processor PCIe Controller (x16)", "bridge", "PCI-PCI"], { revision: 0x07 }),
      fn("1/0/0", [0x10de, 0x1c82, 0x1043, 0x85d1], 0x030000, 0x80, "vgapci", [NVIDIA, "GP107 [GeForce GTX 1050 Ti]", "display", "VGA"], { revision: 0xa1 }),
      fn("1/0/1", [0x10de, 0x0fb9, 0x1043, 0x85d1], 0x040300, 0x00, "hdac", [NVIDIA, "GP107GL High Definition Audio Controller", "multimedia", "HDA"], { revision: 0xa1 }),
      fn("2/0/0", [0x10ec, 0x8168, 0x1462, 0x7b46], 0x020000, 0x00, "re", ["Realtek Semiconductor Co., Ltd.", "RTL8111/8168/8211/8411 PCI Express Gigabit Ethernet Controller", "network", "ethernet"], { revision: 0x15 }),
      fn("0/23/0", [0x8086, 0xa352, 0x1462, 0x7b46], 0x010601, 0x00, "ahci", [INTEL, "Cannon Lake PCH SATA AHCI Controller", "mass storage", "SATA"], { revision: 0x10 }),
    ],
    host: { mgmtIf: "re0", rootFs: "zfs", rootPartition: "ada0p4", swap: [{ device: "/dev/ada0p3.eli", bytes: 2 * GiB }] },
  },
  {
    name: "no-ept",
    summary: "FreeBSD 14.3, Core 2 Quad with VT-x but no EPT: vmm.ko refuses to load; NIC at 2/0/0; 8 GiB",
    osrelease: "14.3-RELEASE",
    release: { major: 14, minor: 3 },
    oldPciconf: false,
    cpu: {
      vendor: "intel", origin: "GenuineIntel", model: "Intel(R) Core(TM)2 Quad CPU    Q9550  @ 2.83GHz", mhz: "2833.33", ncpu: 4,
      virtLine: "HLT,PAUSE", vmmLoads: false, unrestrictedGuest: false,
      vmmLoadError: "vmx_init: processor does not support desired secondary processor-based controls",
    },
    memoryBytes: 8 * GiB,
    acpiTables: ["RSDT", "FACP", "APIC", "HPET", "MCFG"],
    acpiOem: { oemId: "INTEL", tableId: "DG45ID", creatorId: "MSFT" },
    amdviUnits: 0,
    pci: [
      fn("0/0/0", [0x8086, 0x2e20, 0x8086, 0x5044], 0x060000, 0x00, "hostb", [INTEL, "4 Series Chipset DRAM Controller", "bridge", "HOST-PCI"], { revision: 0x03 }),
      fn("2/0/0", [0x8086, 0x10d3, 0x8086, 0xa01f], 0x020000, 0x00, "em", [INTEL, "82574L Gigabit Network Connection", "network", "ethernet"]),
      fn("0/31/2", [0x8086, 0x3a22, 0x8086, 0x5044], 0x010601, 0x00, "ahci", [INTEL, "82801JI (ICH10 Family) SATA AHCI Controller", "mass storage", "SATA"]),
    ],
    host: { mgmtIf: "em0", rootFs: "ufs", rootPartition: "ada0p2", swap: [{ device: "/dev/ada0p3", bytes: 2 * GiB }] },
  },
  {
    name: "freebsd12",
    summary: "FreeBSD 12.4 (pre-13 pciconf format), Xeon with VT-x (EPT, UG) and VT-d; GPU+audio at 3/0/0-1, I350 at 4/0/0-1; 32 GiB",
    osrelease: "12.4-RELEASE",
    release: { major: 12, minor: 4 },
    oldPciconf: true,
    cpu: {
      vendor: "intel", origin: "GenuineIntel", model: "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz", mhz: "2593.80", ncpu: 16,
      virtLine: INTEL_VTX_FULL, vmmLoads: true, unrestrictedGuest: true,
    },
    memoryBytes: 32 * GiB,
    acpiTables: ["XSDT", "FACP", "APIC", "MCFG", "DMAR"],
    acpiOem: { oemId: "HP", tableId: "ProLiant", creatorId: "HP" },
    amdviUnits: 0,
    pci: [...intelPlatform(0x0e02), ...passthroughCards(3, 4, 5).slice(0, 4)],
    host: { mgmtIf: "em0", rootFs: "ufs", rootPartition: "ada0p2", rootLabel: "gpt/rootfs", swap: [{ device: "/dev/gpt/swap0", bytes: 4 * GiB, partition: "ada0p3" }] },
  },
  {
    name: "freebsd13",
    summary: "FreeBSD 13.5, Xeon with VT-x (EPT, UG) and VT-d; GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 32 GiB (13.x bhyve: B/S/F passthru only, exit 1 when its VM is destroyed)",
    osrelease: "13.5-RELEASE",
    release: { major: 13, minor: 5 },
    oldPciconf: false,
    cpu: {
      vendor: "intel", origin: "GenuineIntel", model: "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz", mhz: "2593.80", ncpu: 16,
      virtLine: INTEL_VTX_FULL, vmmLoads: true, unrestrictedGuest: true,
    },
    memoryBytes: 32 * GiB,
    acpiTables: ["XSDT", "FACP", "APIC", "MCFG", "DMAR"],
    acpiOem: { oemId: "HP", tableId: "ProLiant", creatorId: "HP" },
    amdviUnits: 0,
    pci: [...intelPlatform(0x0e02), ...passthroughCards(3, 4, 5)],
    host: { mgmtIf: "em0", rootFs: "zfs", rootPartition: "ada0p4", swap: [{ device: "/dev/ada0p3", bytes: 4 * GiB }] },
  },
  {
    ...INTEL_VTD,
    name: "vmx-locked",
    summary: "FreeBSD 14.3, Xeon whose firmware turned VT-x off and locked it: dmesg.boot says (disabled in BIOS), vmm.ko refuses to load; VT-d, GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 64 GiB",
    cpu: { ...INTEL_VTD.cpu, disabledInBios: true, vmmLoads: false, vmmLoadError: "vmx_init: VMX operation disabled by BIOS" },
  },
  {
    ...INTEL_VTD,
    name: "freebsd15",
    summary: "FreeBSD 15.0, Xeon with VT-x (EPT, UG) and VT-d; GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 64 GiB (15 bhyve: no VM without a bootrom or bhyveload, exit 4 when its VM is destroyed)",
    osrelease: "15.0-RELEASE",
    release: { major: 15, minor: 0 },
  },
  {
    ...INTEL_VTD,
    name: "usb-root",
    summary: "FreeBSD 14.3, Xeon with VT-x (EPT, UG) and VT-d; root pool on a USB stick (da0 on umass0, behind the xHCI controller at 0/20/0); GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 32 GiB",
    memoryBytes: 32 * GiB,
    pci: [
      ...intelPlatform(0x2030),
      fn("0/20/0", [0x8086, 0xa1af, 0x15d9, 0x095d], 0x0c0330, 0x00, "xhci", [INTEL, "C620 Series Chipset Family USB 3.0 xHCI Controller", "serial bus", "USB"], { revision: 0x09 }),
      ...passthroughCards(3, 4, 5),
    ],
    host: { mgmtIf: "em0", rootFs: "zfs", rootPartition: "da0p4", usbController: "0/20/0", swap: [{ device: "/dev/zvol/zroot/swap", bytes: 4 * GiB }] },
  },
  {
    ...INTEL_VTD,
    name: "vlan-lagg",
    summary: "FreeBSD 14.3, Xeon with VT-x (EPT, UG) and VT-d; management address on vlan100 over lagg0 (I350 ports igb0 and igb1 at 4/0/0-1); GPU+audio at 3/0/0-1, I219 at 0/31/6, NVMe at 5/0/0; 64 GiB",
    host: { mgmtIf: "igb0", rootFs: "zfs", rootPartition: "ada0p4", net: { lagg: ["igb0", "igb1"], vlan: 100 }, swap: [{ device: "/dev/ada0p3", bytes: 4 * GiB }] },
  },
  {
    ...INTEL_VTD,
    name: "verbose-boot",
    summary: "FreeBSD 14.3 booted with boot_verbose (loader.conf): dmesg.boot has identcpu's multi-line VT-x control registers; Xeon with VT-x (EPT, UG) and VT-d; GPU+audio at 3/0/0-1, I350 at 4/0/0-1, NVMe at 5/0/0; 64 GiB",
    bootVerbose: true,
  },
];

/** Finds a profile by name. */
export function findProfile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}
