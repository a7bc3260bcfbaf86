/**
 * The policy gate every change passes before anything on the host changes: the desired state
 * against the host's policy file, the devices the host depends on, and the guests' files as the
 * host sees them. The protected devices are looked up once per agent process (one SSH session,
 * one command) and only when something is to be reserved; the files and swap devices every time.
 */
import { readAgentConfig } from "../host/config.js";
import { runTool } from "../host/exec.js";
import type { HostFacts } from "../host/facts.js";
import type { HostPaths } from "../host/paths.js";
import { protectedDevices, type ProtectedDevices } from "../host/protected.js";
import { fileIdentity, resolveHostPath, type ResolvedPath } from "../host/resolve-path.js";
import { diskOf, parseGeomStatus, parseSwapctl } from "../parse/storage.js";
import { checkPolicy, POLICY_FILE, underPrefix, type Policy } from "../model/policy.js";
import type { Problem } from "../model/problems.js";
import type { DesiredState } from "../model/types.js";

const found = new Map<string, Promise<ProtectedDevices>>();

/** The protected devices of a host, found once per process. */
export function protectedOnce(paths: HostPaths): Promise<ProtectedDevices> {
  let p = found.get(paths.root);
  if (!p) {
    p = protectedDevices(paths);
    found.set(paths.root, p);
    p.catch(() => found.delete(paths.root));
  }
  return p;
}

const hex4 = (v: string): string => v.replace(/^0x/i, "").toLowerCase().padStart(4, "0");

/** Problems of `desired` with this host's policy (empty when it keeps it). */
export async function policyProblems(paths: HostPaths, desired: DesiredState, facts: HostFacts): Promise<Problem[]> {
  const { policy } = readAgentConfig(paths);
  const prot = desired.ppt.length > 0 || desired.switches.some((w) => w.uplink !== undefined) ? await protectedOnce(paths) : { devices: [], unmapped: [] };
  const hardware = new Map(
    facts.pci.map((p) => [p.device, { vendor: hex4(p.vendor_id), device: hex4(p.device_id), classCode: parseInt(p.class, 16), ...(p.driver ? { name: `${p.driver}${p.unit}` } : {}) }]),
  );
  return [
    ...checkPolicy(desired, policy, { protected: prot.devices, unmapped: prot.unmapped, hardware, physicalMemory: facts.memory.physical }),
    ...(await hostFileProblems(paths, desired, policy)),
  ];
}

/** One file a guest names, by the field that names it. */
interface GuestFile {
  readonly guest: string;
  readonly field: string;
  readonly given: string;
  readonly kind: "disk" | "firmware";
  readonly cd: boolean;
}

function guestFiles(desired: DesiredState): GuestFile[] {
  return desired.guests.flatMap((g, i) => [
    ...g.disks.map((d, j) => ({ guest: g.name, field: `guests[${i}].disks[${j}].${d.managed?.kind ?? "path"}`, given: d.path, kind: "disk" as const, cd: d.type === "ahci-cd" })),
    ...(g.bootrom !== undefined ? [{ guest: g.name, field: `guests[${i}].bootrom`, given: g.bootrom, kind: "firmware" as const, cd: false }] : []),
    ...g.passthru.flatMap((p, k) => (p.rom !== undefined ? [{ guest: g.name, field: `guests[${i}].passthru[${k}].rom`, given: p.rom, kind: "firmware" as const, cd: false }] : [])),
  ]);
}

/** The prefixes, each as written and as it resolves on the host (a prefix may itself be a link, /vm -> /zroot/vm). */
function resolvedPrefixes(paths: HostPaths, prefixes: readonly string[]): string[] {
  const out = new Set(prefixes);
  for (const p of prefixes) {
    const r = resolveHostPath(paths, p);
    if (r.ok) out.add(r.path === "/" ? "/" : `${r.path}/`);
  }
  return [...out];
}

/**
 * The guests' disks, bootroms and ROM files as the host sees them: each resolved inside the agent
 * root (links followed, never out of the root), the resolved path under the policy's prefixes too,
 * no file or device given as a disk twice, and no active swap device (or the disk that holds one)
 * given as a disk.
 */
