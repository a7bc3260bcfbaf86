/**
 * bhyve(8), as far as the agent relies on it. Parses the options we use (getopt, `-s` slot
 * syntax), then does what bhyverun.c does in order: create or reopen the VM (`virtual machine
 * cannot be booted` when there is neither a bootrom nor a VM set up by bhyveload), set up memory
 * (wired memory counts against vm.max_user_wired), initialise devices in slot order (passthru
 * needs -S and a device owned by ppt with a usable IOMMU, block devices need their backing file,
 * the bootrom must exist and needs unrestricted guest), then "runs" the guest: the process stays
 * until SIGTERM (ACPI power button: the guest powers off, exit 1) or a control request, and the VM
 * stays in the kernel after it exits. Exit codes per bhyve(8): 0 reboot, 1 poweroff, 2 halt,
 * 3 triple fault, 4 error; 71 when vm_set_topology() refuses the vCPU count; a VM destroyed under
 * it gives 1 on 13.x/14.x and 4 on 15.
 */
import { ReadStream } from "node:tty";
import { existsSync, lstatSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { loadNativeProbe } from "../../agent/host/native.js";
import { join } from "node:path";
import { bsf, devclassOf, iommuState, isEndpoint, loadVmm } from "../kernel.js";
import { CONTROL_SIGNAL, GUEST_ACTIONS, machineProfile, PAGE_SIZE, readMachine, updateMachine, type MachineState, type MachineVm } from "../machine.js";
import { createVm, destroyVm, parseMemsize, runningPid, setupMemory } from "../vm.js";
import { closeTaps, openTap } from "../net-ifaces.js";
import { getopt, STRERROR, type ToolIO } from "./tool.js";
import { parseFbufConfig, startRfbServer, type FbufConfig, type RfbServer } from "../fbuf.js";

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

/** sscanf("%d") at the start of `text`: optional white space and sign, then digits; null when none. */
function scanInt(text: string): { value: number; rest: string } | null {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? { value: Number(m[1]), rest: text.slice(m[0].length) } : null;
}

/** How many of sscanf(text, "%d:%d:%d")'s conversions succeed (up to `n`), and their values. */
function scanColonInts(text: string, n: number): number[] {
  const out: number[] = [];
  let rest = text;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      if (!rest.startsWith(":")) break;
      rest = rest.slice(1);
    }
    const v = scanInt(rest);
    if (!v) break;
    out.push(v.value);
    rest = v.rest;
  }
  return out;
}

/**
 * pci_parse_slot() (pci_emul.c): `slot[:func],emul[,conf]` or `bus:slot:func,emul[,conf]`, read
 * with sscanf as bhyve does ("4x" is slot 4, "1:2:3:9" is 1:2:3); a missing emulation or a bus,
 * slot or function out of range is pci_parse_slot_usage()'s `Invalid PCI slot info field`.
 */
function parseSlot(arg: string): SlotSpec | string {
  const usage = `Invalid PCI slot info field "${arg}"`;
  const comma = arg.indexOf(",");
  if (comma < 0) return usage;
  const where = arg.slice(0, comma);
  const [emul = "", ...conf] = arg.slice(comma + 1).split(",");
  let [bus, slot, func] = [0, -1, 0];
  const three = scanColonInts(where, 3);
  if (three.length === 3) [bus, slot, func] = three as [number, number, number];
  else {
    const two = scanColonInts(where, 2);
    if (two.length === 2) [slot, func] = two as [number, number];
    else if (two.length === 1) slot = two[0]!;
  }
  if (bus < 0 || bus >= 256 || slot < 0 || slot >= 32 || func < 0 || func >= 8) return usage;
  return { bus, slot, func, emul, conf };
}

/**
 * passthru_legacy_config() at `-s` parse time: 14+ takes `pptN`, `pci0:B:S:F`, `pciB:S:F` or
 * `B/S/F` (sscanf, so a prefix that scans is enough; `,rom=` and other key=value options follow);
 * 13.x takes `B/S/F` only. Returns the complaint, or null when the options parse.
 */
