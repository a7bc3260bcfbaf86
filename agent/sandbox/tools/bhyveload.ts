/**
 * bhyveload(8): creates the VM if needed, sets its memory up (`-S` wires it, counted against
 * vm.max_user_wired) and loads the guest kernel from the disk given with -d, which must exist.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadVmm } from "../kernel.js";
import { machineProfile, updateMachine } from "../machine.js";
import { createVm, parseMemsize, runningPid, setupMemory } from "../vm.js";
import { getopt, getoptComplaint, STRERROR, type ToolIO } from "./tool.js";

const USAGE = "usage: bhyveload [-S][-c <console-device>] [-d <disk-path>] [-e <name=value>]\n\t\t [-h <host-path>] [-m memsize[K|k|M|m|G|g|T|t]] <vmname>\n";

/** Runs the simulated bhyveload. */
export function bhyveload(io: ToolIO): number {
  const g = getopt(io.args, "Sc:d:e:h:l:m:C:");
  if ("bad" in g || g.operands.length !== 1) {
    io.err(("bad" in g ? getoptComplaint("bhyveload", g) : "") + USAGE);
    return 1;
  }
  const name = g.operands[0]!;
  const opts = g.opts;
  const wired = opts.some(([o]) => o === "S");
  const mem = opts.filter(([o]) => o === "m").at(-1)?.[1];
  const memory = mem === undefined ? 256 * 2 ** 20 : parseMemsize(mem);
  if (memory === null) {
    io.err(`bhyveload: Invalid memsize '${mem}'\n`);
    return 1;
  }
  const disks = opts.filter(([o]) => o === "d").map(([, v]) => v);
  for (const d of disks) {
    if (!existsSync(join(io.root, d))) {
      io.err(`bhyveload: Could not open backing file: ${d}: ${STRERROR.ENOENT}\n`);
      return 1;
    }
  }
  if (disks.length === 0) {
    io.err("bhyveload: no disk to load from (-d)\n");
    return 1;
  }
  const now = new Date().toISOString();
  const err = updateMachine(io.root, (m): string | null => {
    if (!m.vmmLoaded && !loadVmm(m, machineProfile(m)).ok) return `vm_create: ${STRERROR.ENOENT}`;
    const vm = m.vms[name] ?? createVm(io.root, m, name, now);
    if (runningPid(vm)) return `vm_setup_memory: ${STRERROR.EBUSY}`;
    const e = setupMemory(m, vm, memory, wired);
    return e ? `vm_setup_memory: ${STRERROR[e]}` : null;
  });
  if (err) {
    io.err(`${err}\n`);
    return 1;
  }
  return 0;
}
