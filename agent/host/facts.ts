/**
 * Host facts: what the host is and whether it can run passthrough guests, each verdict with the
 * evidence it rests on (which tool or file said what), per freebsd-bhyve.md's checklist:
 * nested paging from dmesg.boot's VT-x/SVM line, CPUID (only when the agent root is `/`: CPUID
 * describes the CPU this process runs on) and hw.vmm.vmx.* once vmm is loaded; the IOMMU from the
 * ACPI DMAR/IVRS table, hw.vmm.iommu.enable and, on AMD, hw.vmm.amdvi.enable/count; vmm.ko from
 * kldstat; PCI ownership from pciconf -lv; the wired-memory limit from vm.max_user_wired.
 */
import { existsSync, readFileSync } from "node:fs";
import { hasAcpiTable, parseAcpidump } from "../parse/acpidump.js";
import { decodeCpuid, type CpuidView } from "../parse/cpuid.js";
import { loaderEnvironment } from "../parse/loader-conf.js";
import { parseDmesgBoot, type DmesgBoot } from "../parse/dmesg-boot.js";
import { isBridge, parsePciconf, type PciconfEntry } from "../parse/pciconf.js";
import { parseSysctl, sysctlInt } from "../parse/sysctl.js";
import type { HostContext } from "../model/types.js";
import { AGENT_VERSION } from "../version.js";
import { runTool, type ToolResult } from "./exec.js";
import { loadNativeProbe } from "./native.js";
import type { HostPaths } from "./paths.js";

/** Something a verdict rests on. */
export interface Evidence {
  /** The tool or file, e.g. `sysctl hw.vmm.vmx.initialized`, `/var/run/dmesg.boot`, `cpuid`. */
  readonly source: string;
  /** What it said (the relevant line or value), or why it said nothing. */
  readonly said: string;
}

/** A reason the host cannot (yet) run guests or passthrough, with a stable code. */
export interface HostProblem {
  readonly code: string;
  readonly message: string;
}

/** One PCI function as the facts report it. */
export interface PciFact {
  readonly selector: string;
  readonly device: string;
  readonly driver: string | null;
  readonly unit: number;
  readonly class: string;
  readonly header: number;
  readonly bridge: boolean;
  readonly vendor_id: string;
  readonly device_id: string;
  readonly subvendor_id: string;
  readonly subdevice_id: string;
  readonly vendor_name?: string;
  readonly device_name?: string;
}

/** Everything `host.facts` answers. */
export interface HostFacts {
  readonly agent: { readonly version: string; readonly root: string; readonly native_probe: { readonly available: boolean; readonly reason?: string } };
  readonly os: { readonly release: string | null };
  /** ncpu: hw.ncpu; max_vcpus: the most vCPUs one guest may have (hw.vmm.maxcpu once vmm is loaded, else its default, hw.ncpu). */
  readonly cpu: { readonly vendor: "intel" | "amd" | "other"; readonly model: string | null; readonly hypervisor: boolean | null; readonly ncpu: number | null; readonly max_vcpus: number | null; readonly evidence: Evidence[] };
  readonly nested_paging: { readonly ok: boolean; readonly kind: "ept" | "npt" | null; readonly unrestricted_guest: boolean | null; readonly evidence: Evidence[] };
  readonly iommu: { readonly kind: "vt-d" | "amd-vi" | null; readonly enabled: boolean; readonly initialized: boolean | null; readonly evidence: Evidence[] };
  readonly vmm: { readonly loaded: boolean; readonly evidence: Evidence[] };
  readonly pci: PciFact[];
  readonly memory: { readonly max_user_wired: number | null; readonly user_wired: number | null; readonly physical: number | null; readonly evidence: Evidence[] };
  readonly passthru_ready: boolean;
  readonly problems: HostProblem[];
}

