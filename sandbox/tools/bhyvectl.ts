/**
 * bhyvectl(8): `--vm=NAME` with `--create`, `--destroy`, `--force-poweroff`, `--force-reset`,
 * `--get-active-cpus`, `--get-debug-cpus` (print_cpus(): "active cpus:" or "debug cpus:", a tab,
 * then " 0, 1" or " (none)"; in that order when both are asked).
 * Only `--create` loads vmm.ko (through vm_create()); any other call on a VM that does not exist
 * prints `vm_open: NAME could not be opened: …` and exits 1.
 * Destroying a VM releases its wired memory and its passthrough devices; a bhyve still running on
 * it fails. Powering off or resetting a running VM makes its bhyve exit 1 or 0.
 */
import { loadVmm } from "../kernel.js";
import { CONTROL_SIGNAL, machineProfile, updateMachine } from "../machine.js";
import { createVm, destroyVm, runningPid } from "../vm.js";
import { STRERROR, type ToolIO } from "./tool.js";

const USAGE = "Usage: bhyvectl --vm=<vmname>\n       [--create]\n       [--destroy]\n       [--force-reset]\n       [--force-poweroff]\n       [--get-active-cpus]\n       [--get-debug-cpus]\n";
const ACTIONS = ["create", "destroy", "force-poweroff", "force-reset", "get-active-cpus", "get-debug-cpus"] as const;

/** Runs the simulated bhyvectl. */
export function bhyvectl(io: ToolIO): number {
  let name: string | undefined;
  const actions = new Set<(typeof ACTIONS)[number]>();
  for (const a of io.args) {
    const vm = /^--vm=(.+)$/.exec(a);
    if (vm) name = vm[1];
    else if ((ACTIONS as readonly string[]).includes(a.replace(/^--/, "")) && a.startsWith("--")) actions.add(a.slice(2) as (typeof ACTIONS)[number]);
    else {
      io.err(`bhyvectl: unrecognized option '${a}'\n${USAGE}`);
      return 1;
    }
  }
  if (!name) {
    io.err(USAGE);
    return 1;
  }
  const vmName = name;
  const now = new Date().toISOString();
  const result = updateMachine(io.root, (m): { status: number; out?: string; err?: string; signal?: number } => {
    // Only --create goes through vm_create(), which loads vmm.ko when it is missing; anything else
    // opens /dev/vmm/NAME, which does not exist then.
    const openFailed = { status: 1, err: `vm_open: ${vmName} could not be opened: ${STRERROR.ENOENT}\n` };
    if (!m.vmmLoaded && (!actions.has("create") || !loadVmm(m, machineProfile(m)).ok)) return openFailed;
    let createFailed = false;
    if (actions.has("create")) {
      if (m.vms[vmName]) createFailed = true;
      else createVm(io.root, m, vmName, now);
    }
    const vm = m.vms[vmName];
    if (!vm) return openFailed;
    if (createFailed) return { status: 255, out: "errno = 17\n" };
    const pid = runningPid(vm);
    if (actions.has("force-poweroff") || actions.has("force-reset")) {
      if (pid !== null) {
        vm.request = actions.has("force-reset") ? "reboot" : "poweroff";
        return { status: 0, signal: pid };
      }
    }
    // bhyvectl prints what it reads before it destroys (the --destroy comes last in its main()).
    const set = (label: string, cpus: number[] = []): string => `${label}:\t${cpus.length ? cpus.map((c, i) => `${i ? ", " : " "}${c}`).join("") : " (none)"}\n`;
    const out = (actions.has("get-active-cpus") ? set("active cpus", vm.activeCpus) : "") + (actions.has("get-debug-cpus") ? set("debug cpus", vm.debugCpus) : "") || undefined;
    if (actions.has("destroy")) {
      destroyVm(io.root, m, vmName);
      return { status: 0, ...(out ? { out } : {}), ...(pid !== null ? { signal: pid } : {}) };
    }
    return { status: 0, ...(out ? { out } : {}) };
  });
  if (result.signal !== undefined) {
    try {
      process.kill(result.signal, CONTROL_SIGNAL);
    } catch {
      // it exited meanwhile
    }
  }
  if (result.out) io.out(result.out);
  if (result.err) io.err(result.err);
  return result.status;
}
