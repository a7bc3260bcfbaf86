/**
 * The disks the agent makes and owns: ZFS volumes (created sparse or reserved, or cloned from a
 * snapshot) and sparse image files, and each guest's cloud-init seed.
 *
 * Ownership is what the agent can prove: a volume carries the user property bhyve-agent:guest with
 * the guest's name (set in the same zfs command that creates it); a file is listed in the agent's
 * disk-files.json with its device and inode. A volume or file without that mark, or with another
 * guest's, is refused as a disk to make and never resized or destroyed. Disks only grow; a size
 * below the disk's is refused (E_SHRINK) before anything changes. Nothing is destroyed with a guest
 * unless its disk says on_delete: destroy, and then only what the agent made for that guest.
 * No shell: zfs and makefs run with argv arrays; names and sizes were checked by the model.
 */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { instanceId, SEED_LABEL, seedFiles } from "../model/cloud-init.js";
import { DEFAULT_VOLBLOCKSIZE, GUEST_NAME } from "../model/decode.js";
import { normalizeHostPath } from "../model/limits.js";
import { AgentError } from "../model/errors.js";
import type { Problem } from "../model/problems.js";
import { formatSize } from "../model/size.js";
import { DISK_OWNER_PROPERTY, type DesiredState, type Disk, type Guest, type ManagedDisk } from "../model/types.js";
import { runTool } from "../host/exec.js";
import { readIfPresent } from "./lifecycle.js";
import { fileHolds, writeFileAtomic } from "../host/files.js";
import type { HostPaths } from "../host/paths.js";
import { resolveHostPath } from "../host/resolve-path.js";
import { readingChanged, sessionReading } from "../host/snapshot.js";
import { parseZfsGet, zfsBytes, zfsMissing } from "../parse/zfs.js";

/** Properties the agent asks zfs get for. */
const ZFS_PROPERTIES = ["type", "volsize", "volblocksize", "refreservation", "volmode", "origin", DISK_OWNER_PROPERTY] as const;

/** A dataset as zfs lists it. */
export interface ZfsDataset {
  readonly name: string;
  readonly type: string;
  readonly volsize: number | null;
  readonly volblocksize: number | null;
  readonly refreservation: number;
  readonly volmode: string | null;
  readonly origin: string | null;
  /** The guest the agent made it for: bhyve-agent:guest set on the dataset itself (an inherited value is no mark); null when unset. */
  readonly owner: string | null;
}

/** One managed disk as the host has it. */
export interface DiskView {
  readonly guest: string;
  /** The disk's index in the guest's list. */
  readonly index: number;
  readonly kind: ManagedDisk["kind"];
  readonly path: string;
  readonly exists: boolean;
  /** The guest the agent made it for; null when it is not the agent's (or does not exist). */
  readonly owner: string | null;
  /** Bytes now (volsize, or the file's size); null when it does not exist. */
  readonly size: number | null;
  readonly volblocksize: number | null;
  /** A volume without a reservation; null for a file or a missing volume. */
  readonly sparse: boolean | null;
  readonly volmode: string | null;
  /** How it differs from what the guest asks: drift the next apply heals, or a refusal. Empty when as asked. */
  readonly drift: readonly string[];
}

/** A file disk the agent made: for whom, and which file (device and inode) it was. */
interface FileRecord {
  readonly guest: string;
  readonly dev: number;
  readonly ino: number;
  /** Birth time (ms) where the file system keeps one (UFS2, ZFS; 0 elsewhere): with the inode, the file's identity even when its device number changes across boots. */
  readonly birth?: number;
}

/** Whether `st` is the file `record` describes: same inode, and same birth time where both have one, else same device. */
function sameFile(record: FileRecord, st: { dev: number; ino: number; birthtimeMs: number }): boolean {
  if (record.ino !== st.ino) return false;
  // FreeBSD reports -1 where a file system keeps no birth time: then the device number decides.
  return record.birth !== undefined && record.birth > 0 && st.birthtimeMs > 0 ? Math.round(record.birth) === Math.round(st.birthtimeMs) : record.dev === st.dev;
}

function filesRecordPath(paths: HostPaths): string {
  return join(paths.dbDir, "disk-files.json");
}

function readFileRecords(paths: HostPaths): Record<string, FileRecord> {
  try {
    const data = JSON.parse(readFileSync(filesRecordPath(paths), "utf8")) as unknown;
    return data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, FileRecord>) : {};
  } catch {
    return {};
  }
}

