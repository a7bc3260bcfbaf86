/**
 * Devices the host itself depends on, which are never reserved for passthrough unless the policy
 * names them: the NIC that carries the agent's management connection (and every NIC in the same
 * lagg or bridge, or under its vlan or wlan), the NIC of the default route, and the storage
 * controller of the root file system. Each is found the way an administrator would find it, with
 * the host's own tools:
 *
 * - management NIC: the SSH connection's local address (sshd's SSH_CONNECTION) → the interface
 *   holding it (`ifconfig -a`); when no interface holds it, the route back to the client (`route
 *   -n get CLIENT`); plus the default route's interface (`route -n get default`); a lagg or bridge
 *   expands to its ports or members → each NIC's PCI location (`sysctl -n dev.DRIVER.UNIT.%location`);
 * - root disk: `mount` → the root's source (a ZFS dataset → its pool's vdevs, `zpool status -P`)
 *   → through GEOM labels and mirrors (`glabel status`, `gmirror status`) → the disk → its
 *   controller (`camcontrol devlist -v` for CAM disks, its bus's SIM named as the newbus device:
 *   umass-sim0 is umass0; `dev.nvd.N.%parent` for nvd) → up the newbus tree (`%parent`) to the
 *   PCI function (`%location`). A USB disk leads through its hubs and usbus to the USB host
 *   controller (umass0 → uhub0 → usbus0 → xhci0), which is then the protected device.
 *
 * Virtual interfaces are followed to the NICs under them: a vlan or wlan to its parent (`parent
 * interface:`), a lagg to its ports, a bridge to its members (guests' taps aside).
 *
 * What cannot be determined is never guessed: an interface or root disk that cannot be mapped to
 * a PCI function makes the whole class fail closed (no network controller, PCI class 0x02, no
 * storage controller, 0x01, or for a USB root disk no serial bus controller, 0x0c, is reserved
 * unless ppt.take_protected names it), said in `unmapped`.
 */
import { locationBsf, parseIfconfig, parseRouteGet, type IfconfigInterface } from "../parse/network.js";
import { camSimDevice, diskOf, parseCamDevlist, parseGeomStatus, parseMount, parseZpoolDevices } from "../parse/storage.js";
import type { UnmappedDependency } from "../model/policy.js";
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

/**
 * newbus device name → the PCI function it is or sits on (B/S/F and its name), walking up
 * `%parent` until a `%location` names a PCI address, with the names walked (the device first, the
 * PCI function last). Deep enough for a USB disk behind the most hubs USB allows: umass0 → uhub
 * (up to five external hubs, then the root hub) → usbus0 → xhci0.
 */
async function pciOf(paths: HostPaths, device: string): Promise<{ bsf: string; name: string; path: string[] } | null> {
  let name = device;
  const path: string[] = [];
  for (let i = 0; i < 10; i++) {
    const m = /^([a-z_]+?)(\d+)$/.exec(name);
    if (!m || path.includes(name)) return null;
    path.push(name);
    const loc = await sysctlValue(paths, `dev.${m[1]}.${m[2]}.%location`);
    const bsf = loc ? locationBsf(loc) : null;
    if (bsf) return { bsf, name, path };
    const parent = await sysctlValue(paths, `dev.${m[1]}.${m[2]}.%parent`);
    if (!parent || /^pci\d+$/.test(parent)) return null;
    name = parent;
  }
  return null;
}

/** Interfaces on the guest or jail side of a bridge: a bridge member by one of these names is not a way out of the host. */
const GUEST_PORT = /^(tap|vmnet|epair)\d/;

/**
 * The NICs an interface depends on, each with the path from the interface to it: itself, a lagg's
 * ports, a bridge's members (not guests' taps), the parent of a vlan or wlan (`em0.10` → em0 when
 * ifconfig names no parent), and the other ports or members of a lagg or bridge it is part of.
 * Laggs, bridges, vlans and wlans are followed, not returned: they have no PCI function of their own.
 */
