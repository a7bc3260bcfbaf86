/**
 * A bhyve command line read back: the machine it describes, in a form where two command lines that
 * give the guest the same machine compare equal however they are spelled (vm-bhyve's `-AHPw` and
 * `-c 2` against the agent's `-A -H -P -w` and `cpus=2,...`, `tcp=` against `rfb=`, options in any
 * order), the differences between two of them in words, and the guest document that renders to a
 * given one (what `cdktf-bhyve adopt` declares, and what the agent checks before it takes over a VM
 * it did not start). Pure code: no I/O.
 */
import { formatSize } from "./size.js";
import { getopt } from "./getopt.js";
import { formatBsf, parsePciAddress } from "./pci-address.js";
import { FRAMEBUFFER_SLOT, GUEST_NAME, IFNAME, TABLET_SLOT, UUID } from "./decode.js";
import { consoleDevice, uefiVarsPath } from "./render.js";
import { DISK_TYPES, NIC_MODELS } from "./types.js";

/** bhyve(8)'s options on amd64 (14.x getopt string): letters alone are flags, those followed by `:` take a value. */
const BHYVE_OPTIONS = "aehuwxACDHIPSWYk:f:o:p:G:c:s:m:l:K:U:r:";

/** What each flag does, for messages. */
const FLAG_MEANING: Readonly<Record<string, string>> = {
  a: "local APIC in xAPIC mode",
  e: "exit on unhandled I/O port access",
  h: "print help",
  u: "RTC in UTC",
  w: "ignore unimplemented MSRs",
  x: "x2APIC mode",
  A: "ACPI tables",
  C: "guest memory in core dumps",
  D: "destroy the VM on guest power-off",
  H: "yield the vCPU on HLT",
  I: "ignored",
  P: "exit on PAUSE",
  S: "wired guest memory",
  W: "force virtio MSI-X interrupts",
  Y: "no MPtable",
};

/** One `-s` device. */
export interface MachineSlot {
  readonly bus: number;
  readonly slot: number;
  readonly func: number;
  readonly emul: string;
  /** The positional first value (a disk's path, a NIC's tap, a passthrough's device), if any. */
  readonly first: string | null;
  /** Its other settings, normalised (tcp= read as rfb=, a MAC in lower case), sorted. */
  readonly options: readonly string[];
}

/** The machine a bhyve command line describes. */
export interface BhyveMachine {
  readonly name: string;
  readonly topology: { readonly cpus: number; readonly sockets: number; readonly cores: number; readonly threads: number };
  /** Whether `-c` spelled sockets, cores or threads (the guest document then states them). */
  readonly topologyGiven: boolean;
  readonly memory: number;
  /** The flags given (each once). */
  readonly flags: ReadonlySet<string>;
  /** `-p` pins as `vcpu:hostcpu`, sorted. */
  readonly pins: readonly string[];
  readonly uuid: string | null;
  /** `-l` devices: com1, bootrom, ... with what follows their first comma. */
  readonly lpc: ReadonlyMap<string, string>;
  readonly slots: readonly MachineSlot[];
  /** Options with values the machine cannot be compared through (-o, -k, -G, -r, -K, -f), as given. */
  readonly other: readonly string[];
}

export type ParseResult = { ok: true; machine: BhyveMachine } | { ok: false; reason: string };

/** vm_parse_memsize(): a number with an optional K/M/G/T suffix; a bare number below 1 MiB is megabytes. */
export function parseBhyveMemsize(text: string): number | null {
  // expand_number() reads the number in base 0: "010" is octal, "0x10" hex. Only plain decimal is read here.
  const m = /^(0|[1-9]\d*)([kKmMgGtT]?)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2]!.toUpperCase();
  const bytes = unit ? n * 1024 ** " KMGT".indexOf(unit) : n < 1024 * 1024 ? n * 2 ** 20 : n;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/**
 * `-c`: `N`, or `[cpus=]N,sockets=S,cores=C,threads=T` in any order; an absent count is 1, except
 * sockets given alone with cpus (bhyve takes cpus / (cores x threads)), and cpus absent is their product.
 */
