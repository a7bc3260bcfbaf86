/**
 * bhyve(8), as far as the agent relies on it. Parses the options we use (getopt, `-s` slot
 * syntax), then does what bhyverun.c does in order: create or reopen the VM (`virtual machine
 * cannot be booted` when there is neither a bootrom nor a VM set up by bhyveload), set up memory
 * (wired memory counts against vm.max_user_wired), initialise devices in slot order (passthru
 * needs -S and a device owned by ppt with a usable IOMMU, block devices need their backing file,
 * the bootrom must exist and needs unrestricted guest), then "runs" the guest: the process stays
 * until SIGTERM (ACPI power button: the guest powers off, exit 1) or a control request, and the VM
 * stays in the kernel after it exits. Exit codes per bhyve(8): 0 reboot, 1 poweroff, 2 halt,
 * 3 triple fault, 4 error.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { iommuState, isEndpoint, loadVmm, bsf } from "../kernel.js";
import { CONTROL_SIGNAL, GUEST_ACTIONS, machineProfile, readMachine, updateMachine, type MachineState } from "../machine.js";
import { createVm, destroyVm, parseMemsize, runningPid, setupMemory } from "../vm.js";
import { getopt, STRERROR, type ToolIO } from "./tool.js";

const USAGE = [
  "Usage: bhyve [-AaCDeHhPSuWwxY]",
  "       [-c [[cpus=]numcpus][,sockets=n][,cores=n][,threads=n]]",
  "       [-G port] [-k config_file] [-l lpc] [-m mem] [-o var=value]",
  "       [-p vcpu:hostcpu] [-r file] [-s pci] [-U uuid] vmname",
  "",
].join("\n");

const EMULATIONS = new Set([
  "hostbridge", "amd_hostbridge", "lpc", "passthru", "virtio-blk", "virtio-net", "virtio-rnd", "virtio-console",
  "virtio-scsi", "virtio-9p", "virtio-input", "nvme", "ahci", "ahci-hd", "ahci-cd", "e1000", "xhci", "fbuf", "uart", "hda",
]);
const BLOCK = new Set(["virtio-blk", "nvme", "ahci-hd", "ahci-cd"]);

interface SlotSpec {
  bus: number;
  slot: number;
  func: number;
  emul: string;
  conf: string[];
}

/** pci_parse_slot(): `slot[:func],emul[,conf]` or `bus:slot:func,emul[,conf]`. */
function parseSlot(arg: string): SlotSpec | string {
  const [where, emul, ...conf] = arg.split(",");
  if (!where || !emul) return `Invalid PCI slot info field "${arg}"`;
  const parts = where.split(":");
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) return `Invalid PCI slot info field "${arg}"`;
  const nums = parts.map(Number);
  const [bus, slot, func] = nums.length === 3 ? nums : [0, nums[0]!, nums[1] ?? 0];
  if (bus! > 255) return `Invalid PCI bus ${bus}`;
  if (slot! > 31) return `Invalid PCI slot ${slot}`;
  if (func! > 7) return `Invalid PCI function ${func}`;
  return { bus: bus!, slot: slot!, func: func!, emul, conf };
}

/** The host device of a passthru option: `B/S/F`, `pciB:S:F`, `pci0:B:S:F` (or `pptN`, looked up). */
function passthruDevice(m: MachineState, conf: string[]): { bus: number; slot: number; function: number } | string {
  const dev = conf[0] ?? "";
  let mm = /^(\d+)\/(\d+)\/(\d+)$/.exec(dev) ?? /^pci(?:0:)?(\d+):(\d+):(\d+)$/.exec(dev);
  if (mm) return { bus: Number(mm[1]), slot: Number(mm[2]), function: Number(mm[3]) };
  mm = /^ppt(\d+)$/.exec(dev);
  if (mm) {
    const f = m.pci.find((x) => x.driver === "ppt" && x.unit === Number(mm![1]));
    return f ?? `Passthru device ${dev} not found`;
  }
  return `Invalid passthru device name ${dev}`;
}

type Setup = { ok: true; name: string; destroyOnPoweroff: boolean } | { ok: false; status: number; message: string };

