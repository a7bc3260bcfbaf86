/**
 * Devices the host itself depends on, which are never reserved for passthrough unless the policy
 * names them: the NIC that carries the agent's management connection (and every NIC in the same
 * lagg or bridge), the NIC of the default route, and the storage controller of the root file
 * system. Each is found the way an administrator would find it, with the host's own tools:
 *
 * - management NIC: the SSH connection's local address (sshd's SSH_CONNECTION) → the interface
 *   holding it (`ifconfig -a`); when no interface holds it, the route back to the client (`route
 *   -n get CLIENT`); plus the default route's interface (`route -n get default`); a lagg or bridge
 *   expands to its ports or members → each NIC's PCI location (`sysctl -n dev.DRIVER.UNIT.%location`);
 * - root disk: `mount` → the root's source (a ZFS dataset → its pool's vdevs, `zpool status -P`)
 *   → through GEOM labels and mirrors (`glabel status`, `gmirror status`) → the disk → its controller (`camcontrol devlist -v` for CAM disks, `dev.nvd.N.%parent` for
 *   nvd) → up the newbus tree (`%parent`) to the PCI function (`%location`).
 *
 * What cannot be determined is said in `notes`, never guessed.
 */
import { locationBsf, parseIfconfig, parseRouteGet, type IfconfigInterface } from "../parse/network.js";
import { diskOf, parseCamDevlist, parseGeomStatus, parseMount, parseZpoolDevices } from "../parse/storage.js";
import { runTool } from "./exec.js";
import type { HostPaths } from "./paths.js";

/** A device the host depends on. */
export interface ProtectedDevice {
  /** B/S/F. */
  readonly device: string;
  /** The host's name for it: em0, ahci0, nvme0. */
  readonly name: string;
  readonly why: string;
}

/** The addresses of the SSH connection this agent serves, from sshd's SSH_CONNECTION. */
export interface SessionAddresses {
  readonly client: string;
  readonly local: string;
}

/** SSH_CONNECTION ("client port local port") → addresses, or null outside an SSH session. */
export function sessionAddresses(env: NodeJS.ProcessEnv = process.env): SessionAddresses | null {
  const parts = (env.SSH_CONNECTION ?? "").trim().split(/\s+/);
  return parts.length === 4 ? { client: parts[0]!, local: parts[2]! } : null;
}

async function sysctlValue(paths: HostPaths, name: string): Promise<string | null> {
  const r = await runTool(paths.tool("sysctl"), ["-n", name]);
  return r.status === 0 ? r.stdout.trim() : null;
}

/** newbus device name → the PCI function it is or sits on (B/S/F and its name), walking up `%parent` (at most a few levels). */
async function pciOf(paths: HostPaths, device: string): Promise<{ bsf: string; name: string } | null> {
  let name = device;
  for (let i = 0; i < 6; i++) {
    const m = /^([a-z_]+?)(\d+)$/.exec(name);
    if (!m) return null;
    const loc = await sysctlValue(paths, `dev.${m[1]}.${m[2]}.%location`);
    const bsf = loc ? locationBsf(loc) : null;
    if (bsf) return { bsf, name };
    const parent = await sysctlValue(paths, `dev.${m[1]}.${m[2]}.%parent`);
    if (!parent || /^pci\d+$/.test(parent)) return null;
    name = parent;
  }
  return null;
}

/** The physical NICs behind an interface: itself, a lagg's ports, a bridge's members, and the siblings of a lagg or bridge it is part of. */
function physicalNics(all: readonly IfconfigInterface[], name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const i = all.find((x) => x.name === n);
    for (const c of [...(i?.laggPorts ?? []), ...(i?.bridgeMembers ?? [])]) visit(c);
    for (const group of all.filter((x) => x.laggPorts.includes(n) || x.bridgeMembers.includes(n))) visit(group.name);
  };
  visit(name);
  return [...seen];
}

