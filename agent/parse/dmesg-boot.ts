/**
 * `/var/run/dmesg.boot`: the CPU identification block that identcpu.c prints at boot, in
 * particular the `VT-x:` (print_vmx_info) and `SVM:` (print_svm_info) feature lines, which may be
 * prefixed with `(disabled in BIOS) `. The message buffer can hold the tail of an earlier boot
 * before a `---<<BOOT>>---` marker, so only the text after the last marker counts. The CPU block
 * can appear again later in the same boot (CPU microcode updates reprint it); the first one wins.
 */

/** A virtualization feature line. */
export interface VirtFeatures {
  /** Tokens as printed, e.g. `["PAT","HLT","MTF","PAUSE","EPT","UG","VPID"]`. */
  readonly features: string[];
  /** The line started with `(disabled in BIOS)`. */
  readonly disabledInBios: boolean;
  /** `NAsids=N` on the SVM line. */
  readonly asids?: number;
}

/** What dmesg.boot says about the CPU and the boot. */
export interface DmesgBoot {
  /** `CPU:` model string, without the clock suffix. */
  readonly cpuModel?: string;
  /** `Origin=` vendor string, e.g. `GenuineIntel`, `AuthenticAMD`. */
  readonly origin?: string;
  readonly vtx?: VirtFeatures;
  readonly svm?: VirtFeatures;
  /** `real memory  = N (M MB)`, in bytes. */
  readonly realMemory?: number;
  /** The kernel's `FreeBSD 14.3-RELEASE …` line. */
  readonly kernel?: string;
  /** From `bhyve: Found N AMD-Vi/IOMMU device(s), use hw.vmm.amdvi.enable=1 …`. */
  readonly amdviDevicesFound?: number;
}

function features(rest: string): VirtFeatures {
  const disabled = rest.startsWith("(disabled in BIOS)");
  const list = (disabled ? rest.slice("(disabled in BIOS)".length) : rest).trim();
  const tokens = list === "" ? [] : list.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const nasids = tokens.find((t) => t.startsWith("NAsids="));
  return {
    features: tokens,
    disabledInBios: disabled,
    ...(nasids ? { asids: Number(nasids.slice("NAsids=".length)) } : {}),
  };
}

/** Parses the current boot's part of dmesg.boot. */
export function parseDmesgBoot(text: string): DmesgBoot {
  const marker = text.lastIndexOf("---<<BOOT>>---");
  const boot = marker >= 0 ? text.slice(marker + "---<<BOOT>>---".length) : text;
  const out: { -readonly [K in keyof DmesgBoot]: DmesgBoot[K] } = {};
  for (const line of boot.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if (out.kernel === undefined && (m = /^(FreeBSD \d+\.\d+-\S+.*)$/.exec(line))) out.kernel = m[1]!.trim();
    else if (out.cpuModel === undefined && (m = /^CPU: (.*?)\s*(\([\d.]+-MHz [^)]*\))?\s*$/.exec(line))) out.cpuModel = m[1]!.trim();
    else if (out.origin === undefined && (m = /^\s+Origin\s*=\s*"([^"]*)"/.exec(line))) out.origin = m[1]!;
    else if (out.vtx === undefined && (m = /^\s+VT-x: (.*)$/.exec(line))) out.vtx = features(m[1]!);
    else if (out.svm === undefined && (m = /^\s+SVM: (.*)$/.exec(line))) out.svm = features(m[1]!);
    else if (out.realMemory === undefined && (m = /^real memory\s+=\s+(\d+)/.exec(line))) out.realMemory = Number(m[1]);
    else if ((m = /^bhyve: Found (\d+) AMD-Vi\/IOMMU device\(s\)/.exec(line))) out.amdviDevicesFound = Number(m[1]);
  }
  return out;
}
