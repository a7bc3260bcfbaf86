/**
 * `/var/run/dmesg.boot`: the CPU identification block that identcpu.c prints at boot, in
 * particular the `VT-x:` (print_vmx_info) and `SVM:` (print_svm_info) feature lines, which may be
 * prefixed with `(disabled in BIOS) `. The message buffer can hold the tail of an earlier boot
 * before a `---<<BOOT>>---` marker, so only the text after the last marker counts. The CPU block
 * can appear again later in the same boot (CPU microcode updates reprint it); the first one wins.
 *
 * With `boot_verbose`, identcpu prints the control registers instead of the one-line summary:
 * `  VT-x: Basic Features=0x…<…>` followed by indented lines `Pin-Based Controls=0x…<…>`,
 * `Primary Processor Controls=…`, `Secondary Processor Controls=0x…<APIC,EPT,…,UG,…>`, `Exit
 * Controls`, `Entry Controls`, `EPT Features`, `VPID Features`; AMD prints
 * `  SVM: Features=0x…<NP,LbrVirt,SVML,NRIPS,…>` and `Revision=N, ASIDs=N`. Both are read into the
 * tokens of the one-line form (EPT, UG, …; NP, NRIP, …), so callers see one shape.
 */

/** A virtualization feature line. */
export interface VirtFeatures {
  /** Tokens as printed, e.g. `["PAT","HLT","MTF","PAUSE","EPT","UG","VPID"]`. */
  readonly features: string[];
  /** The line started with `(disabled in BIOS)`. */
  readonly disabledInBios: boolean;
  /** `NAsids=N` on the SVM line (`ASIDs=N` in the verbose form). */
  readonly asids?: number;
  /** Read from the multi-line `boot_verbose` form. */
  readonly verbose?: boolean;
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

/** Flags of a `Name=0x…<A,B,C>` control line, or null when the line is not one. */
function flagsOf(line: string, name: string): Set<string> | null {
  const m = new RegExp(`^\\s*${name}=0x[0-9a-fA-F]+(?:<([^>]*)>)?\\s*$`).exec(line);
  return m ? new Set((m[1] ?? "").split(",").filter((t) => t !== "")) : null;
}

const VMX_LINES = ["Pin-Based Controls", "Primary Processor Controls", "Secondary Processor Controls", "Exit Controls", "Entry Controls", "EPT Features", "VPID Features"];

/** The one-line VT-x tokens print_vmx_info() would have printed for these control registers. */
function vmxTokens(c: Map<string, Set<string>>): string[] {
  const has = (reg: string, flag: string): boolean => c.get(reg)?.has(flag) ?? false;
  const out: string[] = [];
  if (has("Exit Controls", "PAT-LD") && has("Entry Controls", "PAT")) out.push("PAT");
  if (has("Primary Processor Controls", "HLT")) out.push("HLT");
  if (has("Primary Processor Controls", "MTF")) out.push("MTF");
  if (has("Primary Processor Controls", "PAUSE")) out.push("PAUSE");
  if (has("Secondary Processor Controls", "EPT")) out.push("EPT");
  if (has("Secondary Processor Controls", "UG")) out.push("UG");
  if (has("Secondary Processor Controls", "VPID")) out.push("VPID");
  const vid = has("Primary Processor Controls", "TPR") && ["APIC", "x2APIC", "APIC-reg", "VID"].every((f) => has("Secondary Processor Controls", f));
  if (vid) out.push("VID");
  if (vid && has("Pin-Based Controls", "PostIntr")) out.push("PostIntr");
  return out;
}

/** The one-line SVM tokens print_svm_info() would have printed for the verbose feature names. */
const SVM_TOKENS: ReadonlyArray<[string, string]> = [["NP", "NP"], ["NRIPS", "NRIP"], ["VmcbClean", "VClean"], ["FlushByAsid", "AFlush"], ["DecodeAssist", "DAssist"]];

function stripBios(rest: string): { disabled: boolean; text: string } {
  const disabled = rest.startsWith("(disabled in BIOS)");
  return { disabled, text: (disabled ? rest.slice("(disabled in BIOS)".length) : rest).trim() };
}

/** Parses the current boot's part of dmesg.boot. */
export function parseDmesgBoot(text: string): DmesgBoot {
  const marker = text.lastIndexOf("---<<BOOT>>---");
  const boot = marker >= 0 ? text.slice(marker + "---<<BOOT>>---".length) : text;
  const out: { -readonly [K in keyof DmesgBoot]: DmesgBoot[K] } = {};
  const lines = boot.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if (out.kernel === undefined && (m = /^(FreeBSD \d+\.\d+-\S+.*)$/.exec(line))) out.kernel = m[1]!.trim();
    else if (out.cpuModel === undefined && (m = /^CPU: (.*?)\s*(\([\d.]+-MHz [^)]*\))?\s*$/.exec(line))) out.cpuModel = m[1]!.trim();
    else if (out.origin === undefined && (m = /^\s+Origin\s*=\s*"([^"]*)"/.exec(line))) out.origin = m[1]!;
    else if (out.vtx === undefined && (m = /^\s+VT-x: (.*)$/.exec(line))) {
      const { disabled, text: rest } = stripBios(m[1]!);
      if (flagsOf(rest, "Basic Features") === null) {
        out.vtx = features(m[1]!);
        continue;
      }
      const controls = new Map<string, Set<string>>();
      for (; i + 1 < lines.length; i++) {
        const next = lines[i + 1]!;
        const name = VMX_LINES.find((n) => flagsOf(next, n) !== null);
        if (!name) break;
        controls.set(name, flagsOf(next, name)!);
      }
      out.vtx = { features: vmxTokens(controls), disabledInBios: disabled, verbose: true };
    } else if (out.svm === undefined && (m = /^\s+SVM: (.*)$/.exec(line))) {
      const { disabled, text: rest } = stripBios(m[1]!);
      const flags = flagsOf(rest, "Features");
      if (flags === null) {
        out.svm = features(m[1]!);
        continue;
      }
      const tokens = SVM_TOKENS.filter(([verbose]) => flags.has(verbose)).map(([, short]) => short);
      const rev = i + 1 < lines.length ? /^\s*Revision=\d+, ASIDs=(\d+)\s*$/.exec(lines[i + 1]!) : null;
      if (rev) {
        i++;
        tokens.push(`NAsids=${rev[1]}`);
      }
      out.svm = { features: tokens, disabledInBios: disabled, verbose: true, ...(rev ? { asids: Number(rev[1]) } : {}) };
    } else if (out.realMemory === undefined && (m = /^real memory\s+=\s+(\d+)/.exec(line))) out.realMemory = Number(m[1]);
    else if ((m = /^bhyve: Found (\d+) AMD-Vi\/IOMMU device\(s\)/.exec(line))) out.amdviDevicesFound = Number(m[1]);
  }
  return out;
}