function parseTopology(text: string): { topology: BhyveMachine["topology"]; given: boolean } | null {
  const v: Record<string, number> = {};
  const parts = text.split(",");
  for (const [i, p] of parts.entries()) {
    // Plain decimal only: a leading zero could be read as octal.
    const m = /^(?:(cpus|sockets|cores|threads)=)?([1-9]\d*)$/.exec(p);
    if (!m || (m[1] === undefined && i > 0)) return null;
    const key = m[1] ?? "cpus";
    if (key in v) return null;
    v[key] = Number(m[2]);
  }
  const given = v.sockets !== undefined || v.cores !== undefined || v.threads !== undefined;
  const cores = v.cores ?? 1;
  const threads = v.threads ?? 1;
  const cpus = v.cpus ?? (v.sockets ?? 1) * cores * threads;
  const sockets = v.sockets ?? Math.max(1, Math.floor(cpus / (cores * threads)));
  if (![cpus, sockets, cores, threads].every((n) => Number.isSafeInteger(n) && n > 0)) return null;
  return { topology: { cpus, sockets, cores, threads }, given };
}

/** Emulations whose first setting is positional (a path, a tap, a device, a mode). */
const POSITIONAL = new Set<string>([...DISK_TYPES, ...NIC_MODELS, "passthru", "xhci", "virtio-console", "virtio-9p", "uart", "virtio-scsi", "virtio-input"]);

/** One `-s` value, the way pci_parse_slot() reads it; null when it does not parse. */
function parseSlot(text: string): MachineSlot | null {
  const m = /^(\d+)(?::(\d+))?(?::(\d+))?,([^,]+)(?:,(.*))?$/.exec(text);
  if (!m) return null;
  const nums = [m[1], m[2], m[3]].filter((x): x is string => x !== undefined).map(Number);
  const [bus, slot, func] = nums.length === 3 ? nums : [0, nums[0]!, nums[1] ?? 0];
  if (bus! > 255 || slot! > 31 || func! > 7) return null;
  const emul = m[4]!;
  const conf = m[5] === undefined || m[5] === "" ? [] : m[5].split(",");
  let first: string | null = null;
  if (POSITIONAL.has(emul) && conf.length > 0 && !conf[0]!.includes("=")) first = conf.shift()!;
  if (emul === "passthru" && first !== null) {
    const r = parsePciAddress(first);
    if (r.ok) first = formatBsf(r.address);
  }
  const options = conf.map((o) => {
    if (emul === "fbuf" && o.startsWith("tcp=")) return `rfb=${o.slice(4)}`;
    if (o.startsWith("mac=")) return o.toLowerCase();
    return o;
  }).sort();
  return { bus: bus!, slot: slot!, func: func!, emul, first, options };
}