export async function hostFileProblems(paths: HostPaths, desired: DesiredState, policy: Policy): Promise<Problem[]> {
  const out: Problem[] = [];
  const files = guestFiles(desired);
  if (files.length === 0) return out;
  const prefixes = { disk: resolvedPrefixes(paths, policy.diskPrefixes), firmware: resolvedPrefixes(paths, policy.bootromPrefixes) };
  const rule = (kind: GuestFile["kind"]): string => (kind === "disk" ? `policy disk_prefixes: ${policy.diskPrefixes.join(", ") || "(none)"}` : `policy bootrom_prefixes: ${policy.bootromPrefixes.join(", ") || "(none)"}`);
  const resolved = new Map<GuestFile, ResolvedPath>();
  for (const f of files) {
    const r = resolveHostPath(paths, f.given);
    // The path as given is checked by the policy itself; here the file it leads to.
    const allowed = f.kind === "disk" ? policy.diskPrefixes : policy.bootromPrefixes;
    const leadsTo = r.path;
    if (leadsTo !== undefined && leadsTo !== f.given && underPrefix(f.given, allowed) && !underPrefix(leadsTo, prefixes[f.kind])) {
      out.push({ path: f.field, message: `${f.given} leads to ${leadsTo} on this host (through a symbolic link), which is outside the allowed ${f.kind === "disk" ? "disk" : "firmware"} paths (${rule(f.kind)} in ${POLICY_FILE})` });
      continue;
    }
    if (!r.ok) {
      out.push({ path: f.field, message: `${f.given} does not resolve on this host: ${r.reason}` });
      continue;
    }
    resolved.set(f, r);
  }

  const disks = files.filter((f) => f.kind === "disk" && resolved.has(f));
  const first = new Map<string, GuestFile>();
  for (const f of disks) {
    const r = resolved.get(f)!;
    const id = fileIdentity(r);
    const earlier = first.get(id);
    if (!earlier) {
      first.set(id, f);
      continue;
    }
    // An ISO image attached as a CD to several guests is read-only in each: that one may be shared.
    if (earlier.cd && f.cd) continue;
    const same = resolved.get(earlier)!.path === r.path ? `both ${r.path} on this host` : `${resolved.get(earlier)!.path} and ${r.path} are one file on this host`;
    out.push({ path: f.field, message: `${f.given} is the same ${r.stat && (r.stat.isCharacterDevice() || r.stat.isBlockDevice()) ? "device" : "file"} as ${earlier.field} (${earlier.guest === f.guest ? "this guest's" : `guest ${earlier.guest}'s`} ${earlier.given}; ${same}): two guest disks on one file or device would corrupt it; give each disk its own` });
  }

  if (disks.length > 0) out.push(...(await swapProblems(paths, disks, resolved)));
  return out;
}

/** Guest disks that are an active swap device of the host, or a disk holding one. */
async function swapProblems(paths: HostPaths, disks: readonly GuestFile[], resolved: ReadonlyMap<GuestFile, ResolvedPath>): Promise<Problem[]> {
  const sw = await runTool(paths.tool("swapctl"), ["-l"]).catch((e: Error) => ({ status: null, stdout: "", stderr: e.message }));
  if (sw.status !== 0) {
    const said = (sw.stderr || sw.stdout).trim() || `exit ${sw.status}`;
    return disks.map((f) => ({ path: f.field, message: `${f.given} cannot be checked against the host's swap devices: swapctl -l failed (${said}); no guest disk is given while the active swap devices are not known` }));
  }
  const swaps = parseSwapctl(sw.stdout);
  if (swaps.length === 0) return [];
  // GEOM labels (gpt/swap0, gptid/…) stand for a partition: glabel status says which.
  let labels: Map<string, string[]> | null = null;
  const geomName = async (devPath: string): Promise<string | null> => {
    if (!devPath.startsWith("/dev/")) return null;
    const name = devPath.slice(5).replace(/\.eli$/, "");
    if (!name.includes("/") || name.startsWith("zvol/")) return name;
    if (!labels) {
      const g = await runTool(paths.tool("glabel"), ["status"]);
      labels = g.status === 0 ? parseGeomStatus(g.stdout) : new Map();
    }
    return labels.get(name)?.[0]?.replace(/\.eli$/, "") ?? name;
  };
  const byIdentity = new Map<string, string>();
  const byName = new Map<string, string>();
  const holding = new Map<string, string>();
  for (const s of swaps) {
    const r = resolveHostPath(paths, s);
    if (r.ok) byIdentity.set(fileIdentity(r), s);
    const n = await geomName(r.ok ? r.path : s);
    if (n) {
      byName.set(n, s);
      if (!n.includes("/") && diskOf(n) !== n) holding.set(diskOf(n), s);
    }
  }
  const out: Problem[] = [];
  for (const f of disks) {
    const r = resolved.get(f)!;
    const n = await geomName(r.path);
    const swap = byIdentity.get(fileIdentity(r)) ?? (n ? byName.get(n) : undefined);
    const via = r.path !== f.given ? ` (it leads to ${r.path})` : "";
    if (swap) out.push({ path: f.field, message: `${f.given}${via} is an active swap device of this host (swapctl -l lists ${swap}): a guest writing to it would corrupt the host's memory; it is never a guest disk` });
    else if (n && holding.has(n)) out.push({ path: f.field, message: `${f.given}${via} is the disk that holds ${holding.get(n)}, an active swap device of this host (swapctl -l): a guest writing to it would corrupt the host's memory; it is never a guest disk` });
  }
  return out;
}
