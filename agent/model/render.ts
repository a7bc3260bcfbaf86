/**
 * What a desired state turns into on the host: the loader.conf settings the agent manages and the
 * argv of bhyve and bhyveload for each guest. Deterministic, so that a plan shows exactly the
 * command line that will run and a reviewer can read it.
 */
import { layoutGuest, type SlotEntry } from "./layout.js";
import { comparePciAddress, formatBsf, type PciAddress } from "./pci-address.js";
import { ProblemList } from "./problems.js";
import { formatSize } from "./size.js";
import type { DesiredState, Framebuffer, Guest, HostContext } from "./types.js";
import { problemsError } from "./errors.js";

/** Kernel environment values are limited to 128 characters (KENV_MVALLEN), see vmm(4). */
export const LOADER_VALUE_MAX = 128;
/** The only variables vmm_is_pptdev() reads, in order; there is no pptdevs4. */
export const PPTDEVS_VARIABLES = ["pptdevs", "pptdevs2", "pptdevs3"] as const;

/** Absolute tool paths, relative to the host root. */
export const BHYVE = "/usr/sbin/bhyve";
/** See {@link BHYVE}. */
export const BHYVELOAD = "/usr/sbin/bhyveload";

/**
 * Packs devices, in bus/slot/function order, into as few space-separated values of at most
 * {@link LOADER_VALUE_MAX} characters as possible. `fits` is false when more than three are needed.
 */
export function packPptdevs(devices: readonly PciAddress[]): { values: string[]; fits: boolean } {
  const values: string[] = [];
  let current = "";
  for (const token of [...devices].sort(comparePciAddress).map(formatBsf)) {
    if (current && current.length + 1 + token.length <= LOADER_VALUE_MAX) {
      current += ` ${token}`;
    } else {
      if (current) values.push(current);
      current = token;
    }
  }
  if (current) values.push(current);
  return { values, fits: values.length <= PPTDEVS_VARIABLES.length };
}

/**
 * The loader.conf variables the agent owns, in the order they are written: `vmm_load`, the
 * pptdevs variables that are needed, and `hw.vmm.amdvi.enable` when it is set explicitly or the
 * host is known to be AMD (the tunable defaults to 0, which blocks passthrough on AMD).
 */
export function renderLoaderConf(state: DesiredState, ctx: HostContext = {}): Array<[string, string]> {
  const out: Array<[string, string]> = [["vmm_load", state.host.vmmLoad ? "YES" : "NO"]];
  const { values, fits } = packPptdevs(state.ppt.map((p) => p.device));
  if (!fits) {
    throw problemsError([{ path: "ppt", message: `${state.ppt.length} devices do not fit in pptdevs, pptdevs2 and pptdevs3` }]);
  }
  values.forEach((v, i) => out.push([PPTDEVS_VARIABLES[i]!, v]));
  const amdvi = state.host.amdviEnable;
  if (amdvi === true || (amdvi === "auto" && ctx.cpuVendor === "amd")) out.push(["hw.vmm.amdvi.enable", "1"]);
  else if (amdvi === false) out.push(["hw.vmm.amdvi.enable", "0"]);
  return out;
}

/** The guest's devices in slot order; throws if the guest cannot be laid out (validation prevents that). */
export function guestSlots(guest: Guest): SlotEntry[] {
  const problems = new ProblemList();
  const entries = layoutGuest(guest, "guest", problems);
  if (!problems.empty) throw problemsError(problems.items);
  return entries;
}