/** Reads a bhyve command line (argv[0] is bhyve itself). */
export function parseBhyveArgv(argv: readonly string[]): ParseResult {
  if (argv.length < 2) return { ok: false, reason: "the command line is empty" };
  const g = getopt(argv.slice(1), BHYVE_OPTIONS);
  if ("bad" in g) return { ok: false, reason: g.missingArg ? `-${g.bad} lacks its value` : `-${g.bad} is not a bhyve option` };
  if (g.operands.length !== 1) return { ok: false, reason: `bhyve takes one VM name after its options, here ${g.operands.length ? g.operands.map((o) => JSON.stringify(o)).join(" ") : "none"}` };
  const flags = new Set<string>();
  const pins: string[] = [];
  const lpc = new Map<string, string>();
  const slots: MachineSlot[] = [];
  const other: string[] = [];
  let topology: ReturnType<typeof parseTopology> = { topology: { cpus: 1, sockets: 1, cores: 1, threads: 1 }, given: false };
  let memory = 256 * 2 ** 20; // bhyve's default (DEFAULT_GUEST_MEMSIZE)
  let uuid: string | null = null;
  // bhyve merges repeated -c settings and keeps the last -m and -U: a command line that repeats them is not read.
  for (const once of ["c", "m", "U"]) if (g.opts.filter(([o]) => o === once).length > 1) return { ok: false, reason: `-${once} is given more than once` };
  for (const [o, v] of g.opts) {
    switch (o) {
      case "c":
        topology = parseTopology(v);
        if (!topology) return { ok: false, reason: `-c ${v} is not a vCPU count or topology` };
        break;
      case "m": {
        const b = parseBhyveMemsize(v);
        if (b === null) return { ok: false, reason: `-m ${v} is not a memory size` };
        memory = b;
        break;
      }
      case "p":
        if (!/^\d+:\d+$/.test(v)) return { ok: false, reason: `-p ${v} is not vcpu:hostcpu` };
        pins.push(v);
        break;
      case "U":
        uuid = v.toLowerCase();
        break;
      case "l": {
        const comma = v.indexOf(",");
        const dev = comma < 0 ? v : v.slice(0, comma);
        if (lpc.has(dev)) return { ok: false, reason: `-l ${dev} is given twice` };
        lpc.set(dev, comma < 0 ? "" : v.slice(comma + 1));
        break;
      }
      case "s": {
        const s = parseSlot(v);
        if (!s) return { ok: false, reason: `-s ${v} is not a PCI slot bhyve accepts` };
        if (slots.some((x) => x.bus === s.bus && x.slot === s.slot && x.func === s.func)) return { ok: false, reason: `-s ${v}: pci slot ${s.bus}:${s.slot}:${s.func} is given twice` };
        slots.push(s);
        break;
      }
      case "k": case "f": case "o": case "G": case "K": case "r":
        other.push(`-${o} ${v}`);
        break;
      default:
        flags.add(o);
    }
  }
  slots.sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.func - b.func);
  pins.sort();
  return { ok: true, machine: { name: g.operands[0]!, topology: topology.topology, topologyGiven: topology.given, memory, flags, pins, uuid, lpc, slots, other } };
}

const slotLabel = (s: MachineSlot): string => `${s.bus ? `${s.bus}:` : ""}${s.slot}:${s.func}`;
/** A slot as words for messages: a VNC password (fbuf's password=) never shown. */
const slotText = (s: MachineSlot): string => [s.emul, ...(s.first !== null ? [s.first] : []), ...s.options.map(redactOption)].join(",");

/** An option with a secret value hidden (fbuf's password=). */
function redactOption(o: string): string {
  return o.startsWith("password=") ? "password=(hidden)" : o;
}

/** A bhyve argv with its secrets hidden (fbuf's password=), for reports and messages. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((a, i) => (argv[i - 1] === "-s" ? a.replace(/(^|,)password=[^,]*/g, "$1password=(hidden)") : a));
}
const flagText = (f: string): string => `-${f} (${FLAG_MEANING[f] ?? "unknown"})`;

/** How to compare: `acpiAlways` when the host's bhyve builds ACPI tables whether asked or not (FreeBSD 14.0 and later: -A is a no-op there). */
export interface CompareOptions {
  readonly acpiAlways: boolean;
}

/** Whether a FreeBSD release (kern.osrelease, e.g. 14.3-RELEASE) always builds ACPI tables; unknown counts as no. */
export function acpiAlwaysOn(release: string | null): boolean {
  const m = release === null ? null : /^(\d+)\./.exec(release);
  return m !== null && Number(m[1]) >= 14;
}

/** Flags that never change the machine: -I is ignored by bhyve, -A where ACPI tables are always built. */
function comparedFlags(flags: ReadonlySet<string>, o: CompareOptions): Set<string> {
  return new Set([...flags].filter((f) => f !== "I" && f !== "h" && !(o.acpiAlways && f === "A")));
}

