/**
 * Decoding CPUID: the CPU's own word on hardware virtualization, which holds even before vmm.ko
 * loads. Bits per freebsd-bhyve.md §5: VMX = CPUID.1:ECX[5], hypervisor = CPUID.1:ECX[31],
 * SVM = 0x80000001:ECX[2], AMD nested paging = 0x8000000A:EDX[0], NRIP save = 0x8000000A:EDX[3].
 * (Intel's EPT and unrestricted guest are VMX capability MSRs, not CPUID: they come from dmesg and
 * hw.vmm.vmx.* instead.)
 */

/** CPUID registers of one leaf. */
export interface Regs {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** What the agent uses from CPUID. */
export interface CpuidView {
  /** `GenuineIntel`, `AuthenticAMD`, … */
  readonly vendorString: string;
  readonly vendor: "intel" | "amd" | "other";
  readonly vmx: boolean;
  readonly svm: boolean;
  /** Running under a hypervisor (nested virtualization: bhyve may not work, VT-d may be emulated). */
  readonly hypervisor: boolean;
  /** AMD only: null when the CPU has no SVM leaf. */
  readonly amdNestedPaging: boolean | null;
  readonly amdNrip: boolean | null;
}

const bit = (v: number, n: number): boolean => ((v >>> n) & 1) === 1;

function ascii(...words: number[]): string {
  return words.map((w) => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff)).join("");
}

/** Decodes the leaves read with `read` (which returns null for a leaf the CPU does not have). */
export function decodeCpuid(read: (leaf: number) => Regs | null): CpuidView | null {
  const l0 = read(0);
  if (!l0) return null;
  const vendorString = ascii(l0.ebx, l0.edx, l0.ecx);
  const vendor = vendorString === "GenuineIntel" ? "intel" : vendorString === "AuthenticAMD" || vendorString === "HygonGenuine" ? "amd" : "other";
  const l1 = l0.eax >= 1 ? read(1) : null;
  const ext = read(0x80000001);
  const svm = ext ? bit(ext.ecx, 2) : false;
  const svmLeaf = svm ? read(0x8000000a) : null;
  return {
    vendorString,
    vendor,
    vmx: l1 ? bit(l1.ecx, 5) : false,
    svm,
    hypervisor: l1 ? bit(l1.ecx, 31) : false,
    amdNestedPaging: svmLeaf ? bit(svmLeaf.edx, 0) : null,
    amdNrip: svmLeaf ? bit(svmLeaf.edx, 3) : null,
  };
}
