/**
 * Simulated zfs(8), the subcommands the agent uses: create (-p -s -b -o, -V), destroy (-r), list
 * (-H -p -r -d -t -o), get (-H -p -o), set, snapshot and clone (-p -o), with OpenZFS 2.2's output
 * and messages (cmd/zfs/zfs_main.c, lib/libzfs/libzfs_dataset.c): `cannot create 'X': dataset
 * already exists`, `'volsize' must be a multiple of volume block size (16K)`, `out of space`, ...
 * Usage errors exit 2, failures 1. The pool lives in the machine state (sandbox/zfs-pool.ts).
 */
import { readMachine, updateMachine } from "../machine.js";
import { runningPid } from "../vm.js";
import { available, DEFAULT_VOLBLOCKSIZE, newFilesystem, poolOf, syncZvolNode, volsizeToReservation, zfsOf, type ZfsDataset, type ZfsState } from "../zfs-pool.js";
import { getopt, type ToolIO } from "./tool.js";

/** A failure reported as zfs does, with its exit status. */
class ZfsFailure extends Error {
  constructor(readonly text: string, readonly status = 1) {
    super(text);
  }
}

const fail = (text: string, status = 1): never => {
  throw new ZfsFailure(text, status);
};

const USAGE: Record<string, string> = {
  create: "usage:\n\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n\tcreate [-Pnpsv] [-b blocksize] [-o property=value] ... -V <size> <volume>\n",
  destroy: "usage:\n\tdestroy [-fnpRrv] <filesystem|volume>\n\tdestroy [-dnpRrv] <filesystem|volume>@<snap>[%<snap>][,...]\n\tdestroy <filesystem|volume>#<bookmark>\n",
  list: "usage:\n\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]...\n\t    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n",
  get: "usage:\n\tget [-rHp] [-d max] [-o \"all\" | field[,...]]\n\t    [-t type[,...]] [-s source[,...]]\n\t    <\"all\" | property[,...]> [filesystem|volume|snapshot|bookmark] ...\n",
  set: "usage:\n\tset <property=value> ... <filesystem|volume|snapshot> ...\n",
  snapshot: "usage:\n\tsnapshot [-r] [-o property=value] ... <filesystem|volume>@<snap> ...\n",
  clone: "usage:\n\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n",
};

const usage = (cmd: string, msg = ""): never => fail(`${msg}${USAGE[cmd]}`, 2);

/** zfs_nicestrtonum(): a number (a fraction allowed) with an optional B K M G T P E suffix, optionally followed by B or iB, any case. */
export function zfsNumber(text: string): number | string {
  if (!/^[0-9.]/.test(text)) return `bad numeric value '${text}'`;
  const m = /^(\d*(?:\.\d*)?)(.*)$/.exec(text)!;
  const suffix = m[2]!;
  const units = "BKMGTPEZ";
  let shift = 0;
  if (suffix !== "") {
    const i = units.indexOf(suffix[0]!.toUpperCase());
    const rest = suffix.slice(1).toLowerCase();
    if (i < 0 || !(rest === "" || (i > 0 && (rest === "b" || rest === "ib")))) return `invalid numeric suffix '${suffix}'`;
    shift = 10 * i;
  }
  const n = Math.floor(Number(m[1]) * 2 ** shift);
  if (!Number.isFinite(n) || n > Number.MAX_SAFE_INTEGER || shift >= 70) return "numeric value is too large";
  return n;
}

/** zfs_nicebytes(): 16K, 20G, 1.50G. */
function niceBytes(n: number): string {
  const units = ["", "K", "M", "G", "T", "P", "E"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n}B`;
  return Number.isInteger(v) ? `${v}${units[i]}` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${units[i]}`;
}