/** The NICs of the management connection and of the default route. */
async function networkDevices(paths: HostPaths, session: SessionAddresses | null, notes: string[]): Promise<ProtectedDevice[]> {
  const ifc = await runTool(paths.tool("ifconfig"), ["-a"]);
  if (ifc.status !== 0) {
    notes.push(`ifconfig -a failed (${ifc.stderr.trim()}): the management NIC is not known, so none is protected by it; name NICs in the policy's ppt.deny`);
    return [];
  }
  const all = parseIfconfig(ifc.stdout);
  const reasons = new Map<string, string>();
  const routeIf = async (dest: string): Promise<string | null> => {
    const r = await runTool(paths.tool("route"), ["-n", "get", dest]);
    return r.status === 0 ? parseRouteGet(r.stdout).interface : null;
  };
  if (session) {
    let iface = all.find((i) => i.inet.includes(session.local) || i.inet6.includes(session.local))?.name ?? null;
    let how = `holds ${session.local}, the address this SSH session came in on`;
    if (!iface || iface.startsWith("lo")) {
      iface = await routeIf(session.client);
      how = `is the route back to the SSH client ${session.client}`;
    }
    if (iface && !iface.startsWith("lo")) reasons.set(iface, `it carries the agent's management connection (${iface} ${how})`);
  }
  const def = await routeIf("default");
  if (def && !reasons.has(def)) reasons.set(def, `it carries the host's default route (${def})`);
  const out: ProtectedDevice[] = [];
  for (const [iface, why] of reasons) {
    for (const nic of physicalNics(all, iface)) {
      const i = all.find((x) => x.name === nic);
      // A lagg or bridge itself has no PCI location; its ports and members are listed on their own.
      if (i && (i.laggPorts.length || i.bridgeMembers.length)) continue;
      const pci = await pciOf(paths, nic);
      if (pci) out.push({ device: pci.bsf, name: nic, why: nic === iface ? why : `${nic} is in the same lagg/bridge as ${iface}: ${why}` });
    }
  }
  return out;
}

/** The controller of the root file system's disks. */
async function rootDevices(paths: HostPaths, notes: string[]): Promise<ProtectedDevice[]> {
  const mnt = await runTool(paths.tool("mount"), []);
  const root = mnt.status === 0 ? parseMount(mnt.stdout).find((e) => e.mountPoint === "/") : undefined;
  if (!root) {
    notes.push("mount did not show the root file system: its disk controller is not known, so none is protected by it; name it in the policy's ppt.deny");
    return [];
  }
  let devices: string[];
  if (root.fsType === "zfs") {
    const pool = root.source.split("/")[0]!;
    const z = await runTool(paths.tool("zpool"), ["status", "-P", pool]);
    devices = z.status === 0 ? parseZpoolDevices(z.stdout) : [];
    if (devices.length === 0) notes.push(`zpool status -P ${pool} showed no devices: the root pool's controller is not known`);
  } else {
    devices = root.source.startsWith("/dev/") ? [root.source] : [];
    if (devices.length === 0) notes.push(`the root file system comes from ${root.source}: its controller is not known`);
  }
  const geom = new Map<string, Map<string, string[]>>();
  const components = async (name: string): Promise<string[] | undefined> => {
    const cls = name.startsWith("mirror/") ? "gmirror" : "glabel";
    if (!geom.has(cls)) {
      const r = await runTool(paths.tool(cls), ["status"]);
      geom.set(cls, r.status === 0 ? parseGeomStatus(r.stdout) : new Map());
    }
    return geom.get(cls)!.get(name);
  };
  // A label or mirror (gpt/rootfs, gptid/…, mirror/gm0) stands for the partitions or disks under it.
  const toDisks = async (name: string, depth: number): Promise<string[]> => {
    const d = diskOf(name);
    if (!d.includes("/")) return [d];
    const under = depth < 3 ? await components(d) : undefined;
    if (!under?.length) {
      notes.push(`the root file system is on ${d}, which neither glabel nor gmirror resolves to a disk: its controller is not known; name it in the policy's ppt.deny`);
      return [];
    }
    return (await Promise.all(under.map((c) => toDisks(c, depth + 1)))).flat();
  };
  const disks = [...new Set((await Promise.all(devices.map((dev) => toDisks(dev, 0)))).flat())];
  let cam: Map<string, string> | null = null;
  const out: ProtectedDevice[] = [];
  for (const disk of disks) {
    let controller: string | null = null;
    if (/^nvd\d+$/.test(disk)) controller = await sysctlValue(paths, `dev.nvd.${disk.slice(3)}.%parent`);
    else {
      if (!cam) {
        const c = await runTool(paths.tool("camcontrol"), ["devlist", "-v"]);
        cam = c.status === 0 ? parseCamDevlist(c.stdout) : new Map();
      }
      controller = cam.get(disk) ?? null;
    }
    const pci = controller ? await pciOf(paths, controller) : null;
    if (pci) out.push({ device: pci.bsf, name: pci.name, why: `it is the storage controller of the root file system (${root.source} is on ${disk}, behind ${controller}${controller === pci.name ? "" : ` on ${pci.name}`})` });
    else notes.push(`the controller of root disk ${disk} was not found${controller ? ` (${controller} has no PCI location)` : ""}`);
  }
  return out;
}

/** Every protected device, with why, and what could not be determined. */
export async function protectedDevices(paths: HostPaths, session: SessionAddresses | null = sessionAddresses()): Promise<{ devices: ProtectedDevice[]; notes: string[] }> {
  const notes: string[] = [];
  const devices = [...(await networkDevices(paths, session, notes)), ...(await rootDevices(paths, notes))];
  const unique = devices.filter((d, i) => devices.findIndex((x) => x.device === d.device) === i);
  return { devices: unique, notes };
}
