/**
 * bhyveload(8), as bhyveload.c does it: options first (`-d` opens each disk as it is parsed, and
 * one that cannot be opened is `Could not open '%s'`, exit 64; `-d` is optional, as a guest can be
 * loaded from the host with -h), then vm_create() (loading vmm.ko if needed); a VM that already
 * exists is reinitialised (vm_reinit(): busy while a bhyve runs it; it releases the VM's
 * passthrough devices and keeps its memory), then its memory is set up (`-S` wires it, counted
 * against vm.max_user_wired) and must match what it already has. `-c` takes the loader's console
 * (an nmdm A side here).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadVmm } from "../kernel.js";
import { machineProfile, updateMachine } from "../machine.js";
import { createVm, parseMemsize, runningPid, setupMemory } from "../vm.js";
import { getopt, getoptComplaint, STRERROR, type ToolIO } from "./tool.js";

const USAGE = "usage: bhyveload [-S][-c <console-device>] [-d <disk-path>] [-e <name=value>]\n                 [-h <host-path>] [-m memsize[K|k|M|m|G|g|T|t]] <vmname>\n";

/** Runs the simulated bhyveload. */
export function bhyveload(io: ToolIO): number {
  const g = getopt(io.args, "CSc:d:e:h:l:m:");
  if ("bad" in g) {
    io.err(getoptComplaint("bhyveload", g) + USAGE);
    return 1;
  }
  let wired = false;
  let memory = 256 * 2 ** 20;
  // getopt order: each option is acted on as it is met.
  for (const [o, v] of g.opts) {
    if (o === "S") wired = true;
    // altcons_open(): the console device is a terminal opened read-write; an nmdm(4) A side comes
    // into being as it is opened (the sandbox has nothing else a loader could talk on).
    else if (o === "c" && !/^\/dev\/nmdm[^/]*A$/.test(v)) {
      io.err(`bhyveload: Could not open '${v}'\n`);
      return 64;
    } else if (o === "d" && !existsSync(join(io.root, v))) {
      io.err(`bhyveload: Could not open '${v}'\n`);
      return 64;
    } else if (o === "m") {
      const b = parseMemsize(v);
      if (b === null) {
        io.err(`bhyveload: Invalid memsize '${v}'\n`);
        return 64;
      }
      memory = b;
    }
  }
  if (g.operands.length !== 1) {
    io.err(USAGE);
    return 1;
  }
  const name = g.operands[0]!;
  const now = new Date().toISOString();
  const err = updateMachine(io.root, (m): string | null => {
    const profile = machineProfile(m);
    if (!m.vmmLoaded && !loadVmm(m, profile).ok) return `vm_create: ${STRERROR.ENOENT}`;
    let vm = m.vms[name];
    if (vm) {
      if (runningPid(vm)) return `vm_reinit: ${STRERROR.EBUSY}`;
      // vm_reinit() → vm_cleanup() → ppt_unassign_all(): the devices go back to ppt, unowned.
      vm.ppt = [];
    } else {
      vm = createVm(io.root, m, name, now);
    }
    const e = setupMemory(m, vm, memory, wired, profile.memoryBytes);
    return e ? `vm_setup_memory: ${STRERROR[e]}` : null;
  });
  if (err) {
    io.err(`${err}\n`);
    return 1;
  }
  return 0;
}
