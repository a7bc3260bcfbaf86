/**
 * Decoding a parsed desired-state document (plain data from YAML or JSON) into the typed model.
 * Every field is checked and every problem is collected; a field that fails is left out of the
 * draft so that the cross-field rules (validate.ts) can still run on everything else.
 */
import { parseDocument as parseYamlDocument } from "yaml";
import { isIPv4Literal as isIPv4, isIPv6Literal as isIPv6 } from "./ip.js";
import { DOCUMENT_KEYS, forbiddenCharacter, PATH_MAX, printable, quote, utf8Length } from "./limits.js";
import { parsePciAddress, type PciAddress } from "./pci-address.js";
import { at, type ProblemList } from "./problems.js";
import { formatSize, parseSize } from "./size.js";
import {
  DEFAULTS,
  DISK_TYPES,
  GUEST_STATES,
  HOSTBRIDGES,
  NIC_MODELS,
  ON_DELETE,
  RESTART_POLICIES,
  RTC_MODES,
  type AmdviSetting,
  type CloudInit,
  type CpuPin,
  type DesiredState,
  type Framebuffer,
  type HostSettings,
  type ManagedDisk,
} from "./types.js";

/** A model object whose fields may be missing because they failed to decode. */
export type Draft<T> = {
  -readonly [K in keyof T]?: T[K] extends readonly (infer U)[] ? (U extends object ? readonly Draft<U>[] : T[K]) : T[K];
};

/** The decoded document: host settings are always complete (a bad field falls back to its default). */
export interface DraftState {
  host: HostSettings;
  ppt: Draft<DesiredState["ppt"][number]>[];
  switches: Draft<DesiredState["switches"][number]>[];
  guests: Draft<DesiredState["guests"][number]>[];
}

/** Guest names: what bhyve, /dev/vmm and file names under the agent's state directory all accept. */
export const GUEST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/;
/** Interface names: at most 15 characters (IFNAMSIZ 16 with the NUL), as ifconfig(8) allows. */
export const IFNAME = /^[A-Za-z][A-Za-z0-9_.]{0,14}$/;
const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

/** Lowest and highest guest slot a device may take: 0 is the host bridge, 31 the LPC bridge. */
export const FIRST_DEVICE_SLOT = 1;
/** See {@link FIRST_DEVICE_SLOT}. */
export const LAST_DEVICE_SLOT = 30;

const MIN_MEMORY = 128 * 2 ** 20;
const MIB = 2 ** 20;