/** zfs_validate_name() for the names the sandbox meets, with libzfs' words. */
function nameProblem(name: string, snapshot: "no" | "yes" | "any"): string | null {
  if (name.length >= 256) return "name is too long";
  if (name.startsWith("/")) return "leading slash in name";
  if (name.endsWith("/")) return "trailing slash in name";
  const at = name.split("@");
  if (at.length > 2) return "multiple '@' and/or '#' delimiters in name";
  if (at.length === 2 && snapshot === "no") return "snapshot delimiter '@' is not expected here";
  if (at.length === 1 && snapshot === "yes") return "missing '@' delimiter in snapshot name";
  const parts = at[0]!.split("/");
  if (at[1] !== undefined) parts.push(at[1]);
  for (const p of parts) {
    if (p === "") return "empty component or misplaced '@' or '#' delimiter in name";
    if (p === ".") return "self reference, '.' is found in name";
    if (p === "..") return "parent reference, '..' is found in name";
    const bad = [...p].find((c) => !/[A-Za-z0-9_.: -]/.test(c));
    if (bad !== undefined) return `invalid character '${bad}' in name`;
  }
  if (!/^[A-Za-z]/.test(name)) return "pool doesn't begin with a letter";
  return null;
}

/**
 * The parents `target` needs, checked as libzfs' check_parents() does: each one there must be a
 * file system, and a missing one is refused unless `-p` makes it (see {@link makeParents}).
 */
function parentsOf(z: ZfsState, target: string, action: string, withP: boolean): string[] {
  const parent = target.slice(0, target.lastIndexOf("/"));
  const ancestors = parent.split("/").map((_, i, a) => a.slice(0, i + 1).join("/"));
  for (const a of ancestors) {
    const d = z.datasets[a];
    if (d && d.type !== "filesystem") fail(`${action}: parent is not a filesystem\n`);
    if (!d && !withP) fail(`${action}: parent does not exist\n`);
  }
  return ancestors;
}

/** Makes the missing ones of `ancestors` as file systems (zfs_create_ancestors). */
function makeParents(z: ZfsState, ancestors: readonly string[], now: number): void {
  for (const a of ancestors) z.datasets[a] ??= newFilesystem(now);
}

/** A user property: a colon in the name, lowercase letters, digits and - _ . : only (zfs_prop_user). */
const isUserProperty = (p: string): boolean => p.includes(":") && /^[a-z0-9_.:-]+$/.test(p) && p.length < 256;
const NATIVE = ["name", "type", "creation", "used", "available", "avail", "referenced", "refer", "volsize", "volblocksize", "refreservation", "refreserv", "volmode", "origin", "mountpoint", "compression"];
const ALIASES: Record<string, string> = { avail: "available", refer: "referenced", refreserv: "refreservation" };

function parseProps(opts: Array<[string, string]>, cmd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, kv] of opts.filter(([o]) => o === "o")) {
    const eq = kv.indexOf("=");
    if (eq < 0) fail(`missing '=' for property=value argument\n${USAGE[cmd]}`, 2);
    const k = kv.slice(0, eq);
    if (k in out) fail(`property '${k}' specified multiple times\n${USAGE[cmd]}`, 2);
    out[k] = kv.slice(eq + 1);
  }
  return out;
}

/** Checks properties given at creation or with set, as zfs_valid_proplist() does; returns them normalised. */
function validProps(z: ZfsState, props: Record<string, string>, type: ZfsDataset["type"], action: string, existing?: ZfsDataset): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k0, v] of Object.entries(props)) {
    const k = ALIASES[k0] ?? k0;
    if (isUserProperty(k)) {
      if (v.length >= 8192) fail(`${action}: property value too long\n`);
      out[k] = v;
      continue;
    }
    if (!NATIVE.includes(k0)) fail(`${action}: invalid property '${k0}'\n`);
    if (["name", "type", "creation", "used", "available", "referenced", "origin"].includes(k)) fail(`${action}: '${k}' is readonly\n`);
    if (k === "volmode") {
      if (!["default", "full", "geom", "dev", "none"].includes(v)) fail(`${action}: 'volmode' must be one of 'default | full | geom | dev | none'\n`);
      out[k] = v === "full" ? "geom" : v;
    } else if (k === "volsize" || k === "volblocksize" || k === "refreservation") {
      if (type !== "volume") fail(`${action}: '${k}' does not apply to datasets of this type\n`);
      if (k === "volblocksize" && existing) fail(`${action}: 'volblocksize' is readonly\n`);
      if (k === "refreservation" && (v === "none" || v === "auto")) {
        out[k] = v;
        continue;
      }
      const n = zfsNumber(v);
      if (typeof n === "string") fail(`${action}: bad numeric value '${v}'\n`);
      if (k === "volblocksize" && (!Number.isInteger(Math.log2(n as number)) || (n as number) < 512 || (n as number) > 131072)) fail(`${action}: 'volblocksize' must be power of 2 from 512B to 128K\n`);
      if (k === "volsize") {
        if (n === 0) fail(`${action}: 'volsize' cannot be zero\n`);
        const bs = existing?.volblocksize ?? DEFAULT_VOLBLOCKSIZE;
        if (existing && (n as number) % bs !== 0) fail(`${action}: 'volsize' must be a multiple of volume block size (${niceBytes(bs)})\n`);
      }
      out[k] = String(n);
    } else {
      out[k] = v;
    }
  }
  void z;
  return out;
}