function passthruOptionsError(conf: string[], major: number): string | null {
  if (conf.length === 0) return null;
  const opts = conf.join(",");
  const num = "\\s*[+-]?\\d+";
  const bsf = new RegExp(`^${num}/${num}/${num}`);
  const ok = major >= 14
    ? opts.startsWith("ppt") || new RegExp(`^pci0:${num}:${num}:${num}`).test(opts) || new RegExp(`^pci${num}:${num}:${num}`).test(opts) || bsf.test(opts)
    : bsf.test(opts);
  return ok ? null : `passthru: invalid options "${opts}"`;
}

/** The host device of a passthru option that parsed: `pptN` is looked up (PCIOCGETCONF by name and unit). */
function passthruDevice(m: MachineState, conf: string[]): { bus: number; slot: number; function: number } | string {
  const dev = conf[0] ?? "";
  if (dev.startsWith("ppt")) {
    const mm = /^(.*?)(\d+)$/.exec(dev);
    if (!mm || mm[1] === "") return `Invalid passthru device name ${dev}`;
    const f = m.pci.find((x) => devclassOf(x) === mm[1] && x.unit === Number(mm[2]));
    return f ?? `Passthru device ${dev} not found`;
  }
  const n = /([+-]?\d+)\D+([+-]?\d+)\D+([+-]?\d+)/.exec(dev.replace(/^pci0:(?=\d+:\d+:\d+)/, "").replace(/^pci/, ""))!;
  return { bus: Number(n[1]), slot: Number(n[2]), function: Number(n[3]) };
}

/** ether_aton() and net_parsemac(): six hex octets with colons, neither multicast nor all zero. */
function macError(conf: string[]): string | null {
  const mac = conf.find((c) => c.startsWith("mac="))?.slice(4);
  if (mac === undefined) return null;
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(mac);
  const octets = m ? m.slice(1).map((x) => parseInt(x, 16)) : null;
  if (!octets || (octets[0]! & 1) === 1 || octets.every((o) => o === 0)) return `Invalid MAC ${mac}`;
  return null;
}

type Setup = { ok: true; name: string; destroyOnPoweroff: boolean; destroyedExit: number; vcpus: number[]; com1?: string } | { ok: false; status: number; message: string; abort?: true };

/** The framebuffer's VNC server, bound before the setup (rfb_init() runs in the fbuf's init): the server, or bind(2)'s errno. */
type FbufBinding = { server: RfbServer } | { errno: keyof typeof STRERROR } | null;

/** The config of the first `-s ...,fbuf,...` of a command line (null: none). */
function fbufSlotConfig(args: readonly string[]): string[] | null {
  for (let i = 0; i < args.length; i++) {
    const v = args[i] === "-s" ? args[i + 1] : args[i]!.startsWith("-s") ? args[i]!.slice(2) : undefined;
    if (v === undefined) continue;
    const s = parseSlot(v);
    if (typeof s !== "string" && s.emul === "fbuf") return s.conf;
  }
  return null;
}

/**
 * Validates the command line and sets the VM up, all in one change of the machine state, in the
 * order bhyverun.c does it. Where releases differ (profile `release`): 13.x and 14.x create the
 * VM before they look for a bootrom (`virtual machine cannot be booted`, the VM stays), 15 opens it
 * with vm_openf() and creates none without one (`bhyve: no bootrom was configured`); a device
 * that fails to initialise is followed by `device emulation initialization error: …` (13.x,
 * perror) or `Device emulation initialization error: …` (14+); a VM destroyed under the running
 * bhyve makes it exit 1 (13.x, 14.x: vm_loop() returns into `exit(1)`) or 4 (15).
 */
/** The vCPUs as bhyve leaves them once through its start: all activated, the boot vCPU running, the APs suspended (the debug set) until the guest starts them. */
function activateCpus(vm: MachineVm, vcpus: readonly number[]): void {
  vm.activeCpus = [...vcpus];
  vm.debugCpus = vcpus.slice(1);
}