/** Describes a value for an error message. */
function describe(v: unknown): string {
  if (v === null) return "nothing (null)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string ${quote(v)}`;
  if (typeof v === "number") return `the number ${v}`;
  return String(v);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Field readers bound to one mapping and its path; each records its own problem and returns undefined on failure. */
class Fields {
  /** Keys whose string value held a character no value may hold, already reported. */
  private readonly refused = new Set<string>();
  constructor(
    private readonly obj: Record<string, unknown>,
    readonly path: string,
    private readonly problems: ProblemList,
  ) {}

  /** Reports keys that are not in `allowed`, and missing `required` keys. */
  keys(allowed: readonly string[], required: readonly string[] = []): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) {
        this.problems.add(at(this.path, printable(key)), `unknown key; expected one of: ${allowed.join(", ")}`);
      }
    }
    for (const key of required) {
      if (this.obj[key] === undefined || this.obj[key] === null) this.problems.add(at(this.path, key), "is required");
    }
  }

  /**
   * The raw value, with null treated as absent. A string holding a control, bidirectional or
   * zero-width character is reported (once) and read as absent: the document is refused anyway.
   */
  raw(key: string): unknown {
    const v = this.obj[key];
    if (typeof v === "string") {
      if (this.refused.has(key)) return undefined;
      const why = forbiddenCharacter(v);
      if (why !== undefined) {
        this.refused.add(key);
        return this.fail(key, why);
      }
    }
    return v === null ? undefined : v;
  }

  /** Multi-line text (cloud-init files): line feeds, carriage returns and tabs allowed, every other character {@link raw} refuses still refused. */
  text(key: string): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return this.fail(key, `expected a string, got ${describe(v)}`);
    const why = forbiddenCharacter(v.replace(/[\n\r\t]/g, " "));
    return why === undefined ? v : this.fail(key, why);
  }

  /** A size in bytes (a number, or a string with K/M/G/T); `example` names one in the message for a value of another type. */
  size(key: string, example: string): number | undefined {
    const raw = this.raw(key);
    if (raw === undefined) return undefined;
    const r = typeof raw === "string" || typeof raw === "number" ? parseSize(raw) : undefined;
    if (!r) return this.fail(key, `expected a size such as ${example}, got ${describe(raw)}`);
    if (!r.ok) return this.fail(key, r.reason);
    return r.bytes;
  }

  fail(key: string, message: string): undefined {
    this.problems.add(at(this.path, key), message);
    return undefined;
  }

  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "string") return this.fail(key, `expected a string, got ${describe(v)}`);
    return v;
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) return this.fail(key, `expected a whole number, got ${describe(v)}`);
    if (v < min || v > max) return this.fail(key, `${v} is out of range (${min}-${max})`);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") return this.fail(key, `expected true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
      return this.fail(key, `expected one of ${choices.join(", ")}, got ${describe(v)}`);
    }
    return v as T;
  }

  /** An absolute path that can stand inside a bhyve option (bhyve splits options at commas). */
  hostPath(key: string): string | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!v.startsWith("/")) return this.fail(key, `${quote(v)} is not an absolute path`);
    const bytes = utf8Length(v);
    if (bytes >= PATH_MAX) return this.fail(key, `is ${bytes} bytes long; a host path must be shorter than ${PATH_MAX} bytes (PATH_MAX)`);
    if (v.includes(",")) return this.fail(key, `${quote(v)} contains a comma, which bhyve would read as an option separator`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\s]/.test(v)) return this.fail(key, `${quote(v)} contains white space or control characters`);
    if (v.split("/").includes("..")) return this.fail(key, `${quote(v)} contains "..", write the path without it`);
    return v;
  }

  /** A list; each item is handed to `item` with its path. */
  list<T>(key: string, item: (value: unknown, path: string) => T): T[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.fail(key, `expected a list, got ${describe(v)}`);
      return [];
    }
    return v.map((value, i) => item(value, at(at(this.path, key), i)));
  }

  /** The decoded value, or `fallback` when the key is absent (a present but bad value stays undefined). */
  orDefault<T>(key: string, decoded: T | undefined, fallback: T): T | undefined {
    return this.raw(key) === undefined ? fallback : decoded;
  }

  slot(key: string): number | undefined {
    const v = this.int(key, 0, 31);
    if (v === 0) return this.fail(key, "slot 0 is reserved for the host bridge");
    if (v === 31) return this.fail(key, "slot 31 is reserved for the LPC bridge");
    return v;
  }

  pciAddress(key: string): PciAddress | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const r = parsePciAddress(v);
    if (!r.ok) return this.fail(key, r.reason);
    return r.address;
  }

  pciId(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const n = typeof v === "string" && /^0x[0-9a-fA-F]{1,4}$/.test(v) ? parseInt(v, 16) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffff) {
      return this.fail(key, `expected a 16-bit PCI id such as 0x10de, got ${describe(v)}`);
    }
    return n;
  }
}

function mapping(value: unknown, path: string, problems: ProblemList): Fields | undefined {
  if (!isMapping(value)) {
    problems.add(path || "document", `expected a mapping, got ${describe(value)}`);
    return undefined;
  }
  return new Fields(value, path, problems);
}

const HOST_KEYS = ["vmm_load", "amdvi_enable", "require_iommu", "require_nested_paging"] as const;

/** The host settings of a document that gives none: the model's defaults. */
export const DEFAULT_HOST_SETTINGS: HostSettings = { vmmLoad: DEFAULTS.host.vmm_load, amdviEnable: DEFAULTS.host.amdvi_enable, requireIommu: DEFAULTS.host.require_iommu, requireNestedPaging: DEFAULTS.host.require_nested_paging };