/** The datasets the operands name, each with its children when recursing (to `depth`). */
function select(z: ZfsState, operands: readonly string[], depth: number, types: ReadonlySet<string>, io: ToolIO): { names: string[]; failed: boolean } {
  const names: string[] = [];
  let failed = false;
  const all = Object.keys(z.datasets).sort(compareNames);
  const roots = operands.length ? operands : Object.keys(z.pools);
  for (const r of roots) {
    const ds = z.datasets[r];
    if (!ds) {
      io.err(`cannot open '${r}': ${nameProblem(r, "any") ?? "dataset does not exist"}\n`);
      failed = true;
      continue;
    }
    if (depth === 0 && !types.has(ds.type) && operands.length) {
      io.err(`cannot open '${r}': operation not applicable to datasets of this type\n`);
      failed = true;
      continue;
    }
    for (const n of all) {
      if (n !== r && !n.startsWith(`${r}/`) && !n.startsWith(`${r}@`)) continue;
      const d = n === r ? 0 : n.slice(r.length).split(/[/@]/).length - 1;
      if (d > depth || !types.has(z.datasets[n]!.type)) continue;
      if (!names.includes(n)) names.push(n);
    }
  }
  return { names, failed };
}

/** zfs list's order: by name, a dataset's snapshots right after it, before its children. */
function compareNames(a: string, b: string): number {
  const key = (n: string): string => n.replace("@", "\u0001").replace(/\//g, "\u0002");
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** A property's value and source, as zfs get and list print them. */
function property(z: ZfsState, name: string, prop: string, parsable: boolean): { value: string; source: string } {
  const ds = z.datasets[name]!;
  const p = ALIASES[prop] ?? prop;
  const num = (n: number): string => (parsable ? String(n) : niceBytes(n));
  const na = { value: "-", source: "-" };
  switch (p) {
    case "name":
      return { value: name, source: "-" };
    case "type":
      return { value: ds.type, source: "-" };
    case "creation":
      return { value: parsable ? String(ds.creation) : new Date(ds.creation * 1000).toUTCString(), source: "-" };
    case "used": {
      const children = Object.entries(z.datasets).filter(([n]) => n.startsWith(`${name}/`)).reduce((s, [, d]) => s + Math.max(d.refreservation, d.referenced), 0);
      return { value: num(ds.type === "snapshot" ? 0 : Math.max(ds.refreservation, ds.referenced) + children), source: "-" };
    }
    case "available":
      return ds.type === "snapshot" ? na : { value: num(available(z, poolOf(name)) + (ds.type === "volume" ? Math.max(0, ds.refreservation - ds.referenced) : 0)), source: "-" };
    case "referenced":
      return { value: num(ds.referenced), source: "-" };
    case "volsize":
      return ds.volsize === undefined ? na : { value: num(ds.volsize), source: ds.type === "snapshot" ? "-" : "local" };
    case "volblocksize":
      // A volume's property: a snapshot of a volume has none to show (zprop_valid_for_type).
      return ds.volblocksize === undefined || ds.type === "snapshot" ? na : { value: num(ds.volblocksize), source: "default" };
    case "refreservation":
      return ds.type === "snapshot" ? na : { value: ds.refreservation === 0 ? (parsable ? "0" : "none") : num(ds.refreservation), source: ds.refreservation === 0 ? "default" : "local" };
    case "volmode":
      return ds.type === "snapshot" ? na : inherited(z, name, "volmode", "default");
    case "origin":
      return ds.origin === undefined ? na : { value: ds.origin, source: "-" };
    case "mountpoint":
      return ds.type !== "filesystem" ? na : { value: `/${name}`, source: "default" };
    case "compression":
      return ds.type === "snapshot" ? na : inherited(z, name, "compression", "lz4");
    default:
      return isUserProperty(p) ? inherited(z, name, p, "-") : na;
  }
}

/** A property set on the dataset or inherited from an ancestor. */
function inherited(z: ZfsState, name: string, prop: string, fallback: string): { value: string; source: string } {
  const own = z.datasets[name]!.props[prop];
  if (own !== undefined) return { value: own, source: "local" };
  const parts = name.split("@")[0]!.split("/");
  for (let i = parts.length - (name.includes("@") ? 0 : 1); i > 0; i--) {
    const anc = parts.slice(0, i).join("/");
    const v = z.datasets[anc]?.props[prop];
    if (v !== undefined) return { value: v, source: `inherited from ${anc}` };
  }
  return { value: fallback, source: fallback === "-" ? "-" : "default" };
}

function cmdCreate(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "PV:b:nso:puv");
  if ("bad" in g) return usage("create", g.missingArg ? `missing size argument\n` : `invalid option '${g.bad}'\n`);
  const has = (o: string): boolean => g.opts.some(([x]) => x === o);
  const volsizeText = g.opts.find(([o]) => o === "V")?.[1];
  if ((has("s") || has("b")) && volsizeText === undefined) usage("create", "'-s' and '-b' can only be used when creating a volume\n");
  if (g.operands.length === 0) usage("create", volsizeText !== undefined ? "missing volume argument\n" : "missing filesystem argument\n");
  if (g.operands.length > 1) usage("create", "too many arguments\n");
  const name = g.operands[0]!;
  const action = `cannot create '${name}'`;
  const props = parseProps(g.opts, "create");
  let volsize: number | undefined;
  if (volsizeText !== undefined) {
    const n = zfsNumber(volsizeText);
    if (typeof n === "string") fail(`bad volume size '${volsizeText}': ${n}\n`);
    volsize = n as number;
  }
  const bText = g.opts.find(([o]) => o === "b")?.[1];
  if (bText !== undefined) {
    const n = zfsNumber(bText);
    if (typeof n === "string") fail(`bad volume block size '${bText}': ${n}\n`);
    props.volblocksize = String(n);
  }
  return updateMachine(io.root, (m) => {
    const z = zfsOf(m);
    const pool = poolOf(name);
    if (volsize !== undefined && !z.pools[pool]) fail(`cannot open '${pool}': no such pool\n`);
    const why = nameProblem(name, "no");
    if (why) fail(`${action}: ${why}\n`);
    const type = volsize !== undefined ? "volume" : "filesystem";
    const valid = validProps(z, props, type, action);
    if (!name.includes("/")) fail(`${action}: missing dataset name\n`);
    if (!z.pools[pool]) fail(`${action}: no such pool '${pool}'\n`);
    const ancestors = parentsOf(z, name, action, has("p"));
    if (z.datasets[name]) {
      if (has("p")) return 0;
      fail(`${action}: dataset already exists\n`);
    }
    let ds: ZfsDataset;
    const now = Math.floor(Date.now() / 1000);
    if (type === "volume") {
      if (volsize === 0) fail(`${action}: volume size cannot be zero\n`);
      const bs = valid.volblocksize !== undefined ? Number(valid.volblocksize) : DEFAULT_VOLBLOCKSIZE;
      // OpenZFS 2.0 and later round the size up to the block size (zfs_do_create).
      const size = Math.ceil(volsize! / bs) * bs;
      let refres = has("s") ? 0 : volsizeToReservation(size, bs);
      if (valid.refreservation !== undefined) refres = valid.refreservation === "none" ? 0 : valid.refreservation === "auto" ? volsizeToReservation(size, bs) : Number(valid.refreservation);
      if (refres > available(z, pool)) fail(`${action}: out of space\n`);
      const { volblocksize: _b, volsize: _v, refreservation: _r, ...rest } = valid;
      ds = { type, creation: now, volsize: size, volblocksize: bs, refreservation: refres, referenced: 0, props: rest };
    } else {
      ds = newFilesystem(now, valid);
    }
    makeParents(z, ancestors, now);
    z.datasets[name] = ds;
    syncZvolNode(io.root, name, ds);
    return 0;
  });
}

function cmdDestroy(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "vpndfrR");
  if ("bad" in g) return usage("destroy", `invalid option '${g.bad}'\n`);
  if (g.operands.length === 0) usage("destroy", "missing dataset argument\n");
  if (g.operands.length > 1) usage("destroy", "too many arguments\n");
  const recursive = g.opts.some(([o]) => o === "r" || o === "R");
  const name = g.operands[0]!;
  return updateMachine(io.root, (m) => {
    const z = zfsOf(m);
    const base = name.split("@")[0]!;
    if (!z.datasets[base]) fail(`cannot open '${base}': dataset does not exist\n`);
    if (name.includes("@") && !z.datasets[name]) fail("could not find any snapshots to destroy; check snapshot names.\n");
    if (!name.includes("/") && !name.includes("@")) {
      fail(`cannot destroy '${name}': operation does not apply to pools\nuse 'zfs destroy -r ${name}' to destroy all datasets in the pool\nuse 'zpool destroy ${name}' to destroy the pool itself\n`);
    }
    const ds = z.datasets[name]!;
    const children = Object.keys(z.datasets).filter((n) => n.startsWith(`${name}/`) || n.startsWith(`${name}@`)).sort(compareNames);
    if (children.length && !recursive) {
      fail(`cannot destroy '${name}': ${ds.type} has children\nuse '-r' to destroy the following datasets:\n${children.join("\n")}\n`);
    }
    const doomed = [name, ...children];
    const clones = Object.entries(z.datasets).filter(([n, d]) => d.origin !== undefined && doomed.includes(d.origin) && !doomed.includes(n)).map(([n]) => n);
    if (clones.length && !g.opts.some(([o]) => o === "R")) {
      const snap = z.datasets[clones[0]!]!.origin!;
      fail(`cannot destroy '${snap}': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n${clones.join("\n")}\n`);
    }
    // A volume a running bhyve has open (its /dev/zvol node in a slot's option) cannot go: EBUSY.
    for (const n of doomed) {
      const user = Object.values(m.vms).find((vm) => runningPid(vm) !== null && vm.process!.argv.some((a) => a.split(",").includes(`/dev/zvol/${n}`)));
      if (user) fail(`cannot destroy '${n}': dataset is busy\n`);
    }
    for (const n of doomed) {
      delete z.datasets[n];
      syncZvolNode(io.root, n, undefined);
    }
    return 0;
  });
}

