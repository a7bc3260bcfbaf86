/**
 * What the simulated kernel does with the machine state: boot from loader.conf, probe drivers
 * (ppt's right of refusal for devices listed in pptdevs), load vmm.ko, and decide whether the
 * IOMMU can be used. Pure functions on the state; the simulators do the I/O.
 */
import { loaderEnvironment } from "../agent/parse/loader-conf.js";
import { PAGE_SIZE, type MachinePciFunction, type MachineState } from "./machine.js";
import type { Profile } from "./profiles.js";

/** `B/S/F` of a function. */
export function bsf(f: { bus: number; slot: number; function: number }): string {
  return `${f.bus}/${f.slot}/${f.function}`;
}

/** `pci0:B:S:F` of a function. */
export function selector(f: { bus: number; slot: number; function: number }): string {
  return `pci0:${f.bus}:${f.slot}:${f.function}`;
}

/** An endpoint (header type 0): the only kind ppt_probe() accepts. */
export function isEndpoint(f: { header: number }): boolean {
  return (f.header & 0x7f) === 0;
}

/** C's sscanf("%d/%d/%d"): leading white space and sign allowed, stops at the first mismatch. */
function scanBsf(token: string): [number, number, number] | null {
  const m = /^\s*([+-]?\d+)\/\s*([+-]?\d+)\/\s*([+-]?\d+)/.exec(token);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * vmm_is_pptdev(): true when pptdevs, pptdevs2 or pptdevs3 lists the function. Tokens are split at
 * each single space; a token that does not scan as three decimals matches nothing (typos are
 * silent, as on FreeBSD); the domain is not compared.
 */
export function isPptdev(kenv: Readonly<Record<string, string>>, f: { bus: number; slot: number; function: number }): boolean {
  for (const name of ["pptdevs", "pptdevs2", "pptdevs3"]) {
    const value = kenv[name];
    if (value === undefined) continue;
    for (const token of value.split(" ")) {
      const t = scanBsf(token);
      if (t && t[0] === f.bus && t[1] === f.slot && t[2] === f.function) return true;
    }
  }
  return false;
}

/** The driver that wins the probe for a function now, or null. */
export function probeDriver(m: MachineState, f: MachinePciFunction): string | null {
  const hostDriver = f.driverNeedsVmm && !m.vmmLoaded ? null : f.hostDriver;
  if (f.fixedDriver !== null) {
    if (f.fixedDriver === "ppt") return m.vmmLoaded && isEndpoint(f) ? "ppt" : null;
    return f.fixedDriver === hostDriver ? hostDriver : null;
  }
  if (m.vmmLoaded && isEndpoint(f) && isPptdev(m.kenv, f)) return "ppt";
  return hostDriver;
}

/**
 * The devclass a function is in: its attached driver, or, while detached, the driver name forced on
 * it with `devctl set driver` (device_detach() keeps a fixed devclass and its unit). pciconf,
 * devctl and the newbus names show this name; null when the function is in no devclass.
 */
export function devclassOf(f: { driver: string | null; fixedDriver: string | null }): string | null {
  return f.driver ?? f.fixedDriver;
}

/**
 * Attaches `driver` (or detaches, for null). The function takes the lowest unit free in its
 * devclass, as devclass_add_device() does; a detached function with a forced driver keeps a unit
 * in that driver's devclass.
 */
export function setDriver(m: MachineState, f: MachinePciFunction, driver: string | null): void {
  f.driver = driver;
  f.unit = 0;
  const cls = devclassOf(f);
  if (cls === null) return;
  const used = new Set(m.pci.filter((o) => o !== f && devclassOf(o) === cls).map((o) => o.unit));
  while (used.has(f.unit)) f.unit++;
}

/** True when some VM holds the function (ppt_detach() then returns EBUSY). */
export function heldByVm(m: MachineState, f: MachinePciFunction): string | undefined {
  return Object.values(m.vms).find((vm) => vm.ppt.includes(bsf(f)))?.name;
}

/** Loads vmm.ko: refuses on CPUs vmx_init/svm_init reject; then unattached devices are probed again. */
export function loadVmm(m: MachineState, profile: Profile): { ok: true } | { ok: false; kernelMessage: string } {
  if (m.vmmLoaded) return { ok: true };
  if (!profile.cpu.vmmLoads) {
    const msg = profile.cpu.vmmLoadError ?? "vmm_init: failed";
    m.messages.push(msg, "module_register_init: MOD_LOAD (vmm, 0xffffffff82a3e6c0, 0) error 6");
    return { ok: false, kernelMessage: msg };
  }
  m.vmmLoaded = true;
  // Devices already attached keep their driver: only unattached ones are probed again (vmm(4)).
  for (const f of m.pci) if (f.driver === null) setDriver(m, f, probeDriver(m, f));
  return { ok: true };
}

/** Whether passthrough can use the IOMMU, and if not why (as the kernel would tell). */
export function iommuState(m: MachineState, profile: Profile): { usable: true } | { usable: false; reason: string; kernelMessage?: string } {
  if (m.kenv["hw.vmm.iommu.enable"] === "0") return { usable: false, reason: "hw.vmm.iommu.enable is 0" };
  if (profile.cpu.vendor === "intel") {
    return profile.acpiTables.includes("DMAR") ? { usable: true } : { usable: false, reason: "no ACPI DMAR table" };
  }
  if (!profile.acpiTables.includes("IVRS")) return { usable: false, reason: "no ACPI IVRS table" };
  if (amdviEnabled(m) !== 1) {
    return {
      usable: false,
      reason: "hw.vmm.amdvi.enable is 0",
      kernelMessage: `bhyve: Found ${profile.amdviUnits} AMD-Vi/IOMMU device(s), use hw.vmm.amdvi.enable=1 to enable pass-through.`,
    };
  }
  return { usable: true };
}

/**
 * `hw.vmm.amdvi.enable`: default 0. amdvi_hw.c fetches the tunable `hw.vmm.amdvi.enable` first and
 * then the legacy `hw.vmm.amdvi_enable` into the same variable, so the legacy name wins when both
 * are set.
 */
export function amdviEnabled(m: MachineState): number {
  let enabled = 0;
  for (const name of ["hw.vmm.amdvi.enable", "hw.vmm.amdvi_enable"]) {
    const v = m.kenv[name];
    // getenv_int(): a value that does not start with a number leaves the variable as it was.
    if (v !== undefined && /^\s*[+-]?\d+/.test(v)) enabled = parseInt(v, 10) !== 0 ? 1 : 0;
  }
  return enabled;
}

/**
 * The kernel boots verbose: sys/kern/subr_boot.c boot_env_to_howto() sets RB_VERBOSE when the
 * loader environment has `boot_verbose` with any value but "no" (case-insensitive).
 */
export function bootVerbose(m: MachineState): boolean {
  const v = m.kenv["boot_verbose"];
  return v !== undefined && v.toLowerCase() !== "no";
}

/** Pages wired by VMs now. */
export function wiredPages(m: MachineState): number {
  return Object.values(m.vms).reduce((n, vm) => n + (vm.wired ? Math.ceil(vm.memoryBytes / PAGE_SIZE) : 0), 0);
}

/**
 * A boot: the loader reads loader.conf (later lines win), vmm.ko loads first when `vmm_load` is
 * YES so that ppt gets the right of refusal, every device is probed, VMs are gone.
 */
export function boot(m: MachineState, profile: Profile, loaderConf: string, now: string): void {
  const kenv: Record<string, string> = {};
  const modules: string[] = [];
  let vmmLoad = false;
  for (const [name, value] of loaderEnvironment(loaderConf)) {
    if (!name.endsWith("_load")) kenv[name] = value;
    else if (name === "vmm_load") vmmLoad = value.toLowerCase() === "yes";
    else if (value.toLowerCase() === "yes") modules.push(name.slice(0, -"_load".length));
  }
  m.modules = modules;
  m.kenv = kenv;
  m.bootCount += 1;
  m.bootedAt = now;
  m.vms = {};
  // Cloned interfaces and runtime sysctls do not survive a reboot.
  m.ifaces = {};
  m.sysctl = {};
  m.messages = [];
  m.iommuInitialized = false;
  m.vmmLoaded = false;
  for (const f of m.pci) {
    f.fixedDriver = null;
    f.driver = null;
  }
  if (vmmLoad) loadVmm(m, profile);
  for (const f of m.pci) setDriver(m, f, probeDriver(m, f));
}