function decodeHost(value: unknown, problems: ProblemList): HostSettings {
  const defaults = DEFAULT_HOST_SETTINGS;
  if (value === undefined || value === null) return defaults;
  const f = mapping(value, "host", problems);
  if (!f) return defaults;
  f.keys(HOST_KEYS);
  let amdvi: AmdviSetting | undefined;
  const rawAmdvi = f.raw("amdvi_enable");
  if (rawAmdvi === "auto" || typeof rawAmdvi === "boolean") amdvi = rawAmdvi;
  else if (rawAmdvi !== undefined) f.fail("amdvi_enable", `expected auto, true or false, got ${describe(rawAmdvi)}`);
  return {
    vmmLoad: f.bool("vmm_load") ?? defaults.vmmLoad,
    amdviEnable: amdvi ?? defaults.amdviEnable,
    requireIommu: f.bool("require_iommu") ?? defaults.requireIommu,
    requireNestedPaging: f.bool("require_nested_paging") ?? defaults.requireNestedPaging,
  };
}

function decodePpt(value: unknown, path: string, problems: ProblemList): DraftState["ppt"][number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["device", "vendor_id", "device_id", "bind"], ["device"]);
  return {
    device: f.pciAddress("device"),
    vendorId: f.pciId("vendor_id"),
    deviceId: f.pciId("device_id"),
    bind: f.orDefault("bind", f.oneOf("bind", ["live", "boot"] as const), DEFAULTS.ppt.bind),
  };
}

/** A ZFS dataset name component as the agent accepts it: zfs_namecheck's characters without the space. */
const DATASET_COMPONENT = /^[A-Za-z0-9_.:-]+$/;
/** ZFS_MAX_DATASET_NAME_LEN (256, with the NUL). */
export const MAX_DATASET_NAME = 255;
/** The block sizes a volume may have: powers of two from 512 bytes (SPA_MINBLOCKSIZE) to 128K. */
const VOLBLOCKSIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];
/** What a volume's size must be a multiple of when no volblocksize is given: OpenZFS 2.2 (FreeBSD 14.0) and later default to 16K, before 8K. */
export const DEFAULT_VOLBLOCKSIZE = 16384;
/** A file disk's size is a whole number of 512-byte sectors. */
const SECTOR = 512;

/** Why `name` is not a volume's dataset name (pool/path, at least two components), or undefined. */
export function datasetProblem(name: string): string | undefined {
  if (utf8Length(name) > MAX_DATASET_NAME) return `${quote(name.slice(0, 40))}... is longer than ${MAX_DATASET_NAME} bytes, the longest ZFS dataset name`;
  const parts = name.split("/");
  if (parts.length < 2) return `${quote(name)} is a pool, not a dataset in one; write POOL/PATH (e.g. zroot/vm/web1/disk0)`;
  for (const c of parts) {
    if (c === "") return `${quote(name)} has an empty component (a leading, trailing or double slash)`;
    if (c === "." || c === "..") return `${quote(name)} has a component "${c}"`;
    if (!DATASET_COMPONENT.test(c)) return `${quote(name)}: a dataset name has letters, digits and _ . : - only (no @, # or white space)`;
  }
  if (!/^[A-Za-z]/.test(parts[0]!)) return `${quote(name)}: a pool name starts with a letter`;
  return undefined;
}

function datasetOf(f: Fields, key: string): string | undefined {
  const v = f.string(key);
  if (v === undefined) return undefined;
  const why = datasetProblem(v);
  return why === undefined ? v : f.fail(key, why);
}

function sizeOf(f: Fields, key: string): number | undefined {
  const bytes = f.size(key, "20G");
  return bytes === 0 ? f.fail(key, "a disk cannot be 0 bytes") : bytes;
}