function columns(text: string, cmd: string): string[] {
  const cols = text.split(",");
  if (cols.some((c) => c === "")) usage(cmd, "invalid property ''\n");
  return cols;
}

function cmdList(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "HS:d:o:prs:t:");
  if ("bad" in g) return usage("list", `invalid option '${g.bad}'\n`);
  const scripted = g.opts.some(([o]) => o === "H");
  const parsable = g.opts.some(([o]) => o === "p");
  const cols = columns(g.opts.find(([o]) => o === "o")?.[1] ?? "name,used,available,referenced,mountpoint", "list");
  for (const c of cols) if (!NATIVE.includes(c) && !isUserProperty(c)) usage("list", `invalid property '${c}'\n`);
  const typesText = g.opts.find(([o]) => o === "t")?.[1] ?? "filesystem,volume";
  const types = new Set<string>();
  for (const t of typesText.split(",")) {
    if (t === "all") ["filesystem", "volume", "snapshot"].forEach((x) => types.add(x));
    else if (t === "snap") types.add("snapshot");
    else if (["filesystem", "volume", "snapshot", "bookmark"].includes(t)) types.add(t);
    else usage("list", `invalid type '${t}'\n`);
  }
  const dText = g.opts.find(([o]) => o === "d")?.[1];
  let depth = g.opts.some(([o]) => o === "r") || g.operands.length === 0 ? Infinity : 0;
  if (dText !== undefined) {
    if (!/^\d+$/.test(dText)) usage("list", `${dText} is not an integer\n`);
    depth = Number(dText);
  }
  // -t snapshot with a dataset and no -r or -d lists that dataset's snapshots.
  if (depth === 0 && types.size === 1 && types.has("snapshot") && g.operands.length) depth = 1;
  const z = zfsOf(readMachine(io.root));
  const { names, failed } = select(z, g.operands, depth, types, io);
  const rows = names.map((n) => cols.map((c) => property(z, n, c, parsable).value));
  if (scripted) io.out(rows.map((r) => `${r.join("\t")}\n`).join(""));
  else if (rows.length) {
    const head = cols.map((c) => (ALIASES[c] ?? c).toUpperCase().replace("AVAILABLE", "AVAIL").replace("REFERENCED", "REFER").replace("REFRESERVATION", "REFRESERV"));
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    io.out([head, ...rows].map((r) => `${r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ")}\n`).join(""));
  } else if (!failed) io.err("no datasets available\n");
  return failed ? 1 : 0;
}