function writeFileRecords(paths: HostPaths, records: Record<string, FileRecord>): void {
  mkdirSync(paths.dbDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(filesRecordPath(paths), `${JSON.stringify(records, null, 1)}\n`, 0o600);
}

/** Every managed disk of the guests, with where it is. */
function managedDisks(guests: readonly Guest[]): Array<{ guest: Guest; index: number; disk: Disk; m: ManagedDisk }> {
  return guests.flatMap((guest) => guest.disks.flatMap((disk, index) => (disk.managed ? [{ guest, index, disk, m: disk.managed }] : [])));
}

/**
 * Reads the named datasets in one `zfs get -H -p -o name,property,value,source`; the ones that do
 * not exist are absent from the map. The owner mark counts only where it is set on the dataset
 * itself (source local): a value inherited from a parent marks nothing.
 */
export async function readDatasets(paths: HostPaths, names: readonly string[]): Promise<Map<string, ZfsDataset>> {
  const out = new Map<string, ZfsDataset>();
  const unique = [...new Set(names)].sort();
  if (unique.length === 0) return out;
  const r = await runTool(paths.tool("zfs"), ["get", "-H", "-p", "-o", "name,property,value,source", ZFS_PROPERTIES.join(","), ...unique]);
  const { other } = zfsMissing(r.stderr);
  if ((r.status !== 0 && r.status !== 1) || other.length > 0) {
    throw new AgentError(`zfs get failed: ${other.join("; ") || r.stderr.trim() || `exit ${r.status}`}`, "E_ZFS");
  }
  const parsed = parseZfsGet(r.stdout, unique, ZFS_PROPERTIES);
  if (!parsed.ok) throw new AgentError(`zfs get printed a line the agent did not ask for: ${JSON.stringify(parsed.line.slice(0, 120))} (a property value with a line break?); not read`, "E_ZFS");
  for (const [name, p] of parsed.props) {
    const v = (k: string): string | null => p.get(k)?.value ?? null;
    const mark = p.get(DISK_OWNER_PROPERTY);
    out.set(name, {
      name,
      type: v("type") ?? "",
      volsize: zfsBytes(v("volsize")),
      volblocksize: zfsBytes(v("volblocksize")),
      refreservation: zfsBytes(v("refreservation")) ?? 0,
      volmode: v("volmode"),
      origin: v("origin"),
      // Only a guest name counts as a mark (anything else is no guest's).
      owner: mark?.source === "local" && mark.value !== null && GUEST_NAME.test(mark.value) ? mark.value : null,
    });
  }
  return out;
}

/** What the host has of the guests' managed disks (one zfs list for every volume and clone source). */
export async function readDisks(paths: HostPaths, guests: readonly Guest[]): Promise<{ views: DiskView[]; datasets: Map<string, ZfsDataset> }> {
  const disks = managedDisks(guests);
  const zvols = disks.filter((d) => d.m.kind === "zvol");
  // A clone's snapshot, and the volume it is of: zfs prints a snapshot's volblocksize as "-" (the property is a volume's).
  const datasets = await readDatasets(paths, zvols.flatMap((d) => [d.m.dataset!, ...(d.m.clone ? [d.m.clone, d.m.clone.slice(0, d.m.clone.indexOf("@"))] : [])]));
  const records = disks.some((d) => d.m.kind === "file") ? readFileRecords(paths) : {};
  const views = disks.map(({ guest, index, disk, m }): DiskView => {
    if (m.kind === "zvol") {
      const ds = datasets.get(m.dataset!);
      const volume = ds?.type === "volume";
      const view = {
        guest: guest.name, index, kind: m.kind, path: disk.path, exists: ds !== undefined,
        owner: volume ? ds.owner : null, size: volume ? ds.volsize : null, volblocksize: volume ? ds.volblocksize : null,
        sparse: volume ? ds.refreservation === 0 : null, volmode: volume ? ds.volmode : null,
      };
      return { ...view, drift: driftOf(guest, m, view, ds?.type) };
    }
    const file = fileState(paths, disk.path, records[disk.path]);
    const view = { guest: guest.name, index, kind: m.kind, path: disk.path, exists: file.exists, owner: file.owner, size: file.size, volblocksize: null, sparse: null, volmode: null };
    return { ...view, drift: driftOf(guest, m, view, file.exists ? (file.regular ? "file" : "other") : undefined) };
  });
  return { views, datasets };
}

/** The name of the disks' reading in a session (see {@link sessionReading}). */
const DISKS_READING = "disks";

/**
 * The desired guests' managed disks, read once per session: the reads of a plan (a guest.get per
 * guest) share one zfs get, as they share one ifconfig. A converge that may have changed them
 * says so with {@link disksMayHaveChanged}.
 */
export function sessionDisks(paths: HostPaths, desired: DesiredState): Promise<DiskView[]> {
  if (!desired.guests.some((g) => g.disks.some((d) => d.managed))) return Promise.resolve([]);
  return sessionReading(paths, DISKS_READING, async () => (await readDisks(paths, desired.guests)).views);
}

/** Marks the session reading of the disks as changed (a converge made, grew, destroyed or marked one, or the desired disks changed). */
export function disksMayHaveChanged(paths: HostPaths): void {
  readingChanged(paths, DISKS_READING);
}

function fileState(paths: HostPaths, path: string, record: FileRecord | undefined): { exists: boolean; regular: boolean; owner: string | null; size: number | null } {
  const r = resolveHostPath(paths, path);
  if (!r.ok || r.stat === null) return { exists: !r.ok, regular: false, owner: null, size: null };
  const regular = r.stat.isFile();
  const ours = regular && record !== undefined && !r.viaLink && sameFile(record, r.stat);
  return { exists: true, regular, owner: ours ? record.guest : null, size: regular ? r.stat.size : null };
}

/** How a disk differs from what its guest asks (empty: as asked). */
function driftOf(guest: Guest, m: ManagedDisk, v: Omit<DiskView, "drift">, type: string | undefined): string[] {
  const what = m.kind === "zvol" ? `volume ${m.dataset}` : `file ${v.path}`;
  if (!v.exists) return [`${what} does not exist`];
  if (m.kind === "zvol" && type !== "volume") return [`${m.dataset} is a ${type}, not a volume`];
  if (m.kind === "file" && type !== "file") return [`${v.path} is not a regular file`];
  if (v.owner !== guest.name) return [`${what} is not the agent's for guest ${guest.name} (${v.owner === null ? `no ${m.kind === "zvol" ? DISK_OWNER_PROPERTY : "record of the agent making it"}` : `made for guest ${v.owner}`})`];
  const out: string[] = [];
  if (m.size !== undefined && v.size !== null && v.size !== m.size) out.push(`${what} is ${formatSize(v.size)}, asked ${formatSize(m.size)}`);
  if (m.kind === "zvol") {
    if (m.volblocksize !== undefined && v.volblocksize !== null && v.volblocksize !== m.volblocksize) out.push(`${what} has volblocksize ${formatSize(v.volblocksize)}, asked ${formatSize(m.volblocksize)}`);
    if (m.clone === undefined && v.sparse !== null && v.sparse !== m.sparse) out.push(`${what} is ${v.sparse ? "sparse" : "reserved"}, asked ${m.sparse ? "sparse" : "reserved (sparse: false)"}`);
    if (v.volmode !== "dev") out.push(`${what} has volmode ${v.volmode ?? "-"}, not dev`);
  }
  return out;
}

/**
 * What the desired disks cannot be, checked before anything changes: a volume or file that exists
 * and is not the agent's for the guest (E_DISK_NOT_OURS), a size below the disk's (E_SHRINK), a
 * block size other than the volume's, a clone smaller than its snapshot.
 */
export function diskProblems(paths: HostPaths, desired: DesiredState, views: readonly DiskView[], datasets: ReadonlyMap<string, ZfsDataset>): Array<Problem & { code: string; guest: string }> {
  const out: Array<Problem & { code: string; guest: string }> = [];
  for (const v of views) {
    const gi = desired.guests.findIndex((g) => g.name === v.guest);
    const m = desired.guests[gi]!.disks[v.index]!.managed!;
    const at = (field: string): string => `guests[${gi}].disks[${v.index}].${field}`;
    const what = m.kind === "zvol" ? `volume ${m.dataset}` : `file ${v.path}`;
    const push = (p: Problem & { code: string }): void => void out.push({ ...p, guest: v.guest });
    if (!v.exists) {
      if (m.clone !== undefined) {
        const snap = datasets.get(m.clone);
        if (!snap) push({ path: at("clone"), code: "E_DISK_SOURCE", message: `snapshot ${m.clone} does not exist on this host` });
        else if (snap.type !== "snapshot" || snap.volsize === null) push({ path: at("clone"), code: "E_DISK_SOURCE", message: `${m.clone} is not a snapshot of a volume (a file system's snapshot would clone into a file system)` });
        else if (m.size !== undefined && m.size < snap.volsize) push({ path: at("size"), code: "E_SHRINK", message: `size ${formatSize(m.size)} is smaller than the ${formatSize(snap.volsize)} of snapshot ${m.clone}: a clone starts at its snapshot's size and only grows` });
        else {
          const block = snap.volblocksize ?? datasets.get(m.clone.slice(0, m.clone.indexOf("@")))?.volblocksize ?? null;
          if (m.size !== undefined && block !== null && m.size % block !== 0) push({ path: at("size"), code: "E_SPEC_INVALID", message: `size ${formatSize(m.size)} is not a multiple of ${formatSize(block)}, the block size the clone has from snapshot ${m.clone}; zfs set volsize refuses it` });
        }
      } else if (m.kind === "file") {
        // A file is made where the path leads only when it leads there directly: its record names it by that path.
        const r = resolveHostPath(paths, v.path);
        if (r.ok && r.viaLink) push({ path: at("file"), code: "E_SPEC_INVALID", message: `${v.path} goes through a symbolic link (to ${r.path}); give the file as the host resolves it` });
      }
      continue;
    }
    if (v.owner !== v.guest) {
      const field = m.kind;
      const reason = v.size === null && m.kind === "zvol" ? `${m.dataset} exists and is not a volume` : v.owner === null ? `${what} exists and the agent did not make it (${m.kind === "zvol" ? `no ${DISK_OWNER_PROPERTY} property` : "not in its record of files it made"})` : `${what} exists and the agent made it for guest ${v.owner}`;
      push({ path: at(field), code: "E_DISK_NOT_OURS", message: `${reason}: the agent never resizes or destroys it. Use it as it is with path: ${v.path}, or name a ${m.kind === "zvol" ? "dataset" : "file"} that does not exist` });
      continue;
    }
    if (m.size !== undefined && v.size !== null && m.size < v.size) {
      push({ path: at("size"), code: "E_SHRINK", message: `size ${formatSize(m.size)} is smaller than the ${formatSize(v.size)} ${what} has: disks only grow (shrinking would cut off the guest's data); set size to ${formatSize(v.size)} or more` });
    }
    const origin = m.kind === "zvol" ? (datasets.get(m.dataset!)?.origin ?? null) : null;
    if (m.clone !== undefined && origin !== m.clone) {
      push({ path: at("clone"), code: "E_DISK_FIXED", message: `${what} ${origin === null ? "was not made as a clone" : `was cloned from ${origin}`}; a volume's origin is fixed when it is made: write clone as it was, or name a new volume` });
    }
    if (m.kind === "zvol" && m.volblocksize !== undefined && v.volblocksize !== null && m.volblocksize !== v.volblocksize) {
      push({ path: at("volblocksize"), code: "E_DISK_FIXED", message: `${what} was made with volblocksize ${formatSize(v.volblocksize)}; a volume's block size is fixed when it is made: set ${formatSize(v.volblocksize)} or leave volblocksize out` });
    }
  }
  return out;
}

/** A change to the host's disks, as the converge reports it. */
export interface DiskChange {
  readonly what: string;
  readonly detail: string;
}

async function zfs(paths: HostPaths, args: string[]): Promise<void> {
  const r = await runTool(paths.tool("zfs"), args);
  if (r.status !== 0) throw new AgentError(`zfs ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.status}`}`, "E_ZFS");
}

/**
 * Makes, grows and sets right the managed disks of `guests` (checked by {@link diskProblems}
 * first): a missing volume created or cloned, a missing file created sparse, a smaller one grown,
 * a volume's volmode and reservation set as asked. Each failure is the guest's, as a refusal.
 */
export async function ensureDisks(paths: HostPaths, guests: readonly Guest[]): Promise<{ changed: DiskChange[]; refused: Array<DiskChange & { guest: string }> }> {
  const changed: DiskChange[] = [];
  const refused: Array<DiskChange & { guest: string }> = [];
  const { views } = await readDisks(paths, guests);
  const disks = managedDisks(guests);
  let records: Record<string, FileRecord> | null = null;
  for (const [i, { guest, disk, m }] of disks.entries()) {
    const v = views[i]!;
    const what = `guest ${guest.name}`;
    try {
      if (m.kind === "zvol") {
        const ds = m.dataset!;
        if (!v.exists) {
          if (m.clone !== undefined) {
            await zfs(paths, ["clone", "-p", "-o", "volmode=dev", "-o", `${DISK_OWNER_PROPERTY}=${guest.name}`, m.clone, ds]);
          } else {
            await zfs(paths, ["create", "-p", ...(m.sparse ? ["-s"] : []), "-b", String(m.volblocksize ?? DEFAULT_VOLBLOCKSIZE), "-o", "volmode=dev", "-o", `${DISK_OWNER_PROPERTY}=${guest.name}`, "-V", String(m.size), ds]);
          }
          // `-p` says nothing when the dataset appeared meanwhile: only a volume marked for this guest counts as made.
          const now = (await readDatasets(paths, [ds])).get(ds);
          if (!now || now.type !== "volume" || now.owner !== guest.name) throw new AgentError(`${ds} appeared meanwhile and is not the agent's for guest ${guest.name}; not used`, "E_DISK_NOT_OURS");
          const grow = m.size !== undefined && now.volsize !== null && m.size > now.volsize;
          if (grow) await zfs(paths, ["set", `volsize=${m.size}`, ds]);
          changed.push({ what, detail: m.clone !== undefined ? `volume ${ds} cloned from ${m.clone}${grow ? `, grown to ${formatSize(m.size!)}` : ""}` : `volume ${ds} created (${formatSize(m.size!)}, ${m.sparse ? "sparse" : "reserved"})` });
          continue;
        }
        if (v.owner !== guest.name) continue; // refused before the converge changed anything
        if (m.size !== undefined && v.size !== null && m.size > v.size) {
          await zfs(paths, ["set", `volsize=${m.size}`, ds]);
          changed.push({ what, detail: `volume ${ds} grown from ${formatSize(v.size)} to ${formatSize(m.size)} (a running guest sees the new size when it next starts)` });
        }
        if (v.volmode !== "dev") {
          await zfs(paths, ["set", "volmode=dev", ds]);
          changed.push({ what, detail: `volume ${ds}: volmode set back to dev (was ${v.volmode ?? "-"})` });
        }
        if (m.clone === undefined && v.sparse !== null && v.sparse !== m.sparse) {
          await zfs(paths, ["set", `refreservation=${m.sparse ? "none" : "auto"}`, ds]);
          changed.push({ what, detail: `volume ${ds}: ${m.sparse ? "reservation dropped (sparse)" : "space reserved (sparse: false)"}` });
        }
        continue;
      }
      // An image file: made sparse (a hole of its size), recorded by device and inode.
      records ??= readFileRecords(paths);
      const r = resolveHostPath(paths, disk.path);
      if (!r.ok) throw new AgentError(`${disk.path} does not resolve on this host: ${r.reason}`, "E_DISK");
      if (!v.exists) {
        // Checked again now (the check before the converge may be minutes old): no link on the way.
        if (r.viaLink) throw new AgentError(`${disk.path} goes through a symbolic link (to ${r.path}); not made`, "E_DISK");
        mkdirSync(paths.at(dirname(r.path)), { recursive: true, mode: 0o755 });
        const local = paths.at(r.path);
        // Made under a temporary name and recorded, then linked to its name (which fails if that
        // exists): a crash leaves at most a temporary file, never a disk without its record.
        const tmp = join(dirname(local), `.${basename(local)}.${process.pid}.bhyve-agent.tmp`);
        const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
        try {
          ftruncateSync(fd, m.size!);
          const st = fstatSync(fd);
          records[disk.path] = { guest: guest.name, dev: st.dev, ino: st.ino, birth: st.birthtimeMs };
          writeFileRecords(paths, records);
          linkSync(tmp, local);
        } catch (err) {
          delete records[disk.path];
          writeFileRecords(paths, records);
          throw err;
        } finally {
          closeSync(fd);
          unlinkSync(tmp);
        }
        changed.push({ what, detail: `image file ${disk.path} created (${formatSize(m.size!)}, sparse)` });
        continue;
      }
      if (v.owner !== guest.name) continue;
      if (v.size !== null && m.size! > v.size) {
        // Grown through a descriptor of the file checked to be the recorded one: a name swapped meanwhile is not truncated.
        const fd = openSync(paths.at(r.path), constants.O_RDWR | (constants.O_NOFOLLOW ?? 0));
        try {
          const st = fstatSync(fd);
          const record = records[disk.path];
          if (!record || !st.isFile() || !sameFile(record, st)) throw new AgentError(`${disk.path} is no longer the file the agent made; not grown`, "E_DISK_NOT_OURS");
          if (st.size < m.size!) ftruncateSync(fd, m.size!);
        } finally {
          closeSync(fd);
        }
        changed.push({ what, detail: `image file ${disk.path} grown from ${formatSize(v.size)} to ${formatSize(m.size!)}` });
      }
    } catch (err) {
      if (!(err instanceof AgentError) && !(err as NodeJS.ErrnoException).code) throw err;
      refused.push({ guest: guest.name, what, detail: `disk ${disk.path}: ${(err as Error).message}` });
    }
  }
  return { changed, refused };
}