function decodeDisk(value: unknown, path: string, problems: ProblemList): NonNullable<DraftState["guests"][number]["disks"]>[number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["path", "zvol", "file", "size", "sparse", "volblocksize", "clone", "on_delete", "type", "slot", "function", "bootindex"]);
  const bootindex = f.int("bootindex", 0, 65535);
  const fn = slotFunction(f);
  const common = {
    type: f.orDefault("type", f.oneOf("type", DISK_TYPES), DEFAULTS.disk.type),
    slot: f.slot("slot"),
    ...(fn !== undefined ? { function: fn } : {}),
    ...(bootindex !== undefined ? { bootindex } : {}),
  };
  const given = (["zvol", "file", "path"] as const).filter((k) => f.raw(k) !== undefined);
  // A zvol or a file is the agent's to make; a path names what exists on its own. The derived
  // path may be written beside a zvol or a file (a canonical document does), but only as it is.
  const kind = given.includes("zvol") ? "zvol" : given.includes("file") ? "file" : given.includes("path") ? "path" : undefined;
  if (kind === undefined) {
    f.fail("path", "is required: give path (a disk that exists), zvol (a volume the agent makes) or file (an image file the agent makes)");
    return common;
  }
  if (given.includes("zvol") && given.includes("file")) {
    f.fail("file", "give zvol or file, not both");
    return common;
  }
  const onlyFor = (key: string, kinds: readonly string[]): void => {
    if (f.raw(key) !== undefined && !kinds.includes(kind)) {
      f.fail(key, kind === "path" ? `only a disk the agent makes (zvol or file) has ${key}; a disk given by path is used as it is` : `only a zvol has ${key}`);
    }
  };
  onlyFor("size", ["zvol", "file"]);
  onlyFor("on_delete", ["zvol", "file"]);
  onlyFor("sparse", ["zvol"]);
  onlyFor("volblocksize", ["zvol"]);
  onlyFor("clone", ["zvol"]);
  if (kind === "path") return { ...common, path: f.hostPath("path") };

  const onDelete = f.orDefault("on_delete", f.oneOf("on_delete", ON_DELETE), DEFAULTS.disk.on_delete);
  const size = sizeOf(f, "size");
  let derived: string | undefined;
  let managed: Partial<ManagedDisk> | undefined;
  if (kind === "zvol") {
    const dataset = datasetOf(f, "zvol");
    let clone = f.string("clone");
    if (clone !== undefined) {
      const at = clone.indexOf("@");
      const snap = clone.slice(at + 1);
      if (at < 0 || !DATASET_COMPONENT.test(snap) || clone.indexOf("@", at + 1) >= 0) clone = f.fail("clone", `${quote(clone)} is not a snapshot; write POOL/PATH@SNAPSHOT (e.g. zroot/images/freebsd-14.3@base)`);
      else {
        const why = datasetProblem(clone.slice(0, at));
        if (why !== undefined) clone = f.fail("clone", why);
      }
    }
    let volblocksize: number | undefined;
    const rawVbs = f.raw("volblocksize");
    if (rawVbs !== undefined) {
      const r = typeof rawVbs === "string" || typeof rawVbs === "number" ? parseSize(rawVbs) : undefined;
      if (!r || !r.ok || !VOLBLOCKSIZES.includes(r.bytes)) f.fail("volblocksize", `expected a power of two from 512 to 128K (e.g. 16K), got ${describe(rawVbs)}`);
      else volblocksize = r.bytes;
    }
    let sparse = f.bool("sparse");
    if (clone !== undefined) {
      // A clone shares the snapshot's blocks: it has the origin's block size and no reservation of its own.
      if (volblocksize !== undefined) volblocksize = f.fail("volblocksize", "a clone has its snapshot's block size; leave volblocksize out");
      if (sparse === false) sparse = f.fail("sparse", "a clone shares its snapshot's blocks and reserves none; leave sparse out");
    } else if (f.raw("size") === undefined && f.raw("clone") === undefined) {
      f.fail("size", "is required for a zvol (or give clone: to copy an image)");
    }
    const block = volblocksize ?? DEFAULT_VOLBLOCKSIZE;
    if (size !== undefined && clone === undefined && size % block !== 0) {
      f.fail("size", `${f.raw("size")} is not a multiple of the volume block size (${formatSize(block)}${volblocksize === undefined ? ", the default" : ""}); zfs refuses it`);
    }
    if (dataset !== undefined) derived = `/dev/zvol/${dataset}`;
    managed = { kind: "zvol", dataset, size, sparse: sparse ?? (f.raw("sparse") === undefined ? DEFAULTS.disk.sparse : undefined), ...(volblocksize !== undefined ? { volblocksize } : {}), ...(clone !== undefined ? { clone } : {}), onDelete };
  } else {
    derived = f.hostPath("file");
    if (f.raw("size") === undefined) f.fail("size", "is required for a file disk");
    else if (size !== undefined && size % SECTOR !== 0) f.fail("size", `${f.raw("size")} is not a whole number of 512-byte sectors`);
    managed = { kind: "file", size, sparse: true, onDelete };
  }
  if (derived !== undefined && f.raw("path") !== undefined && f.string("path") !== derived) {
    f.fail("path", `is ${derived} for this ${kind}; leave path out`);
  }
  const complete = derived !== undefined && managed.onDelete !== undefined && managed.sparse !== undefined && (managed.size !== undefined || managed.clone !== undefined);
  return { ...common, ...(derived !== undefined ? { path: derived } : {}), ...(complete ? { managed: managed as ManagedDisk } : {}) };
}