function cmdGet(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "d:o:s:rt:Hp");
  if ("bad" in g) return usage("get", `invalid option '${g.bad}'\n`);
  if (g.operands.length === 0) usage("get", "missing property argument\n");
  const scripted = g.opts.some(([o]) => o === "H");
  const parsable = g.opts.some(([o]) => o === "p");
  const fields = columns(g.opts.find(([o]) => o === "o")?.[1] ?? "name,property,value,source", "get");
  for (const f of fields) if (!["name", "property", "value", "source", "received"].includes(f)) usage("get", `invalid column name '${f}'\n`);
  const props = g.operands[0]!.split(",");
  for (const p of props) if (p !== "all" && !NATIVE.includes(p) && !isUserProperty(p)) usage("get", `bad property list: invalid property '${p}'\n`);
  const z = zfsOf(readMachine(io.root));
  const depth = g.opts.some(([o]) => o === "r") ? Infinity : 0;
  const { names, failed } = select(z, g.operands.slice(1), depth, new Set(["filesystem", "volume", "snapshot"]), io);
  const wanted = props.includes("all") ? NATIVE.filter((p) => !(p in ALIASES)) : props;
  const rows: string[][] = [];
  for (const n of names) {
    for (const p of wanted) {
      const v = property(z, n, p, parsable);
      rows.push(fields.map((f) => (f === "name" ? n : f === "property" ? ALIASES[p] ?? p : f === "value" ? v.value : f === "source" ? v.source : "-")));
    }
  }
  if (scripted) io.out(rows.map((r) => `${r.join("\t")}\n`).join(""));
  else {
    const head = fields.map((f) => f.toUpperCase());
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    io.out([head, ...rows].map((r) => `${r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ")}\n`).join(""));
  }
  return failed ? 1 : 0;
}