/** Where a guest's managed disks are recorded beside its spec: what a delete destroys, even when the desired state that named them is gone. */
function diskRecordPath(paths: HostPaths, name: string): string {
  return join(paths.guestSpecDir(name), "managed-disks.json");
}

/** Records the guest's managed disks in its directory (removed last when the guest is deleted); none: the record goes. */
export function recordGuestDisks(paths: HostPaths, guest: Guest): void {
  const file = diskRecordPath(paths, guest.name);
  const disks = guest.disks.filter((d) => d.managed);
  if (disks.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const text = `${JSON.stringify(disks.map((d) => ({ path: d.path, type: d.type, managed: d.managed })), null, 1)}\n`;
  if (fileHolds(file, text)) return;
  mkdirSync(paths.guestSpecDir(guest.name), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, text, 0o600);
}

/** The managed disks recorded for a guest, or null without a record. */
function recordedDisks(paths: HostPaths, name: string): Disk[] | null {
  const text = readIfPresent(diskRecordPath(paths, name));
  if (text === null) return null;
  try {
    const data = JSON.parse(text) as unknown;
    return Array.isArray(data) ? (data as Disk[]).filter((d) => typeof d?.path === "string" && (d.managed?.kind === "zvol" || d.managed?.kind === "file")) : null;
  } catch {
    return null;
  }
}

/** A disk path as the host resolves it, for comparing two spellings of one disk. */
function diskKey(paths: HostPaths, path: string): string {
  const r = resolveHostPath(paths, path);
  return r.ok ? r.path : normalizeHostPath(path);
}

/**
 * Destroys the disks of a deleted guest that say on_delete: destroy, and only those the agent
 * made for it; a disk another desired guest names (in any spelling) is kept. The disks are those
 * recorded in the guest's directory (written at each converge), else `previous` (the desired
 * state that named it). A volume with snapshots or clones is refused by zfs (no -r): the data
 * stays and the refusal says why. Run before the guest's directory is removed.
 */
export async function destroyDisks(paths: HostPaths, name: string, previous: Guest | undefined, desired: DesiredState): Promise<{ changed: DiskChange[]; refused: DiskChange[] }> {
  const changed: DiskChange[] = [];
  const refused: DiskChange[] = [];
  const what = `guest ${name}`;
  // Destroyed only where the record and the last accepted document (when there is one) both say so.
  const disks = recordedDisks(paths, name) ?? previous?.disks ?? [];
  const saysDestroy = (d: Disk): boolean => d.managed?.onDelete === "destroy";
  const doomed = disks.filter((d) => saysDestroy(d) && (!previous || previous.disks.some((p) => p.path === d.path && saysDestroy(p))));
  if (doomed.length === 0) return { changed, refused };
  const stillNamed = new Set(desired.guests.flatMap((g) => g.disks.map((d) => diskKey(paths, d.path))));
  let views: DiskView[];
  try {
    views = (await readDisks(paths, [{ ...(previous ?? ({} as Guest)), name, disks: doomed }])).views;
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    return { changed, refused: [{ what, detail: `disks not destroyed: ${err.message}` }] };
  }
  let records: Record<string, FileRecord> | null = null;
  for (const [i, disk] of doomed.entries()) {
    const v = views[i]!;
    if (!v.exists) continue;
    if (stillNamed.has(diskKey(paths, disk.path))) {
      changed.push({ what, detail: `disk ${disk.path} kept: another guest names it` });
      continue;
    }
    if (v.owner !== name) {
      refused.push({ what, detail: `disk ${disk.path} not destroyed: ${v.owner === null ? "the agent did not make it" : `the agent made it for guest ${v.owner}`}` });
      continue;
    }
    try {
      if (disk.managed!.kind === "zvol") {
        await zfs(paths, ["destroy", disk.managed!.dataset!]);
        changed.push({ what, detail: `volume ${disk.managed!.dataset} destroyed (on_delete: destroy)` });
      } else {
        const r = resolveHostPath(paths, disk.path);
        records ??= readFileRecords(paths);
        const record = records[disk.path];
        // Checked again right before the unlink: the name must still be the recorded file.
        const st = r.ok && !r.viaLink ? lstatSync(paths.at(r.path)) : null;
        if (!r.ok || !st || !st.isFile() || !record || !sameFile(record, st)) throw new AgentError(`${disk.path} is no longer the file the agent made`, "E_DISK");
        unlinkSync(paths.at(r.path));
        delete records[disk.path];
        writeFileRecords(paths, records);
        changed.push({ what, detail: `image file ${disk.path} removed (on_delete: destroy)` });
      }
    } catch (err) {
      if (!(err instanceof AgentError) && !(err as NodeJS.ErrnoException).code) throw err;
      refused.push({ what, detail: `disk ${disk.path} not destroyed: ${(err as Error).message}` });
    }
  }
  return { changed, refused };
}

/** The seed files in a guest's directory: the image and the instance id it was built for. */
function seedPaths(paths: HostPaths, name: string): { iso: string; iid: string; work: string } {
  const dir = paths.guestSpecDir(name);
  return { iso: join(dir, "seed.iso"), iid: join(dir, "seed.iid"), work: join(dir, ".seed") };
}

/**
 * The guest's cloud-init seed as asked: built again (makefs -t cd9660 -o R,L=cidata) when its
 * instance id changed or the image is gone, removed when the guest has none. Returns what changed.
 */
export async function ensureSeed(paths: HostPaths, guest: Guest): Promise<string | null> {
  const p = seedPaths(paths, guest.name);
  if (!guest.cloudInit) {
    if (!existsSync(p.iso) && !existsSync(p.iid)) return null;
    rmSync(p.iso, { force: true });
    rmSync(p.iid, { force: true });
    return "cloud-init seed removed";
  }
  const iid = instanceId(guest.name, guest.cloudInit);
  if (existsSync(p.iso) && readIfPresent(p.iid)?.trim() === iid) return null;
  mkdirSync(dirname(p.iso), { recursive: true, mode: 0o700 });
  // What a build killed half way left in the guest's directory (its own): gone before this one.
  for (const f of readdirSync(dirname(p.iso))) if (/^\.seed\.\d+\.iso$/.test(f)) rmSync(join(dirname(p.iso), f), { force: true });
  rmSync(p.work, { recursive: true, force: true });
  mkdirSync(p.work, { mode: 0o700 });
  const tmp = join(dirname(p.iso), `.seed.${process.pid}.iso`);
  try {
    for (const [f, text] of Object.entries(seedFiles(guest.name, guest.cloudInit))) writeFileSync(join(p.work, f), text, { mode: 0o600, flag: "wx" });
    const r = await runTool(paths.tool("makefs"), ["-t", "cd9660", "-o", `R,L=${SEED_LABEL}`, paths.hostPath(tmp)!, paths.hostPath(p.work)!]);
    if (r.status !== 0) throw new AgentError(`makefs could not build the cloud-init seed: ${r.stderr.trim() || `exit ${r.status}`}`, "E_SEED");
    renameSync(tmp, p.iso);
    writeFileAtomic(p.iid, `${iid}\n`, 0o600);
  } finally {
    rmSync(p.work, { recursive: true, force: true });
    rmSync(tmp, { force: true });
  }
  return `cloud-init seed built (instance-id ${iid}; the guest reads it at its next boot)`;
}

/** Whether the seed a guest would start with is there (null: it has none). */
export function seedPresent(paths: HostPaths, guest: Guest): boolean | null {
  if (!guest.cloudInit) return null;
  const p = seedPaths(paths, guest.name);
  return existsSync(p.iso) && readIfPresent(p.iid)?.trim() === instanceId(guest.name, guest.cloudInit);
}