function decodeNic(value: unknown, path: string, problems: ProblemList): NonNullable<DraftState["guests"][number]["nics"]>[number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["tap", "switch", "model", "mac", "slot", "function"]);
  let tap = f.string("tap");
  if (tap !== undefined && !IFNAME.test(tap)) {
    tap = f.fail("tap", `${quote(tap)} is not an interface name (a letter, then letters, digits, _ or .; at most 15 characters)`);
  }
  let sw = f.string("switch");
  if (sw !== undefined && !GUEST_NAME.test(sw)) sw = f.fail("switch", `${quote(sw)} is not a switch name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit`);
  if (f.raw("tap") === undefined && f.raw("switch") === undefined) f.fail("switch", "a NIC needs a switch (the agent makes and attaches its tap) or a tap (one you manage)");
  else if (f.raw("tap") !== undefined && f.raw("switch") !== undefined) {
    f.fail("tap", "a NIC is on a switch or on a tap, not both: with switch, the agent allocates the tap; drop one of the two");
    tap = undefined;
  }
  const fn = slotFunction(f);
  let mac = f.string("mac");
  if (mac !== undefined) {
    if (!MAC.test(mac)) {
      mac = f.fail("mac", `${quote(mac)} is not a MAC address; write six hex pairs separated by colons (58:9c:fc:00:00:01)`);
    } else if (/^(00:){5}00$/.test(mac)) {
      mac = f.fail("mac", `${quote(mac)} is the all-zero address, which no NIC can have; write a unicast MAC or leave mac out`);
    } else if (/^(ff:){5}ff$/i.test(mac)) {
      mac = f.fail("mac", `${quote(mac)} is the broadcast address; a NIC needs a unicast MAC`);
    } else if (parseInt(mac.slice(0, 2), 16) & 1) {
      mac = f.fail("mac", `${quote(mac)} is a multicast address (lowest bit of the first byte set); a NIC needs a unicast MAC`);
    } else {
      mac = mac.toLowerCase();
    }
  }
  return {
    ...(tap !== undefined ? { tap } : {}),
    ...(sw !== undefined ? { switch: sw } : {}),
    model: f.orDefault("model", f.oneOf("model", NIC_MODELS), DEFAULTS.nic.model),
    mac,
    slot: f.slot("slot"),
    ...(fn !== undefined ? { function: fn } : {}),
  };
}

/**
 * A disk's or NIC's PCI function within its slot (0-7; vm-bhyve packs a guest's NICs, and a loaded
 * guest's disks, as functions of one slot): only with a slot given.
 */
function slotFunction(f: Fields): number | undefined {
  const fn = f.int("function", 0, 7);
  if (fn !== undefined && f.raw("slot") === undefined) return f.fail("function", "a function is within a slot: give slot as well");
  return fn;
}

function decodePassthru(value: unknown, path: string, problems: ProblemList): NonNullable<DraftState["guests"][number]["passthru"]>[number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["device", "slot", "function", "rom", "bootindex"], ["device", "slot"]);
  const bootindex = f.int("bootindex", 0, 65535);
  const device = f.pciAddress("device");
  let fn = f.int("function", 0, 7);
  if (fn === undefined && f.raw("function") === undefined && device !== undefined) {
    if (device.function > 7) {
      f.fail("function", `the host function ${device.function} (ARI) cannot be a guest function; set function to 0-7`);
    } else {
      fn = device.function;
    }
  }
  return { device, slot: f.slot("slot"), function: fn, rom: f.hostPath("rom"), ...(bootindex !== undefined ? { bootindex } : {}) };
}