function cmdSet(io: ToolIO, args: readonly string[]): number {
  if (args.length < 2) usage("set", args.length === 0 ? "missing arguments\n" : "missing dataset name(s)\n");
  const assignments: Record<string, string> = {};
  let i = 0;
  for (; i < args.length && args[i]!.includes("="); i++) {
    const a = args[i]!;
    const k = a.slice(0, a.indexOf("="));
    if (k in assignments) fail(`property '${k}' specified multiple times\n`, 255);
    assignments[k] = a.slice(a.indexOf("=") + 1);
  }
  if (i === 0) fail(`missing '=' for property=value argument\n`, 255);
  const targets = args.slice(i);
  if (targets.length === 0) usage("set", "missing dataset name(s)\n");
  if (targets.some((t) => t.includes("="))) usage("set", "invalid argument order\n");
  return updateMachine(io.root, (m) => {
    const z = zfsOf(m);
    let status = 0;
    for (const name of targets) {
      const ds = z.datasets[name];
      if (!ds) {
        io.err(`cannot open '${name}': dataset does not exist\n`);
        status = 1;
        continue;
      }
      const action = `cannot set property for '${name}'`;
      try {
        const valid = validProps(z, assignments, ds.type, action, ds);
        const next: ZfsDataset = { ...ds, props: { ...ds.props } };
        for (const [k, v] of Object.entries(valid)) {
          if (k === "volsize") {
            const size = Number(v);
            // zfs_add_synthetic_resv(): a thick volume's reservation follows its size.
            if (ds.refreservation !== 0 && ds.refreservation === volsizeToReservation(ds.volsize!, ds.volblocksize!)) next.refreservation = volsizeToReservation(size, ds.volblocksize!);
            next.volsize = size;
          } else if (k === "refreservation") {
            next.refreservation = v === "none" ? 0 : v === "auto" ? volsizeToReservation(next.volsize!, next.volblocksize!) : Number(v);
          } else next.props[k] = v;
        }
        if (next.refreservation > ds.refreservation && next.refreservation - ds.refreservation > available(z, poolOf(name))) {
          fail(`${action}: ${"refreservation" in valid ? "size is greater than available space" : "out of space"}\n`);
        }
        z.datasets[name] = next;
        syncZvolNode(io.root, name, next);
      } catch (e) {
        if (!(e instanceof ZfsFailure)) throw e;
        io.err(e.text);
        status = e.status;
      }
    }
    return status;
  });
}

