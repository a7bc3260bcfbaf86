/**
 * Sandbox hosts as a whole: create one from a profile, reboot it, make a guest exit, destroy it.
 * A sandbox host is a directory laid out like a FreeBSD root whose tools are simulators.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { boot } from "./kernel.js";
import { CONTROL_SIGNAL, GUEST_ACTIONS, initMachine, machineProfile, PAGE_SIZE, processAlive, readMachine, sandboxPaths, updateMachine, type GuestAction, type MachineState } from "./machine.js";
import { isZombie } from "../agent/host/pid-lock.js";
import { dmesgBootText } from "./output.js";
import { findProfile, PROFILES, type Profile } from "./profiles.js";
import { TOOL_PATHS } from "./tool-paths.js";
import { distFile, packageRoot } from "../agent/package-files.js";
import { DEFAULT_NET, nicInterfaces, storageNodes, type SandboxNet } from "./host-view.js";
import { liveRunners, runningPid } from "./vm.js";
import { vmBhyveBoot } from "./vm-bhyve.js";
import { initialPool, syncZvolNode } from "./zfs-pool.js";
import { AgentError } from "../agent/model/errors.js";

/** The loader.conf a fresh FreeBSD install with a ZFS root has (bsdinstall writes it). */
export const STOCK_LOADER_CONF = 'kern.geom.label.disk_ident.enable="0"\nkern.geom.label.gptid.enable="0"\ncryptodev_load="YES"\nzfs_load="YES"\n';

/** The loader.conf a profile's host is installed with: the stock one, plus `boot_verbose="YES"` on a profile that boots verbose. */
export function installedLoaderConf(p: Profile): string {
  return p.bootVerbose ? `${STOCK_LOADER_CONF}boot_verbose="YES"\n` : STOCK_LOADER_CONF;
}

/** Disk volumes every sandbox host has, under dev/zvol/zroot/vm/. */
export const SANDBOX_VOLUMES = ["ml1", "fw1", "web1", "db1", "disk0", "disk1", "disk2", "disk3"];

/** UEFI firmware files as the edk2-bhyve package installs them. */
export const FIRMWARE_DIR = "usr/local/share/uefi-firmware";

/** The bundled simulator script: beside this bundle in dist/, or dist/ of the repository when run from source. */
export function defaultToolScript(): string {
  return distFile("sandbox-tool.mjs");
}

/**
 * The #! interpreter that hands a tool run to the host's tool server when one listens
 * (sandbox/tool-server.ts), built by npm install from native/sandbox/tool-client.c; null when it
 * was not built (the tools then run in a node of their own, as they always can).
 */
export function defaultToolClient(): string | null {
  const path = join(packageRoot(), "native", "sandbox", "build", "Release", "sandbox-tool-client");
  return existsSync(path) ? path : null;
}

/** Options for {@link createSandbox}. */
export interface CreateOptions {
  /** The simulator bundle; default {@link defaultToolScript}. */
  readonly toolScript?: string;
  /** The node executable the tools run with; default this process's. */
  readonly node?: string;
  /** The tool client ({@link defaultToolClient} by default); null: the tools' #! line runs node itself. */
  readonly client?: string | null;
}