/** What differs between the machine that runs (`running`) and the one a guest renders to (`wanted`), in words; empty: the same machine. */
export function machineDifferences(running: BhyveMachine, wanted: BhyveMachine, o: CompareOptions): string[] {
  const out: string[] = [];
  if (running.name !== wanted.name) out.push(`VM name: runs as ${running.name}, renders ${wanted.name}`);
  const t = (x: BhyveMachine["topology"]): string => `${x.cpus} vCPUs (${x.sockets} sockets x ${x.cores} cores x ${x.threads} threads)`;
  if (t(running.topology) !== t(wanted.topology)) out.push(`-c: runs ${t(running.topology)}, renders ${t(wanted.topology)}`);
  if (running.memory !== wanted.memory) out.push(`-m: runs ${formatSize(running.memory)}, renders ${formatSize(wanted.memory)}`);
  const rf = comparedFlags(running.flags, o);
  const wf = comparedFlags(wanted.flags, o);
  for (const f of [...rf].filter((x) => !wf.has(x)).sort()) out.push(`${flagText(f)}: runs with it, renders without`);
  for (const f of [...wf].filter((x) => !rf.has(x)).sort()) out.push(`${flagText(f)}: runs without it, renders with`);
  if (running.pins.join(" ") !== wanted.pins.join(" ")) out.push(`-p: runs ${running.pins.join(" ") || "no pins"}, renders ${wanted.pins.join(" ") || "no pins"}`);
  if (running.uuid !== wanted.uuid) out.push(`-U: runs ${running.uuid ?? "without a UUID"}, renders ${wanted.uuid ?? "without a UUID"}`);
  for (const dev of new Set([...running.lpc.keys(), ...wanted.lpc.keys()])) {
    const r = running.lpc.get(dev);
    const w = wanted.lpc.get(dev);
    if (r !== w) out.push(`-l ${dev}: runs ${r === undefined ? "without it" : `${dev},${r}`}, renders ${w === undefined ? "without it" : `${dev},${w}`}`);
  }
  const key = (s: MachineSlot): string => slotLabel(s);
  const wantedSlots = new Map(wanted.slots.map((s) => [key(s), s]));
  const runningSlots = new Map(running.slots.map((s) => [key(s), s]));
  for (const s of running.slots) {
    const w = wantedSlots.get(key(s));
    if (!w) out.push(`-s ${slotLabel(s)}: runs ${slotText(s)}, renders nothing there`);
    else if (slotText(s) !== slotText(w)) out.push(`-s ${slotLabel(s)}: runs ${slotText(s)}, renders ${slotText(w)}`);
  }
  for (const w of wanted.slots) if (!runningSlots.has(key(w))) out.push(`-s ${slotLabel(w)}: runs nothing there, renders ${slotText(w)}`);
  const ro = [...running.other].sort().join(" ");
  const wo = [...wanted.other].sort().join(" ");
  if (ro !== wo) out.push(`other options: runs ${ro || "none"}, renders ${wo || "none"}`);
  return out;
}

/** The guest document a running command line would be declared with, and what in it the model cannot express. */
export interface Reconstruction {
  /** The guest's document (the agent's document form), without state/restart/adopt: what the command line says. */
  readonly document: Record<string, unknown>;
  /** Each thing the model cannot express; a guest with any cannot be adopted. */
  readonly unsupported: string[];
}

const DISK_EMULATIONS = new Set<string>(DISK_TYPES);
const NIC_EMULATIONS = new Set<string>(NIC_MODELS);

/** Splits `key=value` options; a bare word maps to "". */
function optionMap(options: readonly string[]): Map<string, string> {
  return new Map(options.map((o) => {
    const eq = o.indexOf("=");
    return eq < 0 ? [o, ""] : [o.slice(0, eq), o.slice(eq + 1)];
  }));
}

/**
 * The guest document whose rendering gives the machine `m` (under the name the machine has), and
 * each part of it the model cannot express. The caller checks the document with the model and
 * compares its rendering with `m` again (see {@link machineDifferences}): this only proposes.
 */