/** Validates the command line and sets the VM up, all in one change of the machine state. */
function setUp(io: ToolIO): Setup {
  const g = getopt(io.args, "aehuwxACDHIPSWYk:f:o:p:G:c:s:m:l:K:U:r:");
  if ("bad" in g) return { ok: false, status: 1, message: `bhyve: ${g.missingArg ? "option requires an argument" : "illegal option"} -- ${g.bad}\n${USAGE}` };
  if (g.opts.some(([o]) => o === "h")) return { ok: false, status: 0, message: USAGE };
  if (g.operands.length !== 1) return { ok: false, status: 1, message: USAGE };
  const name = g.operands[0]!;
  let memory = 256 * 2 ** 20;
  let cpus = 1;
  let wired = false;
  let destroyOnPoweroff = false;
  let bootrom: string | undefined;
  const slots: SlotSpec[] = [];
  for (const [o, v] of g.opts) {
    if (o === "S") wired = true;
    else if (o === "D") destroyOnPoweroff = true;
    else if (o === "m") {
      const b = parseMemsize(v);
      if (b === null) return { ok: false, status: 64, message: `bhyve: invalid memsize '${v}'\n` };
      memory = b;
    } else if (o === "c") {
      const c = /^(?:cpus=)?(\d+)(?:,(?:sockets|cores|threads)=\d+)*$/.exec(v);
      if (!c || Number(c[1]) < 1) return { ok: false, status: 64, message: `bhyve: invalid cpu topology '${v}'\n` };
      cpus = Number(c[1]);
    } else if (o === "l") {
      const [dev, path] = v.split(",");
      if (dev === "bootrom") {
        if (!path) return { ok: false, status: 64, message: "bhyve: invalid lpc device configuration 'bootrom'\n" };
        bootrom = path;
      } else if (!/^com[1-4]$/.test(dev ?? "")) {
        return { ok: false, status: 64, message: `bhyve: invalid lpc device configuration '${v}'\n` };
      }
    } else if (o === "s") {
      const s = parseSlot(v);
      if (typeof s === "string") return { ok: false, status: 4, message: `${s}\n` };
      if (slots.some((x) => x.bus === s.bus && x.slot === s.slot && x.func === s.func)) {
        return { ok: false, status: 4, message: `pci slot ${s.bus}:${s.slot}:${s.func} already occupied!\n` };
      }
      slots.push(s);
    }
  }
  slots.sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.func - b.func);

  const now = new Date().toISOString();
  return updateMachine(io.root, (m): Setup => {
    const profile = machineProfile(m);
    const fail = (message: string): Setup => ({ ok: false, status: 4, message });
    if (!m.vmmLoaded && !loadVmm(m, profile).ok) return fail(`vm_create: ${STRERROR.ENOENT}\n`);
    if (cpus > profile.cpu.ncpu) return fail(`bhyve: invalid number of vCPUs ${cpus} (maximum ${profile.cpu.ncpu})\n`);
    let vm = m.vms[name];
    if (vm) {
      if (runningPid(vm)) return fail(`vm_reinit: ${STRERROR.EBUSY}\n`);
      // With a bootrom an existing VM is reinitialised, which releases its passthrough devices.
      if (bootrom) vm.ppt = [];
    } else {
      vm = createVm(io.root, m, name, now);
      if (!bootrom) return fail("virtual machine cannot be booted\n");
    }
    const memErr = setupMemory(m, vm, memory, wired);
    if (memErr) return fail(`Unable to setup memory (${{ ENOMEM: 12, EINVAL: 22, EEXIST: 17 }[memErr]})\n`);

    for (const s of slots) {
      if (!EMULATIONS.has(s.emul)) return fail(`pci slot ${s.bus}:${s.slot}:${s.func}: unknown device "${s.emul}"\n`);
      if (s.emul === "passthru") {
        if (!wired) return fail("passthru requires guest memory to be wired\n");
        const dev = passthruDevice(m, s.conf);
        if (typeof dev === "string") return fail(`${dev}\n`);
        const f = m.pci.find((x) => x.bus === dev.bus && x.slot === dev.slot && x.function === dev.function);
        const notPpt = `PCI device at ${bsf(dev)} is not using the ppt(4) driver\n`;
        if (!f || f.driver !== "ppt" || !isEndpoint(f)) return fail(notPpt);
        const holder = Object.values(m.vms).find((other) => other !== vm && other.ppt.includes(bsf(f)));
        if (holder) return fail(notPpt);
        const iommu = iommuState(m, profile);
        if (!iommu.usable) {
          if (iommu.kernelMessage) m.messages.push(iommu.kernelMessage);
          return fail(notPpt);
        }
        const rom = s.conf.find((c) => c.startsWith("rom="));
        if (rom && !existsSync(join(io.root, rom.slice(4)))) return fail(`passthru: can't open romfile "${rom.slice(4)}"\n`);
        m.iommuInitialized = true;
        if (!vm.ppt.includes(bsf(f))) vm.ppt.push(bsf(f));
      } else if (BLOCK.has(s.emul)) {
        const path = s.conf[0];
        if (!path || !existsSync(join(io.root, path))) {
          return fail(`Could not open backing file: ${STRERROR.ENOENT}\ndevice emulation initialization error: ${STRERROR.ENOENT}\n`);
        }
      } else if (s.emul === "lpc" && bootrom) {
        if (!existsSync(join(io.root, bootrom))) return fail(`Error opening bootrom "${bootrom}": ${STRERROR.ENOENT}\n`);
        if (!profile.cpu.unrestrictedGuest) return fail("ROM boot failed: unrestricted guest capability not available\n");
      }
    }
    vm.process = { pid: process.pid, startedAt: now, argv: ["/usr/sbin/bhyve", ...io.args] };
    vm.request = null;
    return { ok: true, name, destroyOnPoweroff };
  });
}

