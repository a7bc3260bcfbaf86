/** VMs in the simulated kernel: create, set up memory (wired against vm.max_user_wired), destroy. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wiredPages } from "./kernel.js";
import { PAGE_SIZE, processAlive, sandboxPaths, type MachineState, type MachineVm } from "./machine.js";

/** The running bhyve process of a VM, if it is still alive. */
export function runningPid(vm: MachineVm): number | null {
  return vm.process && processAlive(vm.process.pid) ? vm.process.pid : null;
}

/** Creates `/dev/vmm/NAME` and the kernel's VM (hw.vmm.create). */
export function createVm(root: string, m: MachineState, name: string, now: string): MachineVm {
  const vm: MachineVm = { name, createdAt: now, memoryBytes: 0, wired: false, ppt: [], process: null, request: null, lastExit: null };
  m.vms[name] = vm;
  writeFileSync(join(sandboxPaths(root).devVmm, name), "");
  return vm;
}

/** Destroys a VM: its memory is unwired, its devices unassigned, `/dev/vmm/NAME` removed. */
export function destroyVm(root: string, m: MachineState, name: string): void {
  delete m.vms[name];
  rmSync(join(sandboxPaths(root).devVmm, name), { force: true });
}

/**
 * vm_setup_memory(): the first call sets the VM's memory up (wired memory counts against
 * vm.max_user_wired, and cannot exceed the host's physical memory whatever that limit says);
 * later calls must ask for the same. Memory that is not wired is a swap-backed object that
 * vm_alloc_memseg() does not weigh against the host's memory, so it is not refused here.
 * Returns the errno on failure.
 */
export function setupMemory(m: MachineState, vm: MachineVm, bytes: number, wired: boolean, physicalBytes = Infinity): "ENOMEM" | "EINVAL" | "EEXIST" | null {
  if (vm.memoryBytes !== 0) {
    if (vm.memoryBytes !== bytes) return "EINVAL";
    if (vm.wired !== wired) return "EEXIST";
    return null;
  }
  const pages = wiredPages(m) + Math.ceil(bytes / PAGE_SIZE);
  if (wired && (pages > m.maxUserWiredPages || pages * PAGE_SIZE > physicalBytes)) return "ENOMEM";
  vm.memoryBytes = bytes;
  vm.wired = wired;
  return null;
}

/** bhyve's memory size syntax (vm_parse_memsize): a number with an optional K/M/G/T suffix; a bare number below 1 MiB is megabytes. */
export function parseMemsize(text: string): number | null {
  const m = /^(\d+)([kKmMgGtT]?)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const bytes = unit ? n * 1024 ** (" KMGT".indexOf(unit)) : n < 1024 * 1024 ? n * 2 ** 20 : n;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}
