/**
 * What the simulated tools print, in the formats freebsd-bhyve.md records: pciconf `-l`/`-lv`
 * (13+ and pre-13), `-r` words, sysctl `name: value`, kldstat's table, acpidump's table headers,
 * and a dmesg.boot with identcpu's feature lines.
 */
import { MEMBER_IFADDRS, NET_SYSCTL_DEFAULTS, netSysctl } from "./net-ifaces.js";
import { ahciChannels, USB_STICK, usbBuses, usbStick } from "./host-view.js";
import { amdviEnabled, bootVerbose, devclassOf, selector, wiredPages } from "./kernel.js";
import { PAGE_SIZE, type MachinePciFunction, type MachineState } from "./machine.js";
import type { Profile } from "./profiles.js";

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/**
 * The names pciconf shows for `list` (every function, or those a selector picked): the devclass
 * and unit (a detached function with a forced driver keeps that driver's name), or `none` with a
 * count that list_devs() keeps per listing, so it starts again at 0 for each invocation.
 */
export function pciconfNames(m: MachineState, list: readonly MachinePciFunction[] = sortedPci(m)): Map<MachinePciFunction, string> {
  const names = new Map<MachinePciFunction, string>();
  let none = 0;
  for (const f of list) {
    const cls = devclassOf(f);
    names.set(f, cls === null ? `none${none++}` : `${cls}${f.unit}`);
  }
  return names;
}

/** Functions in the order the PCI bus enumerates them. */
export function sortedPci(m: MachineState): MachinePciFunction[] {
  return [...m.pci].sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.function - b.function);
}

/** One `pciconf -l` line (and with `verbose`, the `-v` lines after it). */
export function pciconfLine(f: MachinePciFunction, name: string, oldFormat: boolean, verbose: boolean): string {
  const sel = `${name}@pci0:${f.bus}:${f.slot}:${f.function}:`;
  const fields = oldFormat
    ? `class=0x${hex(f.classCode, 6)} card=0x${hex(f.subdeviceId, 4)}${hex(f.subvendorId, 4)} chip=0x${hex(f.deviceId, 4)}${hex(f.vendorId, 4)} rev=0x${hex(f.revision, 2)} hdr=0x${hex(f.header, 2)}`
    : `class=0x${hex(f.classCode, 6)} rev=0x${hex(f.revision, 2)} hdr=0x${hex(f.header, 2)} vendor=0x${hex(f.vendorId, 4)} device=0x${hex(f.deviceId, 4)} subvendor=0x${hex(f.subvendorId, 4)} subdevice=0x${hex(f.subdeviceId, 4)}`;
  let out = `${sel}\t${fields}\n`;
  if (verbose) {
    out += `    vendor     = '${f.vendorName}'\n    device     = '${f.deviceName}'\n    class      = ${f.className}\n`;
    if (f.subclassName) out += `    subclass   = ${f.subclassName}\n`;
  }
  return out;
}

/** A dword of the function's configuration space (the registers passthrough code reads). */
export function configDword(f: MachinePciFunction, offset: number): number {
  switch (offset & ~3) {
    case 0x00: return ((f.deviceId << 16) | f.vendorId) >>> 0;
    case 0x04: return 0x00100406;
    case 0x08: return ((f.classCode << 8) | f.revision) >>> 0;
    case 0x0c: return (f.header << 16) >>> 0;
    case 0x2c: return ((f.subdeviceId << 16) | f.subvendorId) >>> 0;
    case 0x34: return 0x40;
    default: return 0;
  }
}

/** A sysctl node: its value as sysctl prints it, and whether it can be set at run time. */
export interface SysctlNode {
  readonly value: string;
  readonly access: "ro" | "rw" | "tunable";
}

