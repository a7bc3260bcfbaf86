/** VMs in the simulated kernel: create, set up memory (wired against vm.max_user_wired), destroy. */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wiredPages } from "./kernel.js";
import { PAGE_SIZE, processAlive, sandboxPaths, type MachineState, type MachineVm, type MachineVmRunner } from "./machine.js";

/** The running bhyve process of a VM, if it is still alive. */
export function runningPid(vm: MachineVm): number | null {
  return vm.process && processAlive(vm.process.pid) ? vm.process.pid : null;
}

/**
 * The vm-bhyve runners (sandbox/vm-bhyve.ts) whose process still runs: not a zombie either (a
 * runner started by a test is its child, and lingers as one until the test's event loop reaps it;
 * on a host, init reaps it at once).
 */
export function liveRunners(m: MachineState): MachineVmRunner[] {
  return (m.vmRunners ?? []).filter((r) => processAlive(r.pid) && procStat(r.pid)?.state !== "Z");
}

/** The state and parent of a process from /proc/PID/stat (after the parenthesised command name), or null without /proc. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/**
 * A process's parent now. Linux has it in /proc/PID/stat (the field after the state, which
 * follows the parenthesised command name); without /proc it is the recorded parent while that
 * still runs, else init, which adopts orphans.
 */
export function parentPid(pid: number, recorded: number): number {
  const ppid = procStat(pid)?.ppid;
  if (ppid !== undefined && Number.isInteger(ppid)) return ppid;
  return processAlive(recorded) ? recorded : 1;
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