const SYSCTLS = [
  "kern.osrelease", "hw.model", "hw.ncpu", "hw.vmm.maxcpu", "hw.pagesize", "hw.physmem", "vm.max_user_wired", "vm.stats.vm.v_user_wire_count",
  "hw.vmm.vmx.initialized", "hw.vmm.vmx.cap.unrestricted_guest", "hw.vmm.iommu.enable", "hw.vmm.iommu.initialized",
  "hw.vmm.amdvi.enable", "hw.vmm.amdvi.count", "hw.vmm.ppt.devices",
];

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, "0")}`;

function pciFact(e: PciconfEntry): PciFact {
  return {
    selector: e.selector,
    device: e.device,
    driver: e.driver,
    unit: e.unit,
    class: `0x${e.classCode.toString(16).padStart(6, "0")}`,
    header: e.header,
    bridge: isBridge(e),
    vendor_id: hex4(e.vendorId),
    device_id: hex4(e.deviceId),
    subvendor_id: hex4(e.subvendorId),
    subdevice_id: hex4(e.subdeviceId),
    ...(e.vendorName !== undefined ? { vendor_name: e.vendorName } : {}),
    ...(e.deviceName !== undefined ? { device_name: e.deviceName } : {}),
  };
}

/** What the host's tools and files said: everything the verdicts rest on, read by {@link readFactsInput}. */
export interface FactsInput {
  /** The agent root. */
  readonly root: string;
  readonly kldstat: ToolResult;
  readonly sysctl: ToolResult;
  readonly pciconf: ToolResult;
  readonly acpidump: ToolResult;
  /** /var/run/dmesg.boot, or null when it is missing. */
  readonly dmesgBoot: string | null;
  /** /boot/loader.conf ("" when it is missing). */
  readonly loaderConf: string;
  /** CPUID as the native probe decoded it (null: no CPUID on this CPU), or why it was not read. */
  readonly cpuid: { readonly view: CpuidView | null } | { readonly notRead: string };
  readonly nativeProbe: { readonly available: boolean; readonly reason?: string };
}

/** Runs the tools and reads the files the facts rest on: the only I/O of the facts. */
export async function readFactsInput(paths: HostPaths): Promise<FactsInput> {
  const native = loadNativeProbe();
  const [kldstat, sysctl, pciconf, acpidump] = await Promise.all([
    runTool(paths.tool("kldstat"), ["-q", "-m", "vmm"]),
    runTool(paths.tool("sysctl"), ["-i", ...SYSCTLS]),
    runTool(paths.tool("pciconf"), ["-lv"]),
    runTool(paths.tool("acpidump"), ["-t"]),
  ]);
  const read = (file: string): string | null => (existsSync(file) ? readFileSync(file, "utf8") : null);
  const cpuid: FactsInput["cpuid"] = paths.root !== "/"
    ? { notRead: "not used: the agent root is not /, and CPUID describes the CPU this process runs on" }
    : !native.available
      ? { notRead: `not available: ${native.reason}` }
      : { view: decodeCpuid((leaf) => native.probe.cpuid(leaf)) };
  return {
    root: paths.root, kldstat, sysctl, pciconf, acpidump, dmesgBoot: read(paths.dmesgBoot), loaderConf: read(paths.loaderConf) ?? "", cpuid,
    nativeProbe: native.available ? { available: true } : { available: false, reason: native.reason },
  };
}

/** Gathers the facts of the host under `paths.root`. */
export async function gatherFacts(paths: HostPaths): Promise<HostFacts> {
  return factsFrom(await readFactsInput(paths));
}

/** The facts and their verdicts from what the tools and files said: pure, tested against captures. */
export function factsFrom(input: FactsInput): HostFacts {
  const problems: HostProblem[] = [];
  const { kldstat: kld, sysctl: sys, pciconf: pci, acpidump: acpi } = input;
  const s = parseSysctl(sys.stdout, SYSCTLS);
  let dmesg: DmesgBoot = {};
  let dmesgSaid = "";
  if (input.dmesgBoot !== null) dmesg = parseDmesgBoot(input.dmesgBoot);
  else dmesgSaid = "missing";

  // CPU
  let cpuid: CpuidView | null = null;
  const cpuEvidence: Evidence[] = [];
  if ("notRead" in input.cpuid) {
    cpuEvidence.push({ source: "cpuid", said: input.cpuid.notRead });
  } else {
    cpuid = input.cpuid.view;
    cpuEvidence.push({ source: "cpuid", said: cpuid ? `vendor ${cpuid.vendorString}, VMX ${+cpuid.vmx}, SVM ${+cpuid.svm}, hypervisor ${+cpuid.hypervisor}${cpuid.svm ? `, NP ${+!!cpuid.amdNestedPaging}, NRIP ${+!!cpuid.amdNrip}` : ""}` : "no CPUID on this CPU" });
  }
  if (dmesg.origin) cpuEvidence.push({ source: "/var/run/dmesg.boot", said: `Origin="${dmesg.origin}"` });
  const origin = cpuid?.vendorString ?? dmesg.origin ?? "";
  const vendor = origin === "GenuineIntel" ? "intel" : origin === "AuthenticAMD" || origin === "HygonGenuine" ? "amd" : "other";
  if (cpuid?.hypervisor) {
    problems.push({ code: "W_NESTED", message: "this host runs under a hypervisor (CPUID hypervisor bit): nested bhyve may lack EPT/NPT, and an emulated VT-d can panic vtd_init" });
  }

  // vmm.ko
  const vmmLoaded = kld.status === 0;
  const vmmEvidence = [{ source: "kldstat -q -m vmm", said: `exit ${kld.status}` }];
  const vmmLine = (name: string): Evidence => ({ source: `sysctl ${name}`, said: s.has(name) ? s.get(name)! : "unknown oid (vmm.ko not loaded)" });

  // Nested paging
  const npEvidence: Evidence[] = [];
  let npOk = false;
  let kind: "ept" | "npt" | null = null;
  let ug: boolean | null = null;
  if (vendor === "intel") {
    kind = "ept";
    const line = dmesg.vtx;
    npEvidence.push({ source: "/var/run/dmesg.boot", said: line ? `VT-x: ${line.disabledInBios ? "(disabled in BIOS) " : ""}${line.features.join(",")}${line.verbose ? " (read from the boot_verbose control registers)" : ""}` : dmesgSaid || "no VT-x line" });
    if (cpuid) npEvidence.push({ source: "cpuid", said: `CPUID.1:ECX[5] VMX=${+cpuid.vmx}` });
    // vmx_init() refuses to load vmm.ko without EPT (and with VMX locked off), so an initialised
    // VMX is proof of both, whatever dmesg.boot shows or lacks (a cut message buffer, a format
    // this parser does not know).
    const vmxInitialized = vmmLoaded && s.get("hw.vmm.vmx.initialized") === "1";
    const ept = vmxInitialized || (!!line && line.features.includes("EPT"));
    ug = line ? line.features.includes("UG") : null;
    if (vmmLoaded) {
      npEvidence.push(vmmLine("hw.vmm.vmx.initialized"), vmmLine("hw.vmm.vmx.cap.unrestricted_guest"));
      if (s.has("hw.vmm.vmx.cap.unrestricted_guest")) ug = s.get("hw.vmm.vmx.cap.unrestricted_guest") === "1";
    }
    // `(disabled in BIOS)` is printed whenever FEATURE_CONTROL's VMX bit is clear; vmm refuses only
    // when the register is also locked, else it sets the bit itself. So it is fatal only once vmm
    // has failed to initialise: before vmm loads it is a warning.
    const biosOff = !!line?.disabledInBios && !vmxInitialized;
    npOk = ept && (cpuid ? cpuid.vmx : true) && (vmmLoaded ? vmxInitialized : true);
    if (biosOff && vmmLoaded) {
      npOk = false;
      problems.push({ code: "E_VMX_DISABLED", message: "VT-x is disabled in the firmware (dmesg.boot: \"(disabled in BIOS)\") and vmm could not initialise VMX; enable Intel Virtualization Technology in the BIOS setup" });
    } else if (!ept) {
      problems.push({ code: "E_NO_NESTED_PAGING", message: `the CPU has no EPT (dmesg.boot VT-x: ${line ? line.features.join(",") || "(empty)" : "absent"}); bhyve needs VT-x with EPT, vmm.ko will not load` });
    } else if (biosOff) {
      problems.push({ code: "W_VMX_DISABLED_IN_BIOS", message: "dmesg.boot says VT-x is \"(disabled in BIOS)\": vmm.ko still loads if the firmware left the feature-control register unlocked; if loading vmm fails, enable Intel Virtualization Technology in the BIOS setup" });
    }
    if (npOk && ug === false) problems.push({ code: "W_NO_UNRESTRICTED_GUEST", message: "VT-x lacks unrestricted guest: UEFI (bootrom) guests and guests with more than one vCPU cannot run" });
  } else if (vendor === "amd") {
    kind = "npt";
    const line = dmesg.svm;
    npEvidence.push({ source: "/var/run/dmesg.boot", said: line ? `SVM: ${line.disabledInBios ? "(disabled in BIOS) " : ""}${line.features.join(",")}` : dmesgSaid || "no SVM line" });
    const np = cpuid?.amdNestedPaging ?? (!!line && line.features.includes("NP"));
    const nrip = cpuid?.amdNrip ?? (!!line && line.features.includes("NRIP"));
    if (cpuid) npEvidence.push({ source: "cpuid", said: `0x8000000A EDX: NP=${+np}, NRIP=${+nrip}` });
    npOk = !!line && !line.disabledInBios && np && nrip;
    ug = npOk ? true : null;
    if (line?.disabledInBios) problems.push({ code: "E_SVM_DISABLED", message: "SVM is disabled in the firmware (dmesg.boot: \"(disabled in BIOS)\"); enable SVM mode in the BIOS setup" });
    else if (!np || !nrip) problems.push({ code: "E_NO_NESTED_PAGING", message: `the CPU lacks ${!np ? "nested paging (NP)" : "NRIP save"}; bhyve needs both on AMD` });
  } else {
    npEvidence.push({ source: "/var/run/dmesg.boot", said: dmesgSaid || `CPU origin "${origin || "unknown"}"` });
    problems.push({ code: "E_UNSUPPORTED_CPU", message: `bhyve runs on Intel VT-x and AMD-V CPUs; this one is "${origin || "unknown"}"` });
  }
  if (npOk && !vmmLoaded) problems.push({ code: "E_VMM_NOT_LOADED", message: "vmm.ko is not loaded: set vmm_load (vmm_load=\"YES\" in loader.conf) and reboot, so that ppt can claim reserved devices at boot" });

  // IOMMU
  const tables = parseAcpidump(acpi.stdout);
  const iommuEvidence: Evidence[] = [];
  let iommuKind: "vt-d" | "amd-vi" | null = null;
  let iommuEnabled = false;
  const dmar = hasAcpiTable(tables, "DMAR");
  const ivrs = hasAcpiTable(tables, "IVRS");
  iommuEvidence.push({ source: "acpidump -t", said: acpi.status !== 0 ? `exit ${acpi.status}: ${acpi.stderr.trim()}` : `tables ${tables.tables.map((t) => t.signature).join(" ")}` });
  const iommuEnable = s.get("hw.vmm.iommu.enable");
  if (vmmLoaded) iommuEvidence.push(vmmLine("hw.vmm.iommu.enable"), vmmLine("hw.vmm.iommu.initialized"));
  const iommuOff = iommuEnable === "0";
  if (vendor === "intel" && dmar) {
    iommuKind = "vt-d";
    iommuEnabled = !iommuOff;
  } else if (vendor === "amd" && ivrs) {
    iommuKind = "amd-vi";
    iommuEvidence.push(vmmLine("hw.vmm.amdvi.enable"), vmmLine("hw.vmm.amdvi.count"));
    const enabled = s.get("hw.vmm.amdvi.enable") === "1";
    const count = sysctlInt(s.get("hw.vmm.amdvi.count")) ?? 0;
    iommuEnabled = !iommuOff && vmmLoaded && enabled && count >= 1;
    if (vmmLoaded && !enabled) {
      // The tunable is read at boot: once loader.conf has it, only the reboot is left to do.
      const text = input.loaderConf;
      // amdvi_hw.c reads the legacy hw.vmm.amdvi_enable after hw.vmm.amdvi.enable: it wins when both are set.
      const env = loaderEnvironment(text);
      const legacy = env.get("hw.vmm.amdvi_enable");
      const next = legacy ?? env.get("hw.vmm.amdvi.enable");
      const todo = legacy !== undefined && legacy !== "1"
        ? `loader.conf sets the legacy hw.vmm.amdvi_enable="${legacy}", which wins over hw.vmm.amdvi.enable: remove that line (or set it to 1) and reboot`
        : next === "1" ? "loader.conf already sets hw.vmm.amdvi.enable=1: reboot the host" : "set amdvi_enable (hw.vmm.amdvi.enable=1 in loader.conf) and reboot";
      problems.push({ code: "E_AMDVI_DISABLED", message: `AMD-Vi is present (ACPI IVRS, ${count} unit(s)) but hw.vmm.amdvi.enable is 0: ${todo}` });
    }
  }
  if (!iommuKind) {
    problems.push({ code: "E_NO_IOMMU", message: `no ${vendor === "amd" ? "IVRS" : "DMAR"} ACPI table: the firmware exposes no IOMMU (enable ${vendor === "amd" ? "AMD-Vi/IOMMU" : "VT-d"} in the BIOS setup); passthrough is impossible` });
  } else if (iommuOff) {
    problems.push({ code: "E_IOMMU_DISABLED", message: "hw.vmm.iommu.enable is 0 (set in loader.conf): passthrough is impossible until it is removed and the host rebooted" });
  }

  // Memory
  const page = sysctlInt(s.get("hw.pagesize")) ?? 4096;
  const maxWiredPages = sysctlInt(s.get("vm.max_user_wired"));
  const wiredPages = sysctlInt(s.get("vm.stats.vm.v_user_wire_count"));

  const passthruReady = npOk && vmmLoaded && iommuKind !== null && iommuEnabled;
  return {
    agent: { version: AGENT_VERSION, root: input.root, native_probe: input.nativeProbe },
    os: { release: s.get("kern.osrelease") ?? null },
    cpu: {
      vendor,
      model: s.get("hw.model") ?? dmesg.cpuModel ?? null,
      hypervisor: cpuid ? cpuid.hypervisor : null,
      ncpu: sysctlInt(s.get("hw.ncpu")) ?? null,
      max_vcpus: sysctlInt(s.get("hw.vmm.maxcpu")) ?? sysctlInt(s.get("hw.ncpu")) ?? null,
      evidence: cpuEvidence,
    },
    nested_paging: { ok: npOk, kind, unrestricted_guest: ug, evidence: npEvidence },
    iommu: { kind: iommuKind, enabled: iommuEnabled, initialized: s.has("hw.vmm.iommu.initialized") ? s.get("hw.vmm.iommu.initialized") === "1" : null, evidence: iommuEvidence },
    vmm: { loaded: vmmLoaded, evidence: vmmEvidence },
    pci: parsePciconf(pci.stdout).entries.map(pciFact),
    memory: {
      max_user_wired: maxWiredPages === undefined ? null : maxWiredPages * page,
      user_wired: wiredPages === undefined ? null : wiredPages * page,
      physical: sysctlInt(s.get("hw.physmem")) ?? null,
      evidence: [{ source: "sysctl vm.max_user_wired hw.pagesize", said: `${s.get("vm.max_user_wired") ?? "unknown"} pages of ${page} bytes` }],
    },
    passthru_ready: passthruReady,
    problems,
  };
}

/** What the spec validation needs from the facts. */
export function hostContext(f: HostFacts): HostContext {
  return {
    cpuVendor: f.cpu.vendor,
    ...(f.memory.max_user_wired !== null ? { maxUserWired: f.memory.max_user_wired } : {}),
    pci: f.pci.map((p) => {
      const [bus, slot, fn] = p.device.split("/").map(Number) as [number, number, number];
      return { address: { bus, slot, function: fn }, vendorId: parseInt(p.vendor_id, 16), deviceId: parseInt(p.device_id, 16), headerType: p.header & 0x7f };
    }),
  };
}

/** Facts as a person reads them. */
export function formatFacts(f: HostFacts): string {
  const yes = (b: boolean): string => (b ? "yes" : "no");
  const lines = [
    `host: FreeBSD ${f.os.release ?? "?"}, ${f.cpu.model ?? "unknown CPU"} (${f.cpu.vendor})`,
    `nested paging (${f.nested_paging.kind ?? "-"}): ${yes(f.nested_paging.ok)}${f.nested_paging.unrestricted_guest === false ? ", no unrestricted guest" : ""}`,
    `vmm.ko loaded: ${yes(f.vmm.loaded)}`,
    `IOMMU: ${f.iommu.kind ?? "none"}${f.iommu.kind ? `, ${f.iommu.enabled ? "enabled" : "not enabled"}` : ""}`,
    `wired memory limit: ${f.memory.max_user_wired === null ? "unknown" : `${(f.memory.max_user_wired / 2 ** 30).toFixed(1)} GiB`}`,
    `passthrough ready: ${yes(f.passthru_ready)}`,
  ];
  if (!f.agent.native_probe.available) lines.push(`note: ${f.agent.native_probe.reason}; CPUID evidence is missing`);
  for (const p of f.problems) lines.push(`problem ${p.code}: ${p.message}`);
  lines.push("", "PCI devices:");
  for (const p of f.pci) {
    lines.push(`  ${p.device.padEnd(10)} ${(p.driver ? `${p.driver}${p.unit}` : "none").padEnd(10)} ${p.vendor_id}:${p.device_id}  ${p.device_name ?? ""}${p.bridge ? " (bridge)" : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