export function nicsBehind(all: readonly IfconfigInterface[], name: string): Array<{ nic: string; path: string[]; viaParent: boolean }> {
  const seen = new Set<string>();
  const out: Array<{ nic: string; path: string[]; viaParent: boolean }> = [];
  const visit = (n: string, path: string[], viaParent: boolean, fromBridge: boolean): void => {
    if (seen.has(n) || (fromBridge && GUEST_PORT.test(n))) return;
    seen.add(n);
    const here = [...path, n];
    const i = all.find((x) => x.name === n);
    const shortVlan = /^(.+)\.\d+$/.exec(n)?.[1];
    const parent = i?.parent ?? (shortVlan && all.some((x) => x.name === shortVlan) ? shortVlan : null);
    const group = !!i && (i.laggPorts.length > 0 || i.bridgeMembers.length > 0 || i.groups.includes("lagg") || i.groups.includes("bridge"));
    if (parent) visit(parent, here, true, false);
    else if (!group) out.push({ nic: n, path: here, viaParent });
    for (const c of i?.laggPorts ?? []) visit(c, here, viaParent, false);
    for (const c of i?.bridgeMembers ?? []) visit(c, here, viaParent, true);
    for (const g of all.filter((x) => x.laggPorts.includes(n) || x.bridgeMembers.includes(n))) visit(g.name, here, viaParent, false);
  };
  visit(name, [], false, false);
  return out;
}

const NETWORK = { baseClass: 0x02, className: "network" } as const;
const STORAGE = { baseClass: 0x01, className: "storage" } as const;
/** USB host controllers (xhci, ehci, ohci, uhci) are PCI class 0x0c03: a USB root disk depends on one. */
const SERIAL_BUS = { baseClass: 0x0c, className: "serial bus" } as const;

/** The NICs of the management connection and of the default route. */
async function networkDevices(paths: HostPaths, session: SessionAddresses | null, unmapped: UnmappedDependency[]): Promise<ProtectedDevice[]> {
  const ifc = await runTool(paths.tool("ifconfig"), ["-a"]);
  if (ifc.status !== 0) {
    unmapped.push({ ...NETWORK, subject: "the management interface", why: `ifconfig -a failed (${ifc.stderr.trim() || `exit ${ifc.status}`}), so the interfaces carrying the agent's connection and the default route are not known` });
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
    else if (!iface) {
      unmapped.push({ ...NETWORK, subject: "the management connection", why: `no interface holds ${session.local}, the address this SSH session came in on, and route -n get ${session.client} names no interface back to the client` });
    }
  }
  const def = await routeIf("default");
  if (def && !def.startsWith("lo") && !reasons.has(def)) reasons.set(def, `it carries the host's default route (${def})`);
  const out: ProtectedDevice[] = [];
  for (const [iface, why] of reasons) {
    for (const { nic, path, viaParent } of nicsBehind(all, iface)) {
      const pci = await pciOf(paths, nic);
      const rel = nic === iface ? "" : viaParent ? `${nic} carries ${iface} (${path.join(" on ")}): ` : `${nic} is in the same lagg/bridge as ${iface}: `;
      if (pci) out.push({ device: pci.bsf, name: nic, why: `${rel}${why}` });
      else {
        const unit = /^([a-z_]+?)(\d+)$/.exec(nic);
        unmapped.push({ ...NETWORK, subject: nic, why: `${rel || `${nic}: `}${why}, and ${nic} could not be mapped to a PCI function (${unit ? `sysctl dev.${unit[1]}.${unit[2]}.%location gives no PCI address` : "it is not a device the agent can follow to PCI"})` });
      }
    }
  }
  return out;
}