/** Lays out a sandbox host in `dir` (which must not exist or be empty) and boots it. */
export function createSandbox(dir: string, profileName: string, opts: CreateOptions = {}): MachineState {
  const profile = findProfile(profileName);
  if (!profile) throw new AgentError(`unknown profile "${profileName}"; profiles: ${PROFILES.map((p) => p.name).join(", ")}`, "E_PROFILE");
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new AgentError(`${root} exists and is not a directory`, "E_EXISTS");
  if (existsSync(root) && readdirSync(root).length > 0) throw new AgentError(`${root} exists and is not empty`, "E_EXISTS");
  const node = opts.node ?? process.execPath;
  const script = resolve(opts.toolScript ?? defaultToolScript());
  if (!existsSync(script)) throw new AgentError(`the simulator bundle ${script} is missing; run "npm run build"`, "E_NO_BUNDLE");
  const client = opts.client === undefined ? defaultToolClient() : opts.client;
  const direct = `#!${node} ${script}\n`;
  const viaClient = client ? `#!${client} ${node} ${script}\n` : null;
  const shebang = viaClient && viaClient.length <= 255 && !/\s/.test(client!) ? viaClient : direct;
  if (/\s/.test(node) || /\s/.test(script) || direct.length > 255) {
    throw new AgentError(`cannot write a #! line for ${node} and ${script} (white space, or over 255 characters)`, "E_SHEBANG");
  }
  for (const d of ["boot", "bin", "dev/vmm", "dev/zvol/zroot/vm", "var/run", "var/db", "var/log", FIRMWARE_DIR, "sbin", "usr/sbin", "usr/local/etc"]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const rel of Object.values(TOOL_PATHS)) {
    writeFileSync(join(root, rel), shebang);
    chmodSync(join(root, rel), 0o755);
  }
  const loaderConf = installedLoaderConf(profile);
  writeFileSync(join(root, "boot/loader.conf"), loaderConf);
  // The host's own disk, partitions, labels and swap zvols, as empty files standing in for devfs nodes.
  for (const node of storageNodes(profile)) {
    mkdirSync(dirname(join(root, "dev", node)), { recursive: true });
    writeFileSync(join(root, "dev", node), "");
  }
  for (const f of ["BHYVE_UEFI.fd", "BHYVE_UEFI_CODE.fd"]) {
    writeFileSync(join(root, FIRMWARE_DIR, f), `sandbox stand-in for edk2-bhyve ${f}\n`);
  }
  // The variables template has the package's size (128 KiB), which bhyve checks (4 KiB to 16 MiB).
  const vars = Buffer.alloc(128 * 1024);
  vars.write("sandbox stand-in for edk2-bhyve BHYVE_UEFI_VARS.fd\n");
  writeFileSync(join(root, FIRMWARE_DIR, "BHYVE_UEFI_VARS.fd"), vars);
  const freePages = Math.floor((profile.memoryBytes - 2 ** 30) / PAGE_SIZE);
  const m: MachineState = {
    profile: profile.name,
    bootCount: 0,
    bootedAt: "",
    kenv: {},
    modules: [],
    vmmLoaded: false,
    iommuInitialized: false,
    // vm_pageout's default: four fifths of the pages free at boot.
    maxUserWiredPages: Math.floor((4 * freePages) / 5),
    pci: profile.pci.map((f) => ({ ...f, driver: null, unit: 0, fixedDriver: null })),
    vms: {},
    messages: [],
    zfs: initialPool(profile, SANDBOX_VOLUMES, Math.floor(Date.now() / 1000)),
    // A profile whose management network is a lagg (and a vlan over it) is created with it, as `sandbox network` would set it.
    ...(profile.host.net ? { net: { ...DEFAULT_NET, lagg: [...profile.host.net.lagg], vlan: profile.host.net.vlan ?? null } } : {}),
  };
  boot(m, profile, loaderConf, new Date().toISOString());
  initMachine(root, m);
  for (const [name, ds] of Object.entries(m.zfs!.datasets)) syncZvolNode(root, name, ds);
  writeFileSync(sandboxPaths(root).dmesgBoot, dmesgBootText(m, profile));
  return m;
}

/**
 * Sets the sandbox host's own network: its management address (and prefix length), optionally
 * held by lagg0 or bridge0 over the NICs named, by a vlan over lagg0 or over the management NIC
 * (`vlan`: vlan100 over lagg0, em0.10 over em0), or by a WireGuard tunnel (`tunnel`: wg0). Test
 * hosts behind sshd set the address they listen on, so that the agent finds its management
 * connection on this host's NIC.
 */
export function setSandboxNetwork(root: string, net: SandboxNet): SandboxNet {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(net.address) || net.address.split(".").some((o) => Number(o) > 255)) throw new AgentError(`${net.address} is not an IPv4 address`, "E_NET");
  if (!Number.isInteger(net.prefix) || net.prefix < 1 || net.prefix > 32) throw new AgentError(`prefix ${net.prefix} is not 1-32`, "E_NET");
  if (net.lagg && net.bridge) throw new AgentError("use lagg0 or bridge0, not both", "E_NET");
  if (net.vlan !== undefined && net.vlan !== null && (!Number.isInteger(net.vlan) || net.vlan < 1 || net.vlan > 4094)) throw new AgentError(`vlan ${net.vlan} is not a tag from 1 to 4094`, "E_NET");
  if (net.vlan && net.bridge) throw new AgentError("a vlan sits on lagg0 or on the management NIC, not on bridge0", "E_NET");
  if (net.tunnel !== undefined && net.tunnel !== null && !/^wg\d+$/.test(net.tunnel)) throw new AgentError(`tunnel ${net.tunnel} is not a WireGuard interface name (wg0, wg1, ...)`, "E_NET");
  if (net.tunnel && (net.lagg || net.bridge || net.vlan)) throw new AgentError("a tunnel holds the address itself: no lagg, bridge or vlan with it", "E_NET");
  return updateMachine(root, (m) => {
    const nics = nicInterfaces(m).map((n) => n.name);
    const unknown = [...(net.lagg ?? []), ...(net.bridge ?? [])].filter((n) => !nics.includes(n));
    if (unknown.length) throw new AgentError(`no such NIC: ${unknown.join(", ")}; NICs: ${nics.join(", ")}`, "E_NET");
    m.net = net;
    return net;
  });
}

/** PIDs of the guest monitors that the agent runs for this sandbox (their pid files are inside its tree). */
export function monitorPids(root: string): number[] {
  const dir = join(root, "var/run/bhyve-agent/guests");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const f = join(dir, name, "monitor.pid");
    const pid = existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? [pid] : [];
  });
}

/** PIDs of the vm-bhyve supervisors (`vm _run NAME`, sandbox/vm-bhyve.ts) that run on this sandbox. */
export function vmRunnerPids(m: MachineState): number[] {
  return liveRunners(m).map((r) => r.pid);
}