export function guestFromMachine(m: BhyveMachine, o: CompareOptions): Reconstruction {
  const no: string[] = [];
  const name = m.name;
  if (!GUEST_NAME.test(name)) no.push(`the VM name ${JSON.stringify(name)} is not a guest name here (1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit)`);
  const doc: Record<string, unknown> = { name, cpus: m.topology.cpus, memory: formatSize(m.memory) };
  if (m.topologyGiven) Object.assign(doc, { sockets: m.topology.sockets, cores: m.topology.cores, threads: m.topology.threads });
  const flags = comparedFlags(m.flags, o);
  doc.wired = flags.has("S");
  doc.rtc = flags.has("u") ? "utc" : "localtime";
  doc.ignore_unknown_msrs = flags.has("w");
  doc.exit_on_pause = flags.has("P");
  if (!flags.has("H")) no.push(`it runs without ${flagText("H")}, which the agent always passes`);
  if (!o.acpiAlways && !flags.has("A")) no.push(`it runs without ${flagText("A")}, which the agent always passes (this host's bhyve builds no ACPI tables without it)`);
  for (const f of [...flags].filter((x) => !"SuwPHA".includes(x)).sort()) no.push(`it runs with ${flagText(f)}, which the model does not express`);
  if (m.pins.length) doc.cpu_pinning = m.pins.map((p) => ({ vcpu: Number(p.split(":")[0]), host_cpu: Number(p.split(":")[1]) }));
  if (m.uuid !== null) {
    if (UUID.test(m.uuid)) doc.uuid = m.uuid;
    else no.push(`-U ${m.uuid} is not a UUID`);
  } else {
    no.push("it runs without -U (bhyve derives a UUID from the host and VM name); the agent always passes one");
  }
  for (const x of m.other) no.push(`it runs with ${x}, which the model does not express`);
  // -l: the serial console on com1 at the nmdm pair the agent names, and the UEFI firmware.
  for (const [dev, v] of m.lpc) {
    if (dev === "com1") {
      if (v === consoleDevice(name, "A")) doc.console = true;
      else no.push(`its com1 is ${v}; the agent's console is ${consoleDevice(name, "A")}`);
    } else if (dev === "bootrom") {
      const [rom, vars, ...more] = v.split(",");
      if (!rom || more.length) no.push(`-l bootrom,${v} is not a firmware with at most a variables file`);
      else {
        doc.bootrom = rom;
        if (vars === undefined) doc.uefi_vars = false;
        else if (vars === uefiVarsPath(name)) doc.uefi_vars = true;
        else no.push(`it keeps its UEFI variables in ${vars}; the agent keeps a guest's in ${uefiVarsPath(name)} (the boot entries would not follow)`);
      }
    } else {
      no.push(`-l ${dev}${v ? `,${v}` : ""}: the model has no ${dev}`);
    }
  }
  if (!m.lpc.has("com1")) doc.console = false;
  // -s: host bridge at 0, LPC at 31, then the guest's devices.
  const disks: Array<Record<string, unknown>> = [];
  const nics: Array<Record<string, unknown>> = [];
  const passthru: Array<Record<string, unknown>> = [];
  let lpcSeen = false;
  let hostbridgeSeen = false;
  const fbuf = m.slots.find((s) => s.emul === "fbuf");
  const tablet = m.slots.find((s) => s.emul === "xhci");
  for (const s of m.slots) {
    const where = `-s ${slotLabel(s)},${slotText(s)}`;
    const opts = optionMap(s.options);
    if (s.bus !== 0) {
      no.push(`${where}: the model places devices on bus 0 only`);
      continue;
    }
    if (s.emul === "hostbridge" || s.emul === "amd_hostbridge") {
      if (s.slot !== 0 || s.func !== 0 || s.options.length) no.push(`${where}: the model puts a plain host bridge at slot 0`);
      else {
        hostbridgeSeen = true;
        doc.hostbridge = s.emul === "amd_hostbridge" ? "amd" : "standard";
      }
    } else if (s.emul === "lpc") {
      if (s.slot !== 31 || s.func !== 0 || s.options.length) no.push(`${where}: the model puts the LPC bridge at slot 31`);
      else lpcSeen = true;
    } else if (s.emul === "passthru") {
      const r = s.first === null ? null : parsePciAddress(s.first);
      const extra = [...opts.keys()].filter((k) => k !== "rom" && k !== "bootindex");
      if (!r?.ok) no.push(`${where}: the device is not given as bus/slot/function`);
      else if (extra.length) no.push(`${where}: the model has no passthru option ${extra.join(", ")}`);
      else {
        const bootindex = opts.has("bootindex") ? Number(opts.get("bootindex")) : undefined;
        passthru.push({ device: formatBsf(r.address), slot: s.slot, function: s.func, ...(opts.get("rom") ? { rom: opts.get("rom") } : {}), ...(bootindex !== undefined ? { bootindex } : {}) });
      }
    } else if (DISK_EMULATIONS.has(s.emul)) {
      const extra = [...opts.keys()].filter((k) => k !== "bootindex");
      if (s.first === null) no.push(`${where}: a disk without a path`);
      else if (extra.length) no.push(`${where}: the model has no disk option ${extra.join(", ")}`);
      else disks.push({ path: s.first, type: s.emul, slot: s.slot, ...(s.func !== 0 ? { function: s.func } : {}), ...(opts.has("bootindex") ? { bootindex: Number(opts.get("bootindex")) } : {}) });
    } else if (NIC_EMULATIONS.has(s.emul)) {
      const extra = [...opts.keys()].filter((k) => k !== "mac");
      if (s.first === null || !IFNAME.test(s.first) || /^(vale|netgraph)/.test(s.first)) no.push(`${where}: the model's NICs are on tap interfaces`);
      else if (extra.length) no.push(`${where}: the model has no NIC option ${extra.join(", ")}`);
      else nics.push({ tap: s.first, model: s.emul, slot: s.slot, ...(s.func !== 0 ? { function: s.func } : {}), ...(opts.get("mac") ? { mac: opts.get("mac") } : {}) });
    } else if (s === fbuf || s === tablet) {
      // Placed below, as a pair.
    } else {
      no.push(`${where}: the model has no ${s.emul} device`);
    }
  }
  if (!hostbridgeSeen) no.push("it runs without a host bridge at slot 0, which the agent always puts there");
  if (!lpcSeen) no.push("it runs without the LPC bridge at slot 31, which the agent always puts there");
  if (fbuf || tablet) {
    const fb = fbuf ? optionMap(fbuf.options) : null;
    const rfb = fb?.get("rfb") ?? "";
    const addr = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(rfb);
    const extra = fb ? [...fb.keys()].filter((k) => !["rfb", "w", "h", "wait"].includes(k)) : [];
    if (!fbuf || !tablet || fbuf.slot !== FRAMEBUFFER_SLOT || tablet.slot !== TABLET_SLOT || fbuf.func !== 0 || tablet.func !== 0 || tablet.first !== "tablet" || tablet.options.length) {
      no.push(`its framebuffer and tablet are ${fbuf ? `fbuf at ${slotLabel(fbuf)}` : "no fbuf"} and ${tablet ? `${slotText(tablet)} at ${slotLabel(tablet)}` : "no xhci tablet"}; the model puts fbuf at ${FRAMEBUFFER_SLOT} and xhci,tablet at ${TABLET_SLOT}`);
    } else if (!addr || extra.length || !fb!.has("w") || !fb!.has("h")) {
      no.push(`-s ${slotLabel(fbuf)},${slotText(fbuf)}: the model's framebuffer gives rfb=ADDRESS:PORT, w= and h=${extra.length ? ` (not ${extra.join(", ")})` : ""}`);
    } else {
      doc.framebuffer = { width: Number(fb!.get("w")), height: Number(fb!.get("h")), wait: fb!.has("wait"), listen: addr[1] ?? addr[2], port: Number(addr[3]) };
    }
  }
  doc.disks = disks;
  doc.nics = nics;
  doc.passthru = passthru;
  return { document: doc, unsupported: no };
}