function cmdSnapshot(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "ro:");
  if ("bad" in g) return usage("snapshot", `invalid option '${g.bad}'\n`);
  if (g.operands.length === 0) usage("snapshot", "missing snapshot argument\n");
  return updateMachine(io.root, (m) => {
    const z = zfsOf(m);
    for (const name of g.operands) {
      if (!name.includes("@")) usage("snapshot");
      const base = name.split("@")[0]!;
      const ds = z.datasets[base];
      if (!ds) {
        io.err(`cannot open '${base}': dataset does not exist\n`);
        usage("snapshot");
      }
      const why = nameProblem(name, "yes");
      if (why) fail(`cannot create snapshot '${name}': ${why}\n`);
      if (z.datasets[name]) fail(`cannot create snapshot '${name}': dataset already exists\n`);
      z.datasets[name] = { type: "snapshot", creation: Math.floor(Date.now() / 1000), ...(ds!.volsize !== undefined ? { volsize: ds!.volsize, volblocksize: ds!.volblocksize } : {}), refreservation: 0, referenced: ds!.referenced, props: {} };
    }
    return 0;
  });
}

function cmdClone(io: ToolIO, args: readonly string[]): number {
  const g = getopt(args, "o:p");
  if ("bad" in g) return usage("clone", `invalid option '${g.bad}'\n`);
  if (g.operands.length === 0) usage("clone", "missing source dataset argument\n");
  if (g.operands.length === 1) usage("clone", "missing target dataset argument\n");
  if (g.operands.length > 2) usage("clone", "too many arguments\n");
  const [source, target] = g.operands as [string, string];
  const props = parseProps(g.opts, "clone");
  return updateMachine(io.root, (m) => {
    const z = zfsOf(m);
    if (!source.includes("@")) fail(`cannot open '${source}': missing '@' delimiter in snapshot name\n`);
    const snap = z.datasets[source];
    if (!snap) fail(`cannot open '${source}': dataset does not exist\n`);
    const action = `cannot create '${target}'`;
    const why = nameProblem(target, "no");
    if (why) fail(`${action}: ${why}\n`);
    if (poolOf(source) !== poolOf(target)) fail(`${action}: source and target pools differ\n`);
    const type = snap!.volsize !== undefined ? "volume" : "filesystem";
    const valid = validProps(z, props, type, action);
    if (z.datasets[target]) {
      if (g.opts.some(([o]) => o === "p")) return 0;
      fail(`${action}: dataset already exists\n`);
    }
    const ancestors = parentsOf(z, target, action, g.opts.some(([o]) => o === "p"));
    const now = Math.floor(Date.now() / 1000);
    makeParents(z, ancestors, now);
    const { volblocksize: _b, volsize: _v, refreservation: _r, ...rest } = valid;
    const ds: ZfsDataset = { type, creation: now, ...(snap!.volsize !== undefined ? { volsize: snap!.volsize, volblocksize: snap!.volblocksize } : {}), refreservation: 0, referenced: snap!.referenced, origin: source, props: rest };
    z.datasets[target] = ds;
    syncZvolNode(io.root, target, ds);
    return 0;
  });
}

const COMMANDS: Record<string, (io: ToolIO, args: readonly string[]) => number> = {
  create: cmdCreate, destroy: cmdDestroy, list: cmdList, get: cmdGet, set: cmdSet, snapshot: cmdSnapshot, snap: cmdSnapshot, clone: cmdClone,
};

/** Simulated zfs(8). */
export function zfs(io: ToolIO): number {
  const [cmd, ...rest] = io.args;
  const run = cmd !== undefined ? COMMANDS[cmd] : undefined;
  if (!run) {
    io.err(cmd === undefined ? "usage: zfs command args ...\nwhere 'command' is one of the following:\n\n" : `unrecognized command '${cmd}'\nusage: zfs command args ...\n`);
    return 2;
  }
  try {
    return run(io, rest);
  } catch (e) {
    if (!(e instanceof ZfsFailure)) throw e;
    io.err(e.text);
    return e.status;
  }
}