/**
 * PIDs of every process the sandbox runs: guest monitors first and vm-bhyve supervisors next (so
 * that none restarts a guest), then bhyve processes.
 */
export function sandboxPids(root: string, m: MachineState): number[] {
  const bhyves = Object.values(m.vms).flatMap((vm) => {
    const pid = runningPid(vm);
    return pid === null ? [] : [pid];
  });
  return [...monitorPids(root), ...vmRunnerPids(m), ...bhyves];
}

/** True when the process is gone or only a zombie waiting for its parent. */
function gone(pid: number): boolean {
  // ps fails when the process vanished meanwhile: look again.
  return !processAlive(pid) || isZombie(pid) || !processAlive(pid);
}

async function killAndWait(pids: number[], timeoutMs = 5000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  // Poll asynchronously: when the processes are our own children, our event loop must run to reap them.
  while (pids.some((pid) => !gone(pid))) {
    if (Date.now() > deadline) throw new AgentError(`processes ${pids.filter((p) => !gone(p)).join(", ")} did not stop`, "E_STUCK");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Kills every process of the sandbox by PID: the guest monitors, then the vm-bhyve supervisors,
 * then the bhyves, with the bhyve a supervisor had just started (not yet recorded by the bhyve
 * itself) among them.
 */
async function stopAll(root: string): Promise<void> {
  await killAndWait(monitorPids(root));
  const before = readMachine(root);
  const starting = (before.vmRunners ?? []).flatMap((r) => (r.bhyvePid !== null && processAlive(r.pid) ? [r.bhyvePid] : []));
  await killAndWait(vmRunnerPids(before));
  await killAndWait([...new Set([...sandboxPids(root, readMachine(root)), ...starting])]);
}

/**
 * A reboot: every process of the host dies (monitors and vm-bhyve supervisors, then guests),
 * /dev/vmm empties, /var/run is cleaned (rc.d/cleanvar), loader.conf is read again (vmm_load,
 * pptdevs*, tunables); with vm_enable in rc.conf, rc.d/vm's `vm init` makes vm-bhyve's switches again.
 */
export async function rebootSandbox(dir: string): Promise<MachineState> {
  const root = resolve(dir);
  await stopAll(root);
  const varRun = join(root, "var/run");
  for (const f of readdirSync(varRun)) rmSync(join(varRun, f), { recursive: true, force: true });
  const loaderConf = existsSync(sandboxPaths(root).loaderConf) ? readFileSync(sandboxPaths(root).loaderConf, "utf8") : "";
  updateMachine(root, (mm) => {
    boot(mm, machineProfile(mm), loaderConf, new Date().toISOString());
    delete mm.vmRunners;
  });
  const devVmm = sandboxPaths(root).devVmm;
  for (const f of readdirSync(devVmm)) rmSync(join(devVmm, f), { force: true });
  // rc.d/vm at boot; its failure (printed on the console, which the sandbox does not keep) does not stop the boot.
  vmBhyveBoot(root);
  const m = readMachine(root);
  // The pool is imported again: every volume's node is there as devfs makes it at boot.
  for (const [name, ds] of Object.entries(m.zfs?.datasets ?? {})) syncZvolNode(root, name, ds);
  writeFileSync(sandboxPaths(root).dmesgBoot, dmesgBootText(m, machineProfile(m)));
  return m;
}

/** Makes a running sandbox guest exit as bhyve does for `action`; resolves with its exit code. */
export async function guestAction(dir: string, name: string, action: GuestAction, timeoutMs = 60_000): Promise<number> {
  const root = resolve(dir);
  const pid = updateMachine(root, (m) => {
    const vm = m.vms[name];
    const running = vm ? runningPid(vm) : null;
    if (!vm || running === null) throw new AgentError(`guest ${name} is not running on ${root}`, "E_NOT_RUNNING");
    vm.request = action;
    return running;
  });
  process.kill(pid, CONTROL_SIGNAL);
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new AgentError(`guest ${name} (pid ${pid}) did not exit within ${timeoutMs} ms`, "E_STUCK");
    await new Promise((r) => setTimeout(r, 10));
  }
  return GUEST_ACTIONS[action];
}

/** Makes a running guest ignore the ACPI power button, as a guest without ACPI support does. */
export function ignoreAcpi(dir: string, name: string): void {
  updateMachine(resolve(dir), (m) => {
    const vm = m.vms[name];
    if (!vm || runningPid(vm) === null) throw new AgentError(`guest ${name} is not running on ${resolve(dir)}`, "E_NOT_RUNNING");
    vm.ignoresAcpi = true;
  });
}

/** Stops every process of the sandbox, by PID, and removes its tree. Refuses a directory that is not a sandbox. */
export async function destroySandbox(dir: string): Promise<void> {
  const root = resolve(dir);
  if (!existsSync(sandboxPaths(root).state)) throw new AgentError(`${root} is not a sandbox host; not removing it`, "E_NOT_SANDBOX");
  await stopAll(root);
  rmSync(root, { recursive: true, force: true });
}