function decodeSwitch(value: unknown, path: string, problems: ProblemList): DraftState["switches"][number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["name", "uplink", "vlan", "mtu"], ["name"]);
  let name = f.string("name");
  if (name !== undefined && !GUEST_NAME.test(name)) name = f.fail("name", `${quote(name)} is not a switch name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit`);
  let uplink = f.string("uplink");
  if (uplink !== undefined && !IFNAME.test(uplink)) uplink = f.fail("uplink", `${quote(uplink)} is not an interface name (a letter, then letters, digits, _ or .; at most 15 characters)`);
  const vlan = f.int("vlan", 1, 4094);
  if (vlan !== undefined && f.raw("uplink") === undefined) f.fail("vlan", "a VLAN is carried on an uplink; set uplink, or drop vlan for a host-only switch");
  // A VLAN that did not decode leaves the uplink out of the cross-switch rules (it is not "untagged").
  if (vlan === undefined && f.raw("vlan") !== undefined) uplink = undefined;
  const mtu = f.int("mtu", 576, 16000);
  return { name, ...(uplink !== undefined ? { uplink } : {}), ...(vlan !== undefined ? { vlan } : {}), ...(mtu !== undefined ? { mtu } : {}) };
}

const GUEST_KEYS = [
  "name", "cpus", "memory", "bootrom", "wired", "disks", "nics", "passthru", "state", "restart", "start_order",
  "rtc", "ignore_unknown_msrs", "hostbridge", "sockets", "cores", "threads", "cpu_pinning", "uuid", "uefi_vars", "console", "adopt", "exit_on_pause",
  "framebuffer", "cloud_init",
] as const;

/** The guest slots a framebuffer takes: the display (fbuf) and the USB tablet (xhci) beside it. */
export const FRAMEBUFFER_SLOT = 29;
/** See {@link FRAMEBUFFER_SLOT}. */
export const TABLET_SLOT = 30;

/** The lowest port the agent allocates for a framebuffer (VNC's display :0). */
export const FIRST_VNC_PORT = 5900;

/** Whether an address is on loopback (127.0.0.0/8 or ::1): reachable only from the host itself. */
export function isLoopbackAddress(a: string): boolean {
  return (isIPv4(a) && a.startsWith("127.")) || (isIPv6(a) && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(a));
}

/** Whether an address is, or could be read as, the unspecified one (0.0.0.0 or ::, in any spelling): every address of the host. */
export function isUnspecifiedAddress(a: string): boolean {
  return /^[0.]+$/.test(a) || /^[0:]+$/.test(a);
}

function decodeFramebuffer(value: unknown, path: string, problems: ProblemList): Partial<Framebuffer> | undefined {
  const f = mapping(value, path, problems);
  if (!f) return undefined;
  f.keys(["width", "height", "wait", "listen", "port"]);
  let listen = f.string("listen");
  // rfb_init() takes a numeric host only (AI_NUMERICHOST); a zone (%) cannot stand in bhyve's option.
  if (listen !== undefined && (listen.includes("%") || (!isIPv4(listen) && !isIPv6(listen)))) listen = f.fail("listen", `${quote(listen)} is not an IPv4 or IPv6 address (a numeric address such as 127.0.0.1 or ::1; bhyve does not resolve names)`);
  const port = f.int("port", 1024, 65535);
  return {
    width: f.orDefault("width", f.int("width", 640, 3840), DEFAULTS.framebuffer.width),
    height: f.orDefault("height", f.int("height", 480, 2160), DEFAULTS.framebuffer.height),
    wait: f.orDefault("wait", f.bool("wait"), DEFAULTS.framebuffer.wait),
    listen: f.orDefault("listen", listen?.toLowerCase(), DEFAULTS.framebuffer.listen),
    ...(port !== undefined ? { port } : {}),
  };
}

/** The largest user-data, meta-data or network-config the agent puts on a seed. */
export const MAX_CLOUD_INIT_BYTES = 64 * 1024;

