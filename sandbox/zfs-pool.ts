/**
 * The sandbox host's ZFS pool: datasets (file systems, volumes, snapshots) with the properties the
 * agent reads and sets, and the pool's space. Kept in the machine state, so that it survives a
 * `sandbox reboot` as a pool does; each volume has its node under dev/zvol/ (a regular file standing
 * in for the character device volmode=dev makes), made and removed with it. OpenZFS 2.2 (FreeBSD
 * 14.0 and later) as the reference: volblocksize 16K by default, `zfs create -V` rounding the size
 * up to the block size, a thick volume reserving zvol_volsize_to_reservation() bytes.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { MachineState } from "./machine.js";
import type { Profile } from "./profiles.js";

/** One dataset. */
export interface ZfsDataset {
  type: "filesystem" | "volume" | "snapshot";
  /** Creation time, seconds since the epoch. */
  creation: number;
  /** Bytes (volumes; a snapshot of a volume keeps its volume's). */
  volsize?: number;
  volblocksize?: number;
  /** Bytes reserved for the volume (0: sparse). */
  refreservation: number;
  /** Bytes of data the dataset refers to. */
  referenced: number;
  /** The snapshot a clone was made from. */
  origin?: string;
  /** Properties set on the dataset itself (volmode, user properties). */
  props: Record<string, string>;
}

/** The pool's datasets and size. */
export interface ZfsState {
  pools: Record<string, { size: number }>;
  datasets: Record<string, ZfsDataset>;
}

const GiB = 2 ** 30;
/** ZVOL_DEFAULT_BLOCKSIZE in OpenZFS 2.2. */
export const DEFAULT_VOLBLOCKSIZE = 16384;
/** A sandbox pool's size. */
export const SANDBOX_POOL_BYTES = 512 * GiB;
/** The golden image every sandbox host has, with a snapshot to clone. */
export const SANDBOX_IMAGE = "zroot/images/freebsd-14.3";
export const SANDBOX_IMAGE_SNAPSHOT = `${SANDBOX_IMAGE}@base`;

/** zvol_volsize_to_reservation() for copies=1 on a pool without raidz: the data and its indirect blocks. */
export function volsizeToReservation(volsize: number, volblocksize: number): number {
  let nblocks = Math.floor(volsize / volblocksize);
  let numdb = 7;
  while (nblocks > 1) {
    nblocks = Math.ceil(nblocks / 1024);
    numdb += nblocks;
  }
  numdb *= 2;
  return volsize + numdb * 128 * 1024;
}

/** A new, empty file system dataset (what `zfs create -p` makes of each missing parent). */
export function newFilesystem(creation: number, props: Record<string, string> = {}): ZfsDataset {
  return { type: "filesystem", creation, refreservation: 0, referenced: 96 * 1024, props };
}

/** Where a volume's device node is in a sandbox tree. */
export function zvolNode(root: string, name: string): string {
  return join(root, "dev/zvol", name);
}

/** Makes or removes a volume's device node to match the dataset (volmode none: no node). */
export function syncZvolNode(root: string, name: string, ds: ZfsDataset | undefined): void {
  const node = zvolNode(root, name);
  if (ds && ds.type !== "volume") return;
  if (ds && (ds.props.volmode ?? "default") !== "none") {
    mkdirSync(dirname(node), { recursive: true });
    writeFileSync(node, "", { flag: "a" });
  } else if (existsSync(node) && !statSync(node).isDirectory()) {
    rmSync(node, { force: true });
  }
}

/** The pool a dataset is in. */
export function poolOf(name: string): string {
  return name.split(/[/@]/)[0]!;
}

/** Bytes a dataset takes from its pool: its reservation or its data, whichever is larger. */
export function charged(ds: ZfsDataset): number {
  return ds.type === "snapshot" ? 0 : Math.max(ds.refreservation, ds.referenced);
}

/** Bytes still free in a pool. */
export function available(z: ZfsState, pool: string): number {
  const size = z.pools[pool]?.size ?? 0;
  let used = 0;
  for (const [name, ds] of Object.entries(z.datasets)) if (poolOf(name) === pool) used += charged(ds);
  return Math.max(0, size - used);
}

/** The pool a new sandbox host has: its root datasets, the shared guest volumes, a swap volume when the profile swaps on one, and an image to clone. */
export function initialPool(profile: Profile, volumes: readonly string[], now: number): ZfsState {
  const fs = (): ZfsDataset => newFilesystem(now);
  const vol = (size: number, referenced: number, props: Record<string, string> = {}): ZfsDataset => ({ type: "volume", creation: now, volsize: size, volblocksize: DEFAULT_VOLBLOCKSIZE, refreservation: 0, referenced, props: { volmode: "dev", ...props } });
  const datasets: Record<string, ZfsDataset> = { zroot: fs(), "zroot/ROOT": fs(), "zroot/ROOT/default": { ...fs(), referenced: 2 * GiB }, "zroot/vm": fs(), "zroot/images": fs() };
  for (const v of volumes) datasets[`zroot/vm/${v}`] = vol(20 * GiB, 0);
  for (const s of profile.host.swap ?? []) {
    const m = /^\/dev\/zvol\/(zroot\/.+)$/.exec(s.device);
    if (m) datasets[m[1]!] = { ...vol(s.bytes, 0, { volmode: "default" }), refreservation: volsizeToReservation(s.bytes, DEFAULT_VOLBLOCKSIZE) };
  }
  datasets[SANDBOX_IMAGE] = vol(8 * GiB, 3 * GiB);
  datasets[SANDBOX_IMAGE_SNAPSHOT] = { ...vol(8 * GiB, 3 * GiB), type: "snapshot", props: {} };
  return { pools: { zroot: { size: SANDBOX_POOL_BYTES } }, datasets };
}

/** The machine's pool state, made on first use for a sandbox from before pools. */
export function zfsOf(m: MachineState & { zfs?: ZfsState }): ZfsState {
  m.zfs ??= { pools: { zroot: { size: SANDBOX_POOL_BYTES } }, datasets: { zroot: { ...newFilesystem(0), referenced: 0 } } };
  return m.zfs;
}