function slotArg(e: SlotEntry): string {
  switch (e.kind) {
    case "passthru":
      return `${e.slot}:${e.function},passthru,${formatBsf(e.item.device)}${e.item.rom ? `,rom=${e.item.rom}` : ""}${e.item.bootindex !== undefined ? `,bootindex=${e.item.bootindex}` : ""}`;
    case "disk":
      return `${e.slot}:${e.function},${e.item.type},${e.item.path}${e.item.bootindex !== undefined ? `,bootindex=${e.item.bootindex}` : ""}`;
    case "nic":
      // A switch NIC renders its allocated tap; before the agent allocates one (`bhyve-agent render`
      // of a document) it shows as {switch:NAME}, which no host interface can be called.
      return `${e.slot}:${e.function},${e.item.model},${e.item.tap ?? `{switch:${e.item.switch}}`}${e.item.mac ? `,mac=${e.item.mac}` : ""}`;
    case "framebuffer":
      return `${e.slot}:0,fbuf,rfb=${rfbAddress(e.item)},w=${e.item.width},h=${e.item.height}${e.item.wait ? ",wait" : ""}`;
    case "tablet":
      return `${e.slot}:0,xhci,tablet`;
    case "seed":
      return `${e.slot}:0,ahci-cd,${e.item.path}`;
  }
}

/** What stands for a framebuffer's port before the agent has allocated it (`bhyve-agent render` of a document). */
export const VNC_PORT_PENDING = "{vnc-port}";

/** `rfb=`'s value: host and port as pci_fbuf parses it, an IPv6 address in brackets. */
export function rfbAddress(fb: Framebuffer): string {
  const host = fb.listen.includes(":") ? `[${fb.listen}]` : fb.listen;
  return `${host}:${fb.port ?? VNC_PORT_PENDING}`;
}

/** The framebuffer a bhyve argv serves (its rfb= address), as rendered here or as a running bhyve has it; null without one. */
export function framebufferOf(argv: readonly string[]): { host: string; port: number } | null {
  const fb = parseSlotArgs(argv).find((s) => s.kind === "fbuf");
  const rfb = fb?.config.find((c) => c.startsWith("rfb=") || c.startsWith("tcp="))?.slice(4);
  const m = rfb === undefined ? null : /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(rfb);
  return m ? { host: m[1] ?? m[2]!, port: Number(m[3]) } : null;
}

/** One `-s` slot of a bhyve argv, read back: the inverse of the slot renderer above. */
export interface SlotArg {
  readonly slot: number;
  readonly function: number;
  /** The emulation: passthru, virtio-blk, nvme, ahci-hd, ahci-cd, virtio-net, e1000, hostbridge, lpc, ... */
  readonly kind: string;
  /** What follows the emulation, split at commas: the device, path or tap first, then options (rom=, mac=). */
  readonly config: string[];
}

/** The `-s` slots of a bhyve argv (as rendered here, or as a running bhyve has it). */
export function parseSlotArgs(argv: readonly string[]): SlotArg[] {
  const out: SlotArg[] = [];
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] !== "-s") continue;
    const m = /^(\d+)(?::(\d+))?,([^,]+)(?:,(.*))?$/.exec(argv[i + 1]!);
    if (m) out.push({ slot: Number(m[1]), function: Number(m[2] ?? 0), kind: m[3]!, config: m[4] === undefined ? [] : m[4].split(",") });
  }
  return out;
}

/** The host devices (B/S/F) a bhyve argv passes through. */
export function passthruDevicesOf(argv: readonly string[]): string[] {
  return parseSlotArgs(argv).filter((s) => s.kind === "passthru" && s.config.length > 0).map((s) => s.config[0]!);
}

/** `-c`'s value: the vCPU count, with the topology when one is given (bhyve's topology_parse syntax). */
function cpuArg(g: Guest): string {
  if (g.sockets === undefined && g.cores === undefined && g.threads === undefined) return String(g.cpus);
  return `cpus=${g.cpus},sockets=${g.sockets ?? 1},cores=${g.cores ?? 1},threads=${g.threads ?? 1}`;
}

/** The template of a UEFI guest's variables: the edk2-bhyve package installs it beside the firmware. */
export const UEFI_VARS_TEMPLATE = "BHYVE_UEFI_VARS.fd";

/** Where a guest's own UEFI variables live on the host: in its directory, removed with it. */
export function uefiVarsPath(name: string): string {
  return `/var/db/bhyve-agent/guests/${name}/uefi-vars.fd`;
}