function decodeCloudInit(value: unknown, path: string, problems: ProblemList): Partial<CloudInit> | undefined {
  const f = mapping(value, path, problems);
  if (!f) return undefined;
  f.keys(["user_data", "meta_data", "network_config"], ["user_data"]);
  const text = (key: string, yamlMapping: boolean): string | undefined => {
    const v = f.text(key);
    if (v === undefined) return undefined;
    const bytes = utf8Length(v);
    if (bytes > MAX_CLOUD_INIT_BYTES) return f.fail(key, `is ${bytes} bytes; a seed file holds at most ${MAX_CLOUD_INIT_BYTES} (64K): fetch larger content from the guest (write_files, runcmd)`);
    // cloud-config (user-data that says so), meta-data and network-config are YAML: a mistake shows now, not at the guest's first boot.
    if (yamlMapping || /^#cloud-config[ \t]*\r?\n/.test(v) || v.trim() === "#cloud-config") {
      const doc = parseYamlDocument(v);
      if (doc.errors.length) return f.fail(key, `is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
      let data: unknown;
      try {
        // Aliases bounded: a document that expands them without end is refused, not followed.
        data = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        return f.fail(key, `is not usable YAML: ${(err as Error).message.split("\n")[0]}`);
      }
      if (data !== null && data !== undefined && !isMapping(data)) return f.fail(key, `must be a YAML mapping (key: value lines), got ${describe(data)}`);
    }
    return v;
  };
  const userData = text("user_data", false);
  const metaData = text("meta_data", true);
  const networkConfig = text("network_config", true);
  return { userData, ...(metaData !== undefined ? { metaData } : {}), ...(networkConfig !== undefined ? { networkConfig } : {}) };
}

/** An SMBIOS UUID as bhyve's -U takes it: 8-4-4-4-12 hex digits. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The highest host CPU number a pin may name: CPU_SETSIZE on FreeBSD 14 and 15 is 1024. */
const MAX_HOST_CPU = 1023;

function decodePin(value: unknown, path: string, problems: ProblemList): Partial<CpuPin> {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(["vcpu", "host_cpu"], ["vcpu", "host_cpu"]);
  return { vcpu: f.int("vcpu", 0, 4095), hostCpu: f.int("host_cpu", 0, MAX_HOST_CPU) };
}

function decodeGuest(value: unknown, path: string, problems: ProblemList): DraftState["guests"][number] {
  const f = mapping(value, path, problems);
  if (!f) return {};
  f.keys(GUEST_KEYS, ["name", "cpus", "memory"]);
  let name = f.string("name");
  if (name !== undefined && !GUEST_NAME.test(name)) {
    name = f.fail("name", `${quote(name)} is not a guest name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit`);
  }
  const cpus = f.int("cpus", 1, 4096);
  let memory = f.size("memory", "32G");
  if (memory !== undefined && memory < MIN_MEMORY) memory = f.fail("memory", `${f.raw("memory")} is below the smallest guest, 128M`);
  else if (memory !== undefined && memory % MIB !== 0) memory = f.fail("memory", `${f.raw("memory")} is not a whole number of megabytes`);
  const bootrom = f.hostPath("bootrom");
  let uefiVars = f.bool("uefi_vars");
  if (uefiVars === true && f.raw("bootrom") === undefined) uefiVars = f.fail("uefi_vars", "UEFI variables need a UEFI guest: set bootrom, or drop uefi_vars");
  const disks = f.list("disks", (v, p) => decodeDisk(v, p, problems));
  const nics = f.list("nics", (v, p) => decodeNic(v, p, problems));
  const passthru = f.list("passthru", (v, p) => decodePassthru(v, p, problems));
  const sockets = f.int("sockets", 1, 4096);
  const cores = f.int("cores", 1, 4096);
  const threads = f.int("threads", 1, 4096);
  if (cpus !== undefined && (sockets ?? cores ?? threads) !== undefined && (sockets ?? 1) * (cores ?? 1) * (threads ?? 1) !== cpus) {
    const product = (sockets ?? 1) * (cores ?? 1) * (threads ?? 1);
    f.fail(f.raw("sockets") !== undefined ? "sockets" : f.raw("cores") !== undefined ? "cores" : "threads",
      `sockets x cores x threads is ${sockets ?? 1} x ${cores ?? 1} x ${threads ?? 1} = ${product}, not the guest's ${cpus} cpus`);
  }
  const pins = f.list("cpu_pinning", (v, p) => decodePin(v, p, problems));
  const pinned = new Map<number, number>();
  pins.forEach((p, i) => {
    if (p.vcpu === undefined) return;
    const where = at(at(at(path, "cpu_pinning"), i), "vcpu");
    if (cpus !== undefined && p.vcpu >= cpus) problems.add(where, `vCPU ${p.vcpu} does not exist: the guest has ${cpus} (0-${cpus - 1})`);
    else if (pinned.has(p.vcpu)) problems.add(where, `vCPU ${p.vcpu} is already pinned in cpu_pinning[${pinned.get(p.vcpu)}]`);
    else pinned.set(p.vcpu, i);
  });
  // pci_emul_add_boot_device(): one device per boot index.
  const boots = new Map<number, string>();
  const bootUse = (where: string, n: number | undefined): void => {
    if (n === undefined) return;
    const first = boots.get(n);
    if (first !== undefined) problems.add(at(at(path, where), "bootindex"), `boot index ${n} is already ${first}'s`);
    else boots.set(n, where);
  };
  disks.forEach((d, i) => bootUse(`disks[${i}]`, d.bootindex));
  passthru.forEach((p, i) => bootUse(`passthru[${i}]`, p.bootindex));
  let framebuffer: Partial<Framebuffer> | undefined;
  if (f.raw("framebuffer") !== undefined) {
    framebuffer = decodeFramebuffer(f.raw("framebuffer"), at(path, "framebuffer"), problems);
    // pci_fbuf is for the UEFI firmware's GOP: a guest loaded by bhyveload never draws on it.
    if (f.raw("bootrom") === undefined) framebuffer = f.fail("framebuffer", "a framebuffer needs a UEFI guest: set bootrom, or drop framebuffer (a bhyveload guest has the serial console)");
  }
  const cloudInit = f.raw("cloud_init") !== undefined ? decodeCloudInit(f.raw("cloud_init"), at(path, "cloud_init"), problems) : undefined;
  let uuid = f.string("uuid");
  if (uuid !== undefined) {
    if (!UUID.test(uuid.toLowerCase())) uuid = f.fail("uuid", `${quote(uuid)} is not a UUID; write 8-4-4-4-12 hex digits (6ba7b810-9dad-11d1-80b4-00c04fd430c8), or leave uuid out and the agent makes one`);
    else uuid = uuid.toLowerCase();
  }
  return {
    name,
    cpus,
    memory,
    bootrom,
    uefiVars: uefiVars ?? (bootrom !== undefined),
    console: f.orDefault("console", f.bool("console"), DEFAULTS.guest.console),
    wired: f.orDefault("wired", f.bool("wired"), passthru.length > 0),
    disks,
    nics,
    passthru,
    state: f.orDefault("state", f.oneOf("state", GUEST_STATES), DEFAULTS.guest.state),
    restart: f.orDefault("restart", f.oneOf("restart", RESTART_POLICIES), DEFAULTS.guest.restart),
    startOrder: f.orDefault("start_order", f.int("start_order", -1_000_000, 1_000_000), DEFAULTS.guest.start_order),
    rtc: f.orDefault("rtc", f.oneOf("rtc", RTC_MODES), DEFAULTS.guest.rtc),
    ignoreUnknownMsrs: f.orDefault("ignore_unknown_msrs", f.bool("ignore_unknown_msrs"), DEFAULTS.guest.ignore_unknown_msrs),
    hostbridge: f.orDefault("hostbridge", f.oneOf("hostbridge", HOSTBRIDGES), DEFAULTS.guest.hostbridge),
    exitOnPause: f.orDefault("exit_on_pause", f.bool("exit_on_pause"), DEFAULTS.guest.exit_on_pause),
    ...(sockets !== undefined ? { sockets } : {}),
    ...(cores !== undefined ? { cores } : {}),
    ...(threads !== undefined ? { threads } : {}),
    cpuPinning: pins as CpuPin[],
    ...(uuid !== undefined ? { uuid } : {}),
    ...(framebuffer !== undefined ? { framebuffer: framebuffer as Framebuffer } : {}),
    ...(cloudInit?.userData !== undefined ? { cloudInit: cloudInit as CloudInit } : {}),
    adopt: f.orDefault("adopt", f.bool("adopt"), DEFAULTS.guest.adopt),
  };
}

/** Decodes plain data (as parsed from YAML or JSON) into a draft, recording every problem. */
export function decodeDocument(data: unknown, problems: ProblemList): DraftState {
  if (data === undefined || data === null) return { host: decodeHost(undefined, problems), ppt: [], switches: [], guests: [] };
  const f = mapping(data, "", problems);
  if (!f) return { host: decodeHost(undefined, problems), ppt: [], switches: [], guests: [] };
  f.keys(DOCUMENT_KEYS);
  return {
    host: decodeHost(f.raw("host"), problems),
    ppt: f.list("ppt", (v, p) => decodePpt(v, p, problems)),
    switches: f.list("switches", (v, p) => decodeSwitch(v, p, problems)),
    guests: f.list("guests", (v, p) => decodeGuest(v, p, problems)),
  };
}