/** Records the exit in the machine state (and destroys the VM for -D on poweroff). */
function recordExit(root: string, name: string, code: number, destroyOnPoweroff: boolean): void {
  updateMachine(root, (m) => {
    const vm = m.vms[name];
    if (!vm || vm.process?.pid !== process.pid) return;
    vm.process = null;
    vm.request = null;
    vm.lastExit = { code, signal: null, at: new Date().toISOString() };
    if (destroyOnPoweroff && code === 1) destroyVm(root, m, name);
  });
}

/** Runs the simulated bhyve; resolves with its exit status once the guest stops. */
export function bhyve(io: ToolIO): number | Promise<number> {
  // The handlers go in before the VM is recorded as running and stay: a signal sent as soon as the
  // state shows the process must find them (SIGTERM's default action would kill us without an exit
  // status). Until the guest "runs", signals are only remembered.
  const early: string[] = [];
  let dispatch = (sig: string): void => void early.push(sig);
  const onTerm = (): void => dispatch("SIGTERM");
  const onControl = (): void => dispatch(CONTROL_SIGNAL);
  process.on("SIGTERM", onTerm);
  process.on(CONTROL_SIGNAL, onControl);
  const setup = setUp(io);
  if (!setup.ok) {
    process.off("SIGTERM", onTerm);
    process.off(CONTROL_SIGNAL, onControl);
    (setup.status === 0 ? io.out : io.err)(setup.message);
    return setup.status;
  }
  const { name, destroyOnPoweroff } = setup;
  process.title = `bhyve: ${name}`;
  return new Promise<number>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    let done = false;
    const finish = (code: number, message?: string): void => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      if (message) io.err(message);
      recordExit(io.root, name, code, destroyOnPoweroff);
      resolve(code);
    };
    dispatch = (sig) => {
      const vm = readMachine(io.root).vms[name];
      if (sig === "SIGTERM") return vm?.ignoresAcpi ? undefined : finish(GUEST_ACTIONS.poweroff);
      // bhyvectl --destroy removes the VM under the running process: its vCPUs fail (ENXIO).
      if (!vm || vm.request === "destroyed") finish(4, "vm_run error -1, errno 6\n");
      else if (vm.request) finish(GUEST_ACTIONS[vm.request]);
    };
    for (const sig of early) dispatch(sig);
  });
}
