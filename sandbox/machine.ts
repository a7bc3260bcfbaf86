/**
 * The state of one sandbox host, in one JSON file inside its tree (`var/sandbox/machine.json`),
 * read and replaced atomically under a lock by every simulator.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processAlive, withLock } from "../agent/host/pid-lock.js";

export { processAlive };
import { findProfile, type Profile, type ProfilePciFunction } from "./profiles.js";

/** A PCI function as the running kernel has it now. */
export interface MachinePciFunction extends ProfilePciFunction {
  /** Attached driver now, or null. */
  driver: string | null;
  unit: number;
  /** A driver name forced with `devctl set driver` (kept until `clear driver`). */
  fixedDriver: string | null;
}

/** A VM that exists in the kernel (`/dev/vmm/NAME`), with or without a bhyve process. */
export interface MachineVm {
  name: string;
  createdAt: string;
  /** Memory set up by bhyveload or bhyve, bytes; 0 until then. */
  memoryBytes: number;
  wired: boolean;
  /** Devices assigned to the VM (B/S/F), held until the VM is destroyed or reinitialised. */
  ppt: string[];
  /**
   * The running bhyve process, if any; `ppid` is its parent when it started (ps reads the live
   * parent where /proc has it: a bhyve whose vm-bhyve runner was killed is reparented).
   */
  process: { pid: number; startedAt: string; argv: string[]; ppid?: number } | null;
  /** A control request for the running bhyve (reboot, poweroff, …), read by it on SIGUSR1. */
  request: GuestAction | "destroyed" | null;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  /**
   * The vCPUs the kernel has activated (vm_activate_cpu): all of them once bhyve is past its
   * initialisation; cleared when a bhyve reinitialises the VM, kept after bhyve exits (the VM
   * stays until it is destroyed). `bhyvectl --get-active-cpus` prints them.
   */
  activeCpus?: number[];
  /**
   * The vCPUs suspended by bhyve (vm_suspend_cpu: the debug set): the application processors once
   * bhyve is through its start (the guest starts them). `bhyvectl --get-debug-cpus` prints them.
   */
  debugCpus?: number[];
  /** The guest OS ignores the ACPI power button (SIGTERM to bhyve does nothing). */
  ignoresAcpi?: boolean;
}

/**
 * A vm-bhyve supervisor, `/bin/sh /usr/local/sbin/vm _run NAME` (sandbox/vm-bhyve.ts): shown by
 * ps, and stopped by PID with the sandbox (before the bhyves, so that none is started again).
 */
export interface MachineVmRunner {
  pid: number;
  /** Its parent when it started (ps reads the live one where /proc has it). */
  ppid: number;
  /** The guest it runs. */
  vm: string;
  startedAt: string;
  /** The bhyve it waits for now (null before the first and between runs), and that bhyve's argv as vm-bhyve built it (argv[0] `bhyve`). */
  bhyvePid: number | null;
  argv: string[] | null;
  /** vm-bhyve's run counter: 1, then one more per restart. */
  run: number;
}

/** How `sandbox guest` can make a running guest exit. */
export const GUEST_ACTIONS = { reboot: 0, poweroff: 1, halt: 2, "triple-fault": 3, crash: 4 } as const;
/** One of the keys of {@link GUEST_ACTIONS}. */
export type GuestAction = keyof typeof GUEST_ACTIONS;

/**
 * The signal that tells a sandbox bhyve to read its control request. Not SIGUSR1: Node answers
 * that one by starting its inspector when no handler is installed yet.
 */
export const CONTROL_SIGNAL = "SIGUSR2";

/** Everything the simulators share. */
export interface MachineState {
  profile: string;
  bootCount: number;
  bootedAt: string;
  /** Loader environment from loader.conf at the last boot (what kenv(1) would show). */
  kenv: Record<string, string>;
  /** Modules the loader loaded besides vmm (`NAME_load="YES"`), e.g. zfs, cryptodev. */
  modules: string[];
  vmmLoaded: boolean;
  iommuInitialized: boolean;
  /** `vm.max_user_wired`, in pages. */
  maxUserWiredPages: number;
  pci: MachinePciFunction[];
  vms: Record<string, MachineVm>;
  /** Kernel messages since boot (what dmesg(8) adds after dmesg.boot). */
  messages: string[];
  /** The host's own network (ifconfig, route); absent: {@link DEFAULT_NET}. */
  net?: SandboxNet;
  /** Interfaces cloned since boot (bridges, taps, vlans): sandbox/net-ifaces.ts. */
  ifaces?: Record<string, SandboxIface>;
  /** Runtime sysctls set since boot (net.link.tap.up_on_open, ...); the defaults are the tools'. */
  sysctl?: Record<string, string>;
  /** The ZFS pool (datasets and space); kept across reboots. Absent in a sandbox from before pools: made on first use. */
  zfs?: ZfsState;
  /** vm-bhyve supervisors started since boot (sandbox/vm-bhyve.ts); an entry stays when its process was killed (ps skips it). */
  vmRunners?: MachineVmRunner[];
}

import type { SandboxNet } from "./host-view.js";
import type { SandboxIface } from "./net-ifaces.js";
import type { ZfsState } from "./zfs-pool.js";
import { AgentError } from "../agent/model/errors.js";

/** Page size of the simulated amd64 host. */
export const PAGE_SIZE = 4096;

/** Paths inside a sandbox tree. */
export function sandboxPaths(root: string) {
  const dir = join(root, "var/sandbox");
  return {
    dir,
    state: join(dir, "machine.json"),
    lock: join(dir, "machine.lock"),
    loaderConf: join(root, "boot/loader.conf"),
    dmesgBoot: join(root, "var/run/dmesg.boot"),
    devVmm: join(root, "dev/vmm"),
  };
}

/** Reads the state; throws a clear error when `root` is not a sandbox. */
export function readMachine(root: string): MachineState {
  const { state } = sandboxPaths(root);
  if (!existsSync(state)) throw new AgentError(`${root} is not a sandbox host (no var/sandbox/machine.json)`, "E_NOT_SANDBOX");
  return JSON.parse(readFileSync(state, "utf8")) as MachineState;
}

/** The profile the machine was created from. */
export function machineProfile(m: MachineState): Profile {
  const p = findProfile(m.profile);
  if (!p) throw new Error(`unknown sandbox profile ${m.profile}`);
  return p;
}

function writeMachine(root: string, m: MachineState): void {
  const { state, dir } = sandboxPaths(root);
  mkdirSync(dir, { recursive: true });
  const tmp = `${state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(tmp, state);
}

/** Reads, changes and writes the state under the lock; returns what `change` returns. */
export function updateMachine<T>(root: string, change: (m: MachineState) => T): T {
  const { lock } = sandboxPaths(root);
  readMachine(root); // not a sandbox: refused before anything is created under `root`
  // A generous deadline: it bounds only a failure, and a busy machine must not meet it.
  return withLock(lock, () => {
    const m = readMachine(root);
    const result = change(m);
    writeMachine(root, m);
    return result;
  }, 60_000);
}

/** Writes a new state (sandbox creation). */
export function initMachine(root: string, m: MachineState): void {
  const { lock, dir } = sandboxPaths(root);
  mkdirSync(dir, { recursive: true });
  withLock(lock, () => writeMachine(root, m), 60_000);
}