/** The controller of the root file system's disks. */
async function rootDevices(paths: HostPaths, unmapped: UnmappedDependency[]): Promise<ProtectedDevice[]> {
  const cannot = (subject: string, why: string): void => void unmapped.push({ ...STORAGE, subject, why });
  const mnt = await runTool(paths.tool("mount"), []);
  const root = mnt.status === 0 ? parseMount(mnt.stdout).find((e) => e.mountPoint === "/") : undefined;
  if (!root) {
    cannot("the root file system", "mount did not show the root file system, so the disk it is on is not known");
    return [];
  }
  let devices: string[];
  if (root.fsType === "zfs") {
    const pool = root.source.split("/")[0]!;
    const z = await runTool(paths.tool("zpool"), ["status", "-P", pool]);
    devices = z.status === 0 ? parseZpoolDevices(z.stdout) : [];
    if (devices.length === 0) cannot(`pool ${pool}`, `the root pool ${pool} showed no devices in zpool status -P`);
  } else {
    devices = root.source.startsWith("/dev/") ? [root.source] : [];
    if (devices.length === 0) cannot(root.source, `the root file system comes from ${root.source}, which is not a disk device`);
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
      cannot(d, `the root file system is on ${d}, which neither glabel nor gmirror resolves to a disk (a GEOM class the agent does not follow, such as graid or multipath)`);
      return [];
    }
    return (await Promise.all(under.map((c) => toDisks(c, depth + 1)))).flat();
  };
  const disks = [...new Set((await Promise.all(devices.map((dev) => toDisks(dev, 0)))).flat())];
  let cam: Map<string, string> | null = null;
  const out: ProtectedDevice[] = [];
  for (const disk of disks) {
    // The newbus device the disk hangs on: nvd's parent, or the device behind the disk's CAM bus (ahcich0; umass-sim0 is umass0).
    let controller: string | null = null;
    let sim: string | null = null;
    if (/^nvd\d+$/.test(disk)) controller = await sysctlValue(paths, `dev.nvd.${disk.slice(3)}.%parent`);
    else {
      if (!cam) {
        const c = await runTool(paths.tool("camcontrol"), ["devlist", "-v"]);
        cam = c.status === 0 ? parseCamDevlist(c.stdout) : new Map();
      }
      sim = cam.get(disk) ?? null;
      controller = sim ? camSimDevice(sim) : null;
    }
    const pci = controller ? await pciOf(paths, controller) : null;
    const usb = /^umass\d+$/.test(controller ?? "") || !!pci?.path.some((n) => /^usbus\d+$/.test(n));
    if (pci) {
      const role = usb ? "the USB controller of the root file system's disk" : "the storage controller of the root file system";
      out.push({ device: pci.bsf, name: pci.name, why: `it is ${role} (${root.source} is on ${disk}, behind ${pci.path.join(" on ")})` });
    } else if (usb) {
      // A USB disk's controller is a USB host controller, not a storage one: that class fails closed.
      unmapped.push({ ...SERIAL_BUS, subject: disk, why: `the root file system (${root.source}) is on ${disk}, a USB disk on ${sim ?? controller}, and ${controller} could not be followed up %parent to the PCI function of its USB controller` });
    } else cannot(disk, `the root file system (${root.source}) is on ${disk}, whose controller ${controller ? `${controller}${sim && sim !== controller ? ` (CAM bus ${sim})` : ""} could not be mapped to a PCI function` : "was not found (camcontrol devlist -v does not list it)"}`);
  }
  return out;
}

/** What {@link protectedDevices} finds. */
export interface ProtectedDevices {
  readonly devices: ProtectedDevice[];
  /** Dependencies that could not be mapped to a PCI function: their whole class is refused (fail closed). */
  readonly unmapped: UnmappedDependency[];
  /** The same, as sentences for `bhyve-agent policy`. */
  readonly notes: string[];
}

/** Every protected device, with why, and what could not be determined. */
export async function protectedDevices(paths: HostPaths, session: SessionAddresses | null = sessionAddresses()): Promise<ProtectedDevices> {
  const unmapped: UnmappedDependency[] = [];
  const devices = [...(await networkDevices(paths, session, unmapped)), ...(await rootDevices(paths, unmapped))];
  const unique = devices.filter((d, i) => devices.findIndex((x) => x.device === d.device) === i);
  const notes = unmapped.map((u) => `${u.why}: no ${u.className} controller (PCI class 0x${u.baseClass.toString(16).padStart(2, "0")}) is reserved unless policy ppt.take_protected names it`);
  return { devices: unique, unmapped, notes };
}