/** bhyve's start up to its vCPUs; `held`: a framebuffer with `wait` holds the start in its init (the vCPUs are activated once a viewer connects, see bhyve()). */
function setUp(io: ToolIO, fbuf: FbufBinding, held: boolean): Setup {
  const g = getopt(io.args, "aehuwxACDHIPSWYk:f:o:p:G:c:s:m:l:K:U:r:");
  if ("bad" in g) return { ok: false, status: 1, message: `bhyve: ${g.missingArg ? "option requires an argument" : "illegal option"} -- ${g.bad}\n${USAGE}` };
  if (g.opts.some(([o]) => o === "h")) return { ok: false, status: 0, message: USAGE };
  if (g.operands.length !== 1) return { ok: false, status: 1, message: USAGE };
  const { major } = machineProfile(readMachine(io.root)).release;
  const name = g.operands[0]!;
  let memory = 256 * 2 ** 20;
  let cpus = 1;
  let wired = false;
  let destroyOnPoweroff = false;
  let bootrom: string | undefined;
  let bootvars: string | undefined;
  let com1: string | undefined;
  let uuid: string | undefined;
  const pins: Array<{ vcpu: number; hostCpu: number }> = [];
  const slots: SlotSpec[] = [];
  for (const [o, v] of g.opts) {
    if (o === "S") wired = true;
    else if (o === "D") destroyOnPoweroff = true;
    else if (o === "m") {
      const b = parseMemsize(v);
      if (b === null) return { ok: false, status: 64, message: `bhyve: invalid memsize '${v}'\n` };
      memory = b;
    } else if (o === "c") {
      // topology_parse(): only an unknown key is refused here (64); calc_topology() checks the
      // values and their product later (4). sockets defaults to the vCPU count, cores and threads to 1.
      const c = /^(?:cpus=)?(\d+)((?:,(?:sockets|cores|threads)=\d+)*)$/.exec(v);
      if (!c) return { ok: false, status: 64, message: `bhyve: invalid cpu topology '${v}'\n` };
      cpus = Number(c[1]);
      const kv = new Map(c[2]!.split(",").filter(Boolean).map((p) => p.split("=") as [string, string]));
      for (const [k, x] of kv) if (Number(x) < 1 || Number(x) > 65535) return { ok: false, status: 4, message: `bhyve: Invalid value for ${k}: '${x}'\n` };
      if (cpus < 1 || cpus > 65535) return { ok: false, status: 4, message: `bhyve: Invalid value for cpus: '${c[1]}'\n` };
      const [so, co, th] = [Number(kv.get("sockets") ?? cpus), Number(kv.get("cores") ?? 1), Number(kv.get("threads") ?? 1)];
      if (kv.size && so * co * th !== cpus) return { ok: false, status: 4, message: `bhyve: Topology (${so} sockets, ${co} cores, ${th} threads) does not match ${cpus} vCPUs\n` };
    } else if (o === "p") {
      // pincpu_parse(): "%d:%d"; a host CPU outside the cpuset (CPU_SETSIZE 1024) is refused (64).
      const m = /^(-?\d+):(-?\d+)/.exec(v);
      const bad = (why: string) => ({ ok: false as const, status: 64, message: `${why}\nbhyve: invalid vcpu pinning configuration '${v}'\n` });
      if (!m) return bad(`invalid format: ${v}`);
      if (Number(m[1]) < 0) return bad(`invalid vcpu '${m[1]}'`);
      if (Number(m[2]) < 0 || Number(m[2]) > 1023) return bad(`hostcpu '${m[2]}' outside valid range from 0 to 1023`);
      pins.push({ vcpu: Number(m[1]), hostCpu: Number(m[2]) });
    } else if (o === "U") {
      uuid = v;
    } else if (o === "l") {
      const [dev, path, third] = v.split(",");
      if (dev === "bootrom") {
        if (!path) return { ok: false, status: 64, message: "bhyve: invalid lpc device configuration 'bootrom'\n" };
        bootrom = path;
        // lpc_device_parse(): a third field without "=" is the variables file (lpc.bootvars).
        if (third !== undefined && !third.includes("=")) bootvars = third;
      } else if (!/^com[1-4]$/.test(dev ?? "")) {
        return { ok: false, status: 64, message: `bhyve: invalid lpc device configuration '${v}'\n` };
      } else if (dev === "com1" && path !== undefined && path !== "stdio") {
        // uart_tty_backend(): the path is a terminal opened O_RDWR; an nmdm A side is made on open.
        if (!/^\/dev\/nmdm[^/]*A$/.test(path)) return { ok: false, status: 4, message: `Unable to initialize backend '${path}' for LPC device com1\n` };
        com1 = path;
      }
    } else if (o === "s") {
      // pci_parse_slot(): every -s is checked here, before any VM exists (exit 4).
      const s = parseSlot(v);
      if (typeof s === "string") return { ok: false, status: 4, message: `${s}\n` };
      // The emulation is looked up before the slot's config node, as pci_parse_slot() does.
      if (!EMULATIONS.has(s.emul)) return { ok: false, status: 4, message: `pci slot ${s.bus}:${s.slot}:${s.func}: unknown device "${s.emul}"\n` };
      if (slots.some((x) => x.bus === s.bus && x.slot === s.slot && x.func === s.func)) {
        return { ok: false, status: 4, message: `pci slot ${s.bus}:${s.slot}:${s.func} already occupied!\n` };
      }
      const bad = s.emul === "passthru" ? passthruOptionsError(s.conf, major) : null;
      if (bad) return { ok: false, status: 4, message: `${bad}\n` };
      slots.push(s);
    }
  }
  slots.sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.func - b.func);
  // pci_emul_add_boot_device() (14.0 and later; 13.x keeps bootindex as an unknown option and ignores
  // it): a negative index, or one another device has, ends bhyve (4).
  if (major >= 14) {
    const boot = new Map<number, string>();
    for (const x of slots) {
      const opt = x.conf.find((c) => c.startsWith("bootindex="));
      if (!opt || !(BLOCK.has(x.emul) || x.emul === "passthru")) continue;
      const n = Number.parseInt(opt.slice("bootindex=".length), 10) || 0;
      const who = `${x.emul}@pci.${x.bus}.${x.slot}.${x.func}`;
      if (n < 0) return { ok: false, status: 4, message: `bhyve: Invalid bootindex ${n} for ${who}\n` };
      const other = boot.get(n);
      if (other) return { ok: false, status: 4, message: `bhyve: Could not set bootindex ${n} for ${who}. Bootindex already occupied by ${other}\n` };
      boot.set(n, who);
    }
  }

  const now = new Date().toISOString();
  return updateMachine(io.root, (m): Setup => {
    const profile = machineProfile(m);
    const fail = (message: string, status = 4): Setup => ({ ok: false, status, message });
    const trailer = (errno: keyof typeof STRERROR): string =>
      `${major >= 14 ? "Device" : "device"} emulation initialization error: ${STRERROR[errno]}\n`;
    const devFail = (message: string, errno: keyof typeof STRERROR): Setup => fail(`${message}\n${trailer(errno)}`);
    if (!m.vmmLoaded && !loadVmm(m, profile).ok) return fail(major >= 15 ? `bhyve: vm_openf: ${STRERROR.ENOENT}\n` : `vm_create: ${STRERROR.ENOENT}\n`);
    let vm = m.vms[name];
    if (vm) {
      if (runningPid(vm)) return fail(major >= 15 ? `bhyve: vm_openf: ${STRERROR.EBUSY}\n` : `vm_reinit: ${STRERROR.EBUSY}\n`);
      // With a bootrom an existing VM is reinitialised, which releases its passthrough devices
      // and deactivates its vCPUs.
      if (bootrom) vm.ppt = [];
      vm.activeCpus = [];
      vm.debugCpus = [];
    } else if (major >= 15) {
      if (!bootrom) return fail("bhyve: no bootrom was configured\n");
      vm = createVm(io.root, m, name, now);
    } else {
      vm = createVm(io.root, m, name, now);
      if (!bootrom) return fail("virtual machine cannot be booted\n");
    }
    // vm_set_topology(): sockets*cores*threads above hw.vmm.maxcpu is EINVAL (the VM stays).
    if (cpus > profile.cpu.ncpu) return fail("bhyve: vm_set_topology\n", 71);
    if (cpus > 1 && !profile.cpu.unrestrictedGuest) return fail(`${cpus} vCPUs requested but only 1 available\n`);
    const memErr = setupMemory(m, vm, memory, wired, profile.memoryBytes);
    if (memErr) return fail(`Unable to setup memory (${{ ENOMEM: 12, EINVAL: 22, EEXIST: 17 }[memErr]})\n`);
    if (bootrom && !existsSync(join(io.root, bootrom))) return fail(`Error opening bootrom "${bootrom}": ${STRERROR.ENOENT}\n`);
    // bootrom_loadrom(): the variables file is opened O_RDWR (it must exist; bhyve never makes it)
    // and mapped shared, so the guest's writes stay; its size must be 0 or 4 KiB to 16 MiB.
    if (bootrom && bootvars !== undefined) {
      const vars = join(io.root, bootvars);
      if (!existsSync(vars)) return fail(`Error opening bootrom variable file "${bootvars}": ${STRERROR.ENOENT}\n`);
      const size = statSync(vars).size;
      if (size !== 0 && (size < PAGE_SIZE || size > 16 * 2 ** 20)) return fail(`Invalid bootrom variable size ${size}\n`);
    }

    for (const s of slots) {
      if (s.emul === "passthru") {
        // errno after warnx() is whatever the last failed call left; EINVAL stands in for it.
        if (!wired) return devFail("bhyve: passthru requires guest memory to be wired", "EINVAL");
        if (s.conf.length === 0) return devFail("passthru: missing required bus setting", "EINVAL");
        const dev = passthruDevice(m, s.conf);
        if (typeof dev === "string") return devFail(dev, "ENOENT");
        const f = m.pci.find((x) => x.bus === dev.bus && x.slot === dev.slot && x.function === dev.function);
        const notPpt = `bhyve: PCI device at ${bsf(dev)} is not using the ppt(4) driver`;
        // vm_assign_pptdev(): ENOENT when ppt does not own it, EBUSY when another VM holds it, ENXIO when the IOMMU cannot be used.
        if (!f || f.driver !== "ppt" || !isEndpoint(f)) return devFail(notPpt, "ENOENT");
        const holder = Object.values(m.vms).find((other) => other !== vm && other.ppt.includes(bsf(f)));
        if (holder) return devFail(notPpt, "EBUSY");
        const iommu = iommuState(m, profile);
        if (!iommu.usable) {
          if (iommu.kernelMessage) m.messages.push(iommu.kernelMessage);
          return devFail(notPpt, "ENXIO");
        }
        const rom = major >= 14 ? s.conf.find((c) => c.startsWith("rom=")) : undefined;
        if (rom && !existsSync(join(io.root, rom.slice(4)))) return devFail(`bhyve: passthru_init_rom: can't open romfile "${rom.slice(4)}"`, "ENOENT");
        m.iommuInitialized = true;
        if (!vm.ppt.includes(bsf(f))) vm.ppt.push(bsf(f));
      } else if (s.emul === "virtio-net" || s.emul === "e1000") {
        const bad = macError(s.conf);
        if (bad) return devFail(bad, "EINVAL");
        // net_backends.c: a tap (or vmnet) backend opens /dev/NAME.
        const backend = s.conf[0] ?? "";
        if (/^(tap|vmnet)/.test(backend)) {
          const errno = openTap(m, backend, process.pid);
          if (errno) return devFail(`open of tap device /dev/${backend} failed`, errno);
        }
      } else if (BLOCK.has(s.emul)) {
        const path = s.conf[0];
        if (!path || !existsSync(join(io.root, path))) return devFail(`Could not open backing file: ${STRERROR.ENOENT}`, "ENOENT");
      } else if (s.emul === "fbuf") {
        // pci_fbuf_init(): one framebuffer per VM, its options, then rfb_init()'s bind.
        if (slots.filter((x) => x.emul === "fbuf").indexOf(s) > 0) return devFail("Only one frame buffer device is allowed.", "EINVAL");
        const cfg = parseFbufConfig(s.conf);
        if (typeof cfg === "string") return devFail(cfg, "EINVAL");
        if (fbuf && "errno" in fbuf) return devFail(`bind: ${STRERROR[fbuf.errno]}`, fbuf.errno);
      }
    }
    // smbios_build(), late in the start: a -U that uuid_from_string() cannot parse ends bhyve with
    // exit 4 (14, 15); 13.x asserts (SIGABRT). An empty one is the nil UUID.
    if (uuid !== undefined && uuid !== "" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
      return major >= 14 ? fail("", 4) : { ok: false, status: 134, message: "", abort: true };
    }
    // A vCPU pinned to a host CPU that does not exist: pthread_setaffinity_np() fails under an
    // assert() as the vCPU thread starts (every vCPU at launch on 14 and 15), SIGABRT. A pin of a
    // vCPU the guest does not have is ignored.
    if (pins.some((p) => p.vcpu < cpus && p.hostCpu >= profile.cpu.ncpu)) return { ok: false, status: 134, message: "", abort: true };
    if (bootrom && !profile.cpu.unrestrictedGuest) return fail("ROM boot failed: unrestricted guest capability not available\n");
    vm.process = { pid: process.pid, startedAt: now, argv: ["/usr/sbin/bhyve", ...io.args], ppid: process.ppid };
    vm.request = null;
    const vcpus = Array.from({ length: cpus }, (_, i) => i);
    if (!held) activateCpus(vm, vcpus);
    return { ok: true, name, destroyOnPoweroff, destroyedExit: major >= 15 ? 4 : 1, vcpus, ...(com1 ? { com1 } : {}) };
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
    closeTaps(m, process.pid);
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
  // The framebuffer's settings, read once: its VNC server is bound before the setup, and `wait` holds the boot.
  const fbufConfig = parseFbufConfigOf(io.args);
  const run = (fbuf: FbufBinding): number | Promise<number> => {
    const setup = setUp(io, fbuf, fbufConfig?.wait === true);
    const server = fbuf && "server" in fbuf ? fbuf.server : null;
    if (!setup.ok) {
      server?.close();
      process.off("SIGTERM", onTerm);
      process.off(CONTROL_SIGNAL, onControl);
      (setup.status === 0 ? io.out : io.err)(setup.message);
      if (setup.abort) {
        process.kill(process.pid, "SIGABRT");
        return new Promise<number>(() => {});
      }
      return setup.status;
    }
    const { name, destroyOnPoweroff, destroyedExit } = setup;
    process.title = `bhyve: ${name}`;
    // With `wait`, rfb_init() holds the start until a viewer connects: the guest boots after that.
    const booting = server && fbufConfig?.wait ? server.firstClient : Promise.resolve();
    if (server && fbufConfig?.wait) {
      void booting.then(() => updateMachine(io.root, (m) => {
        const vm = m.vms[name];
        if (vm?.process?.pid === process.pid) activateCpus(vm, setup.vcpus);
      }));
    }
    const console = setup.com1 ? serialConsole(io.root, setup.com1, name, readMachine(io.root), booting) : null;
    return new Promise<number>((resolve) => {
      const keepAlive = setInterval(() => {}, 1 << 30);
      let done = false;
      const finish = (code: number, message?: string): void => {
        if (done) return;
        done = true;
        console?.close();
        server?.close();
        clearInterval(keepAlive);
        if (message) io.err(message);
        recordExit(io.root, name, code, destroyOnPoweroff);
        resolve(code);
      };
      dispatch = (sig) => {
        const vm = readMachine(io.root).vms[name];
        if (sig === "SIGTERM") return vm?.ignoresAcpi ? undefined : finish(GUEST_ACTIONS.poweroff);
        // bhyvectl --destroy removes the VM under the running process: vm_run() fails (ENXIO), and
        // bhyve exits 1 (13.x, 14.x) or 4 (15).
        if (!vm || vm.request === "destroyed") finish(destroyedExit, "vm_run error -1, errno 6\n");
        else if (vm.request) finish(GUEST_ACTIONS[vm.request]);
      };
      for (const sig of early) dispatch(sig);
    });
  };
  // rfb_init() binds as the framebuffer initialises; the sandbox binds first (it cannot wait inside
  // the machine's state update) and reports a failure where bhyve would, in slot order.
  if (!fbufConfig) return run(null);
  return startRfbServer(fbufConfig).then(
    (server) => run({ server }),
    (err: NodeJS.ErrnoException) => run({ errno: (err.code && err.code in STRERROR ? err.code : "EADDRNOTAVAIL") as keyof typeof STRERROR }),
  );
}

/** The framebuffer settings of a command line, when it has an fbuf slot whose options parse. */
function parseFbufConfigOf(args: readonly string[]): FbufConfig | null {
  const conf = fbufSlotConfig(args);
  const cfg = conf === null ? null : parseFbufConfig(conf);
  return cfg === null || typeof cfg === "string" ? null : cfg;
}

/**
 * com1 on an nmdm(4) pair, as the sandbox stands in for it: a pseudo-terminal whose master this
 * bhyve holds (the guest's serial port) and whose terminal is the pair's B side, reached at the
 * B path under the sandbox root (a link, removed when this bhyve ends, as the pair's last user
 * going away destroys it). The guest writes a FreeBSD boot transcript naming the VM, then a
 * login prompt that echoes what is typed and asks again at each line.
 */
function serialConsole(root: string, aPath: string, name: string, m: MachineState, booting: Promise<void>): { close(): void } | null {
  const native = loadNativeProbe();
  if (!native.available) return null;
  const pt = native.probe.openpt();
  const bPath = join(root, `${aPath.slice(0, -1)}B`);
  rmSync(bPath, { force: true });
  symlinkSync(pt.path, bPath);
  const { osrelease } = machineProfile(m);
  const host = `${name}.sandbox`;
  let closed = false;
  const write = (text: string): void => {
    if (closed) return;
    try {
      writeSync(pt.fd, text);
    } catch {
      // nobody reads the B side yet, and the terminal's buffer is full: the output is lost, as on a real serial line
    }
  };
  let boot: NodeJS.Timeout | undefined;
  void booting.then(() => {
    if (closed) return;
    boot = setTimeout(() => {
      write(`Consoles: EFI console  \r\nBIOS drive C: is disk0\r\n\r\nFreeBSD/amd64 EFI loader, Revision 1.1\r\n`);
      write(`Booting...\r\nCopyright (c) 1992-2025 The FreeBSD Project.\r\nFreeBSD ${osrelease} GENERIC amd64\r\n`);
      write(`\r\nFreeBSD/amd64 (${host}) (ttyu0)\r\n\r\nlogin: `);
    }, 100);
  });
  let line = "";
  // The master is a terminal: read through the event loop (a tty handle), so that nothing blocks a
  // thread and the process can exit when bhyve ends.
  const input = new ReadStream(pt.fd);
  // The terminal's modes are the B side's (termios on a pty master applies to its slave): raw, so
  // that what the guest writes is not echoed back to it as if typed while nobody has opened B (an
  // nmdm(4) B side that is not open takes nothing; a reader that opens it sets its own modes).
  input.setRawMode(true);
  input.on("data", (d: Buffer | string) => {
    for (const ch of d.toString("latin1")) {
      if (ch === "\r" || ch === "\n") {
        write(line ? `\r\nPassword:\r\nLogin incorrect\r\nlogin: ` : "\r\nlogin: ");
        line = "";
      } else {
        line += ch;
        write(ch);
      }
    }
  });
  input.on("error", () => {});
  return {
    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(boot);
      input.destroy(); // closes the master: the pair goes away
      try {
        if (lstatSync(bPath).isSymbolicLink() && readlinkSync(bPath) === pt.path) unlinkSync(bPath);
      } catch {
        // gone
      }
    },
  };
}