/** Every sysctl the sandbox answers, in sysctl's order (sorted by name). */
export function sysctlTree(m: MachineState, p: Profile): Map<string, SysctlNode> {
  const t = new Map<string, SysctlNode>();
  const ro = (name: string, value: string | number): void => void t.set(name, { value: String(value), access: "ro" });
  ro("kern.ostype", "FreeBSD");
  ro("kern.osrelease", p.osrelease);
  ro("kern.boottime", `{ sec = ${Math.floor(Date.parse(m.bootedAt) / 1000)}, usec = 0 } ${new Date(m.bootedAt).toUTCString()}`);
  ro("hw.machine", "amd64");
  ro("hw.model", p.cpu.model.trim());
  ro("hw.ncpu", p.cpu.ncpu);
  ro("hw.pagesize", PAGE_SIZE);
  ro("hw.physmem", p.memoryBytes - 512 * 2 ** 20);
  ro("hw.realmem", p.memoryBytes);
  t.set("vm.max_user_wired", { value: String(m.maxUserWiredPages), access: "rw" });
  for (const name of Object.keys(NET_SYSCTL_DEFAULTS)) t.set(name, { value: netSysctl(m, name)!, access: "rw" });
  if (p.release.major >= 15) t.set(MEMBER_IFADDRS, { value: netSysctl(m, MEMBER_IFADDRS)!, access: "rw" });
  ro("vm.stats.vm.v_user_wire_count", wiredPages(m));
  for (const f of m.pci) {
    const cls = devclassOf(f);
    if (cls === null) continue;
    const node = `dev.${cls}.${f.unit}`;
    ro(`${node}.%desc`, f.driver === null || f.driver === "ppt" ? "" : f.deviceName);
    ro(`${node}.%driver`, f.driver ?? "");
    ro(`${node}.%location`, `slot=${f.slot} function=${f.function} dbsf=${selector(f)}`);
    ro(`${node}.%pnpinfo`, `vendor=0x${hex(f.vendorId, 4)} device=0x${hex(f.deviceId, 4)} subvendor=0x${hex(f.subvendorId, 4)} subdevice=0x${hex(f.subdeviceId, 4)} class=0x${hex(f.classCode, 6)}`);
    ro(`${node}.%parent`, `pci${f.bus}`);
  }
  // AHCI channels are children of their controller, not PCI functions.
  for (const ch of ahciChannels(m)) {
    ro(`dev.ahcich.${ch.unit}.%desc`, "AHCI channel");
    ro(`dev.ahcich.${ch.unit}.%driver`, "ahcich");
    ro(`dev.ahcich.${ch.unit}.%location`, `channel=${ch.unit % 2}`);
    ro(`dev.ahcich.${ch.unit}.%parent`, `ahci${ch.controller}`);
  }
  // USB: usbusN is xhciN's child (xhci_pci.c device_add_child(self, "usbus")), the root hub uhubN
  // usbusN's, a device on a hub port the hub's, with uhub's child location; the root hub's location
  // is empty (as a public capture of a FreeBSD USB tree shows).
  for (const { unit, controller } of usbBuses(m)) {
    ro(`dev.usbus.${unit}.%desc`, "");
    ro(`dev.usbus.${unit}.%driver`, "usbus");
    ro(`dev.usbus.${unit}.%location`, "");
    ro(`dev.usbus.${unit}.%parent`, `${controller.driver}${controller.unit}`);
    ro(`dev.uhub.${unit}.%desc`, `${usbVendor(controller)} ${controller.driver!.toUpperCase()} root HUB, class 9/0, rev ${controller.driver === "xhci" ? "3.00" : "2.00"}/1.00, addr 1`);
    ro(`dev.uhub.${unit}.%driver`, "uhub");
    ro(`dev.uhub.${unit}.%location`, "");
    ro(`dev.uhub.${unit}.%parent`, `usbus${unit}`);
  }
  const stick = usbStick(m, p);
  if (stick) {
    const u = `dev.umass.${stick.umass}`;
    ro(`${u}.%desc`, `${USB_STICK.vendor} ${USB_STICK.product}, class 0/0, rev 2.00/${USB_STICK.bcdDevice}, addr 2`);
    ro(`${u}.%driver`, "umass");
    ro(`${u}.%location`, `bus=${stick.usbus} hubaddr=1 port=1 devaddr=2 interface=0 ugen=ugen${stick.usbus}.2`);
    ro(`${u}.%parent`, `uhub${stick.hub}`);
    ro(`${u}.%pnpinfo`, `vendor=0x${hex(USB_STICK.usbVendorId, 4)} product=0x${hex(USB_STICK.usbProductId, 4)} devclass=0x00 devsubclass=0x00 devproto=0x00 sernum="4C530001230517117425" release=0x0127 mode=host intclass=0x08 intsubclass=0x06 intprotocol=0x50`);
  }
  if (m.vmmLoaded) {
    const intel = p.cpu.vendor === "intel";
    const vtx = new Set(p.cpu.virtLine.split(","));
    const tunable = (name: string, value: string | number): void => void t.set(name, { value: String(value), access: "tunable" });
    tunable("hw.vmm.maxcpu", p.cpu.ncpu);
    tunable("hw.vmm.iommu.enable", m.kenv["hw.vmm.iommu.enable"] === "0" ? 0 : 1);
    ro("hw.vmm.iommu.initialized", m.iommuInitialized ? 1 : 0);
    ro("hw.vmm.ppt.devices", m.pci.filter((f) => f.driver === "ppt").length);
    ro("hw.vmm.vmx.initialized", intel ? 1 : 0);
    ro("hw.vmm.vmx.cap.halt_exit", intel && vtx.has("HLT") ? 1 : 0);
    ro("hw.vmm.vmx.cap.pause_exit", intel && vtx.has("PAUSE") ? 1 : 0);
    ro("hw.vmm.vmx.cap.monitor_trap", intel && vtx.has("MTF") ? 1 : 0);
    ro("hw.vmm.vmx.cap.unrestricted_guest", intel && p.cpu.unrestrictedGuest ? 1 : 0);
    ro("hw.vmm.vmx.cap.posted_interrupts", intel && vtx.has("PostIntr") ? 1 : 0);
    ro("hw.vmm.vmx.cap.virtual_interrupt_delivery", intel && vtx.has("VID") ? 1 : 0);
    // Registered on both vendors; on Intel it keeps its initial value (freebsd-bhyve.md §5).
    ro("hw.vmm.svm.features", intel ? 0xffffffff : (p.cpu.svmFeatures ?? 0));
    ro("hw.vmm.svm.num_asids", intel ? 0 : (p.cpu.svmAsids ?? 0));
    tunable("hw.vmm.amdvi.enable", amdviEnabled(m));
    ro("hw.vmm.amdvi.count", intel ? 0 : p.amdviUnits);
  }
  return new Map([...t].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `kldstat` table rows: id, name, size. */
export function kldstatRows(m: MachineState): Array<{ id: number; refs: number; address: string; size: number; name: string }> {
  const sizes: Record<string, number> = { kernel: 0x1f41500, "zfs.ko": 0x5e3a08, "cryptodev.ko": 0x7808, "vmm.ko": 0x3dee30 };
  let addr = 0xffffffff80200000n;
  return ["kernel", ...loadedModules(m)].map((name, i) => {
    const size = sizes[name] ?? 0x8000;
    const row = { id: i + 1, refs: name === "kernel" ? 23 : 1, address: `0x${addr.toString(16)}`, size, name };
    addr += BigInt(size + 0xfff) & ~0xfffn;
    return row;
  });
}

/** Files loaded besides the kernel: the `*_load="YES"` modules of the boot, then vmm.ko. */
export function loadedModules(m: MachineState): string[] {
  const mods = m.modules.map((name) => `${name}.ko`);
  if (m.vmmLoaded) mods.push("vmm.ko");
  return mods;
}

/** `acpidump -t` for the profile: the RSDP, then every table header as acpi_print_sdt() prints it. */
export function acpidumpText(p: Profile): string {
  const { oemId, tableId, creatorId } = p.acpiOem;
  let out = `/*\n  RSD PTR: OEM=${oemId}, ACPI_Rev=2.0x (2)\n\tXSDT=0x000000007a5b10a8, length=36, cksum=163\n */\n`;
  const lengths: Record<string, number> = { XSDT: 36 + 8 * p.acpiTables.length, RSDT: 36 + 4 * p.acpiTables.length, FACP: 276, APIC: 2262, MCFG: 60, HPET: 56, DMAR: 1014, IVRS: 464 };
  p.acpiTables.forEach((sig, i) => {
    out += `/*\n  ${sig}: Length=${lengths[sig] ?? 64}, Revision=${sig === "XSDT" || sig === "RSDT" ? 1 : 2}, Checksum=${(37 * (i + 1)) % 256},\n`;
    out += `\tOEMID=${oemId}, OEM Table ID=${tableId}, OEM Revision=0x1,\n\tCreator ID=${creatorId}, Creator Revision=0x1000013\n`;
    if (sig === "DMAR") out += "\tHost Address Width=46\n\tFlags={INTR_REMAP}\n\n\tType=DRHD\n\tLength=24\n\tFlags={INCLUDE_ALL}\n\tSegment=0\n\tAddress=0x00000000fbffc000\n";
    out += " */\n";
  });
  return out;
}

/** The vendor name a USB host controller driver gives its root hub: the PCI vendor's, or its id (xhci_pci.c, ehci_pci.c). */
function usbVendor(f: MachinePciFunction): string {
  const names: Record<number, string> = { 0x8086: "Intel", 0x1022: "AMD" };
  return names[f.vendorId] ?? `(0x${hex(f.vendorId, 4)})`;
}

/** A `%b` value as the kernel's printf prints it: `0xVALUE` and, when a named bit is set, `<NAME,...>`. */
function printB(value: number, names: ReadonlyArray<readonly [number, string]>): string {
  const set = names.filter(([bit]) => ((value >>> bit) & 1) === 1).map(([, n]) => n);
  return `0x${(value >>> 0).toString(16)}${set.length ? `<${set.join(",")}>` : ""}`;
}

const bits = (names: ReadonlyArray<readonly [number, string]>, wanted: Iterable<string>): number => {
  const w = new Set(wanted);
  return names.reduce((v, [bit, n]) => (w.has(n) ? (v | (1 << bit)) >>> 0 : v), 0);
};

// The %b bit names of identcpu.c's print_vmx_info() (0-based bits).
const VMX_BASIC: ReadonlyArray<readonly [number, string]> = [[16, "32PA"], [17, "SMM"], [22, "INS/OUTS"], [23, "TRUE"]];
const VMX_PIN: ReadonlyArray<readonly [number, string]> = [[0, "ExtINT"], [3, "NMI"], [5, "VNMI"], [6, "PreTmr"], [7, "PostIntr"]];
const VMX_PROC: ReadonlyArray<readonly [number, string]> = [
  [2, "INTWIN"], [3, "TSCOff"], [7, "HLT"], [9, "INVLPG"], [10, "MWAIT"], [11, "RDPMC"], [12, "RDTSC"], [15, "CR3-LD"], [16, "CR3-ST"],
  [19, "CR8-LD"], [20, "CR8-ST"], [21, "TPR"], [22, "NMIWIN"], [23, "MOV-DR"], [24, "IO"], [25, "IOmap"], [27, "MTF"], [28, "MSRmap"], [29, "MONITOR"], [30, "PAUSE"],
];
const VMX_PROC2: ReadonlyArray<readonly [number, string]> = [
  [0, "APIC"], [1, "EPT"], [2, "DT"], [3, "RDTSCP"], [4, "x2APIC"], [5, "VPID"], [6, "WBINVD"], [7, "UG"], [8, "APIC-reg"], [9, "VID"],
  [10, "PAUSE-loop"], [11, "RDRAND"], [12, "INVPCID"], [13, "VMFUNC"], [14, "VMCS"], [15, "EPT#VE"], [16, "XSAVES"],
];
const VMX_EXIT: ReadonlyArray<readonly [number, string]> = [[2, "DR"], [12, "PERF"], [15, "AckInt"], [18, "PAT-SV"], [19, "PAT-LD"], [20, "EFER-SV"], [21, "EFER-LD"], [22, "PTMR-SV"]];
const VMX_ENTRY: ReadonlyArray<readonly [number, string]> = [[2, "DR"], [13, "PERF"], [14, "PAT"], [15, "EFER"]];
const VMX_EPT: ReadonlyArray<readonly [number, string]> = [[0, "XO"], [6, "PW4"], [8, "UC"], [14, "WB"], [16, "2M"], [17, "1G"], [20, "INVEPT"], [21, "AD"], [25, "single"], [26, "all"]];
const VMX_VPID: ReadonlyArray<readonly [number, string]> = [[0, "INVVPID"], [8, "individual"], [9, "single"], [10, "all"], [11, "single-globals"]];
const PROCBASED_SECONDARY = 31;
// print_svm_info()'s %b names (bits 8, 9, 14 and 17-31 print as <bN>).
const SVM_FEATURES: ReadonlyArray<readonly [number, string]> = [
  [0, "NP"], [1, "LbrVirt"], [2, "SVML"], [3, "NRIPS"], [4, "TscRateMsr"], [5, "VmcbClean"], [6, "FlushByAsid"], [7, "DecodeAssist"], [8, "<b8>"], [9, "<b9>"],
  [10, "PauseFilter"], [11, "EncryptedMcodePatch"], [12, "PauseFilterThreshold"], [13, "AVIC"], [14, "<b14>"], [15, "V_VMSAVE_VMLOAD"], [16, "vGIF"],
  ...Array.from({ length: 15 }, (_, i) => [17 + i, `<b${17 + i}>`] as const),
];

/**
 * identcpu.c's `boot_verbose` CPU virtualisation block for the profile's one-line tokens: VT-x's
 * control registers (the settable bits each token stands for, plus the everyday ones every VT-x
 * CPU with them has), or SVM's feature word and `Revision=…, ASIDs=…` line. Before 15 the Exit and
 * Entry lines print the Basic Features word (print_vmx_info() passes `mask` there), as public
 * 13.x/14.x-era captures show; 15 prints the exit and entry controls themselves.
 */
function verboseVirtBlock(p: Profile): string[] {
  const t = new Set(p.cpu.virtLine.split(","));
  if (p.cpu.vendor === "amd") {
    const asids = p.cpu.svmAsids ?? 0;
    return [`  SVM: Features=${printB(p.cpu.svmFeatures ?? 0, SVM_FEATURES)}`, `Revision=1, ASIDs=${asids}`];
  }
  const basic = 0xda0400; // VMCS size 1024, write-back, SMM, INS/OUTS, TRUE controls
  const pin = bits(VMX_PIN, ["ExtINT", "NMI", "VNMI", "PreTmr", ...(t.has("PostIntr") ? ["PostIntr"] : [])]);
  const secondary = ["EPT", "UG", "VPID", "VID"].some((x) => t.has(x));
  const everyday = ["INTWIN", "TSCOff", "INVLPG", "MWAIT", "RDPMC", "RDTSC", "CR3-LD", "CR3-ST", "CR8-LD", "CR8-ST", "NMIWIN", "MOV-DR", "IO", "IOmap", "MSRmap", "MONITOR"];
  const proc = (bits(VMX_PROC, [...everyday, ...["HLT", "MTF", "PAUSE"].filter((x) => t.has(x)), ...(t.has("VID") ? ["TPR"] : [])]) | (secondary ? 2 ** PROCBASED_SECONDARY : 0)) >>> 0;
  const proc2 = bits(VMX_PROC2, [
    ...["EPT", "UG", "VPID"].filter((x) => t.has(x)),
    ...(t.has("VID") ? ["APIC", "x2APIC", "APIC-reg", "VID"] : []),
    "DT", "RDTSCP", "WBINVD", "PAUSE-loop", "RDRAND", "INVPCID",
  ]);
  const exit = bits(VMX_EXIT, ["DR", "AckInt", "EFER-SV", "EFER-LD", "PTMR-SV", "PERF", ...(t.has("PAT") ? ["PAT-SV", "PAT-LD"] : [])]);
  const entry = bits(VMX_ENTRY, ["DR", "PERF", "EFER", ...(t.has("PAT") ? ["PAT"] : [])]);
  const fixed = p.release.major >= 15;
  const pad = "        ";
  const out = [
    `  VT-x: ${p.cpu.disabledInBios ? "(disabled in BIOS) " : ""}Basic Features=${printB(basic, VMX_BASIC)}`,
    `${pad}Pin-Based Controls=${printB(pin, VMX_PIN)}`,
    `${pad}Primary Processor Controls=${printB(proc, VMX_PROC)}`,
    ...(secondary ? [`${pad}Secondary Processor Controls=${printB(proc2, VMX_PROC2)}`] : []),
    `${pad}Exit Controls=${printB(fixed ? exit : basic, VMX_EXIT)}`,
    `${pad}Entry Controls=${printB(fixed ? entry : basic, VMX_ENTRY)}`,
  ];
  if (secondary && (t.has("EPT") || t.has("VPID"))) {
    out.push(`${pad}EPT Features=${printB(bits(VMX_EPT, VMX_EPT.map(([, n]) => n)), VMX_EPT)}`, `${pad}VPID Features=${printB(bits(VMX_VPID, VMX_VPID.map(([, n]) => n)), VMX_VPID)}`);
  }
  return out;
}

/**
 * /var/run/dmesg.boot for a boot: banner, identcpu's CPU block (the one-line VT-x/SVM summary, or
 * with `boot_verbose` set in the loader environment the multi-line block), memory, driver attach
 * lines, and the USB buses and a USB root stick as the USB stack announces them.
 */
export function dmesgBootText(m: MachineState, p: Profile): string {
  const intel = p.cpu.vendor === "intel";
  const lines = [
    "---<<BOOT>>---",
    "Copyright (c) 1992-2025 The FreeBSD Project.",
    "Copyright (c) 1979, 1980, 1983, 1986, 1988, 1989, 1991, 1992, 1993, 1994",
    "\tThe Regents of the University of California. All rights reserved.",
    "FreeBSD is a registered trademark of The FreeBSD Foundation.",
    `FreeBSD ${p.osrelease} GENERIC amd64`,
    `CPU: ${p.cpu.model} (${p.cpu.mhz}-MHz K8-class CPU)`,
    `  Origin="${p.cpu.origin}"  Id=0x${intel ? "50657" : "830f10"}  Family=0x${intel ? "6" : "17"}  Model=0x${intel ? "55" : "31"}  Stepping=${intel ? "7" : "0"}`,
    "  Features=0xbfebfbff<FPU,VME,DE,PSE,TSC,MSR,PAE,MCE,CX8,APIC,SEP,MTRR,PGE,MCA,CMOV,PAT,PSE36,CLFLUSH,DTS,ACPI,MMX,FXSR,SSE,SSE2,SS,HTT,TM,PBE>",
    intel
      ? "  Features2=0x7ffefbff<SSE3,PCLMULQDQ,DTES64,MON,DS_CPL,VMX,SMX,EST,TM2,SSSE3,SDBG,FMA,CX16,xTPR,PDCM,PCID,DCA,SSE4.1,SSE4.2,x2APIC,MOVBE,POPCNT,TSCDLT,AESNI,XSAVE,OSXSAVE,AVX,F16C,RDRAND>"
      : "  AMD Features2=0x75c237ff<LAHF,CMP,SVM,ExtAPIC,CR8,ABM,SSE4A,MAS,Prefetch,OSVW,IBS,SKINIT,WDT,TCE,Topology,PCXC,PNXC,DBE,PL2I,MWAITX,ADMSKX>",
    ...(bootVerbose(m) ? verboseVirtBlock(p) : [`  ${intel ? "VT-x" : "SVM"}: ${p.cpu.disabledInBios ? "(disabled in BIOS) " : ""}${p.cpu.virtLine}`]),
    "  TSC: P-state invariant, performance statistics",
    `real memory  = ${p.memoryBytes} (${p.memoryBytes / 2 ** 20} MB)`,
    `avail memory = ${p.memoryBytes - 2 ** 30} (${(p.memoryBytes - 2 ** 30) / 2 ** 20} MB)`,
    `FreeBSD/SMP: Multiprocessor System Detected: ${p.cpu.ncpu} CPUs`,
    ...m.messages.filter((l) => l.startsWith("vmx_init") || l.startsWith("svm_init") || l.startsWith("module_register_init")),
  ];
  for (const f of sortedPci(m)) {
    if (f.driver === "ppt") lines.push(`ppt${f.unit} at device ${f.slot}.${f.function} on pci${f.bus}`);
    else if (f.driver !== null) lines.push(`${f.driver}${f.unit}: <${f.deviceName}> at device ${f.slot}.${f.function} on pci${f.bus}`);
    else if (f.bus !== 0) lines.push(`pci${f.bus}: <${f.className}${f.subclassName ? `, ${f.subclassName}` : ""}> at device ${f.slot}.${f.function} (no driver attached)`);
  }
  for (const { unit, controller } of usbBuses(m)) {
    const hub = `${usbVendor(controller)} ${controller.driver!.toUpperCase()} root HUB`;
    lines.push(`ugen${unit}.1: <${hub}> at usbus${unit}`, `uhub${unit} on usbus${unit}`, `uhub${unit}: <${hub}, class 9/0, rev ${controller.driver === "xhci" ? "3.00" : "2.00"}/1.00, addr 1> on usbus${unit}`);
  }
  const stick = usbStick(m, p);
  if (stick) {
    const disk = p.host.rootPartition.replace(/(p\d+|s\d+[a-h]?)$/, "");
    lines.push(
      `ugen${stick.usbus}.2: <${USB_STICK.vendor} ${USB_STICK.product}> at usbus${stick.usbus}`,
      `umass${stick.umass} on uhub${stick.hub}`,
      `umass${stick.umass}: <${USB_STICK.vendor} ${USB_STICK.product}, class 0/0, rev 2.00/${USB_STICK.bcdDevice}, addr 2> on usbus${stick.usbus}`,
      `umass${stick.umass}:  SCSI over Bulk-Only; quirks = 0x8100`,
      `umass${stick.umass}:${stick.scbus}:0: Attached to scbus${stick.scbus}`,
      `${disk} at umass-sim${stick.umass} bus 0 scbus${stick.scbus} target 0 lun 0`,
      `${disk}: <${USB_STICK.vendor} ${USB_STICK.product} ${USB_STICK.revision}> Removable Direct Access SPC-4 SCSI device`,
    );
  }
  lines.push("Trying to mount root from zfs:zroot/ROOT/default []...");
  return `${lines.join("\n")}\n`;
}