/** The variables template for a bootrom: the package's, in the bootrom's directory. */
export function uefiVarsTemplate(bootrom: string): string {
  return `${bootrom.slice(0, bootrom.lastIndexOf("/") + 1)}${UEFI_VARS_TEMPLATE}`;
}

/** The nmdm(4) pair of a guest's serial console: bhyve opens the A side, the guest's monitor holds B. */
export function consoleDevice(name: string, side: "A" | "B"): string {
  return `/dev/nmdm-${name}.1${side}`;
}

/** What stands for a guest's UUID before the agent has made it (`bhyve-agent render` of a document); never a valid UUID. */
export const UUID_PENDING = "{uuid}";

/**
 * bhyve's argv for a guest. `-A -H -P` as vm-bhyve passes them to a guest it loads (ACPI tables,
 * which 13.x needs asked for; yield the vCPU on HLT; exit on PAUSE, unless exit_on_pause is off), `-S` for wired memory (mandatory with
 * passthrough), `-u` for an RTC in UTC, `-w` to ignore unknown MSRs, `-p` per pinned vCPU, `-U`
 * the SMBIOS UUID, host bridge at slot 0, LPC at 31, the VM name last.
 */
export function renderBhyveArgv(guest: Guest): string[] {
  const argv = [BHYVE, "-c", cpuArg(guest), "-m", formatSize(guest.memory)];
  if (guest.wired) argv.push("-S");
  argv.push("-A", "-H");
  if (guest.exitOnPause) argv.push("-P");
  if (guest.rtc === "utc") argv.push("-u");
  if (guest.ignoreUnknownMsrs) argv.push("-w");
  for (const p of guest.cpuPinning) argv.push("-p", `${p.vcpu}:${p.hostCpu}`);
  argv.push("-U", guest.uuid ?? UUID_PENDING);
  argv.push("-s", guest.hostbridge === "amd" ? "0,amd_hostbridge" : "0,hostbridge");
  for (const e of guestSlots(guest)) argv.push("-s", slotArg(e));
  argv.push("-s", "31,lpc");
  if (guest.console) argv.push("-l", `com1,${consoleDevice(guest.name, "A")}`);
  if (guest.bootrom) argv.push("-l", `bootrom,${guest.bootrom}${guest.uefiVars ? `,${uefiVarsPath(guest.name)}` : ""}`);
  argv.push(guest.name);
  return argv;
}

/**
 * bhyveload's argv for a guest that has no bootrom: same memory size as bhyve (bhyveload creates
 * the memory segments, so `-S` must match), its console on com1's nmdm pair, loading from the
 * first disk. Null with a bootrom.
 */
export function renderBhyveloadArgv(guest: Guest): string[] | null {
  if (guest.bootrom) return null;
  const disk = guest.disks[0];
  if (!disk) throw problemsError([{ path: "guest.disks", message: "bhyveload needs a disk" }]);
  const argv = [BHYVELOAD, "-m", formatSize(guest.memory)];
  if (guest.wired) argv.push("-S");
  // The loader's menu on the guest's serial console, where an operator attached can stop it.
  if (guest.console) argv.push("-c", consoleDevice(guest.name, "A"));
  argv.push("-d", disk.path, guest.name);
  return argv;
}

/** The JSON that `bhyve-agent render` prints. */
export interface RenderedState {
  loader_conf: Record<string, string>;
  guests: Record<string, string[]>;
  bhyveload: Record<string, string[]>;
}

/** Renders everything the host will be given for a valid state. */
export function renderState(state: DesiredState, ctx: HostContext = {}): RenderedState {
  const out: RenderedState = { loader_conf: Object.fromEntries(renderLoaderConf(state, ctx)), guests: {}, bhyveload: {} };
  for (const g of state.guests) {
    out.guests[g.name] = renderBhyveArgv(g);
    const load = renderBhyveloadArgv(g);
    if (load) out.bhyveload[g.name] = load;
  }
  return out;
}
