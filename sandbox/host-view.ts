/**
 * What the sandbox host itself runs on, as its tools show it: network interfaces (the PCI NICs
 * attached to their drivers, lo0, an optional lagg0 or bridge0, an optional vlan on top of the
 * management NIC or lagg0, or a WireGuard tunnel wg0, holding the management address), routes, the
 * root file system, its ZFS pool, the CAM buses that hold its disks (a USB stick's behind its USB
 * controller, hub and umass device), and its swap devices. Formats
 * follow FreeBSD 13/14's ifconfig(8), route(8) `get`, mount(8), zpool-status(8) -P, camcontrol(8)
 * `devlist -v` and swapctl(8) `-l`; a NIC bound to ppt has no interface, as on FreeBSD.
 */
import type { MachinePciFunction, MachineState } from "./machine.js";
import type { Profile } from "./profiles.js";

/** NIC drivers whose attached functions are network interfaces. */
const NIC_DRIVERS = new Set(["em", "igb", "ix", "ixl", "re", "bge", "bce", "vtnet", "mlx5_core", "cxgbe"]);

/** The network settings of a sandbox host (machine.json `net`). */
export interface SandboxNet {
  /** The host's management address. */
  address: string;
  /** Prefix length of its subnet. */
  prefix: number;
  /** NICs aggregated into lagg0, which then holds the address. */
  lagg: string[] | null;
  /** NICs in bridge0, which then holds the address. */
  bridge: string[] | null;
  /** A vlan(4) tag: the address is on vlanN over lagg0, or on NIC.N (em0.10) over the management NIC. */
  vlan?: number | null;
  /** A WireGuard interface (wg0) holding the address instead: a management path with no PCI function of its own. */
  tunnel?: string | null;
}

/** The management address when none was set: TEST-NET-1 (RFC 5737), only ever printed, never contacted. */
export const DEFAULT_NET: SandboxNet = { address: "192.0.2.10", prefix: 24, lagg: null, bridge: null };

/** The machine's network settings (defaults for machines made before they existed). */
export function machineNet(m: MachineState): SandboxNet {
  return m.net ?? DEFAULT_NET;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
const toInt = (a: string): number => a.split(".").reduce((v, o) => ((v << 8) | Number(o)) >>> 0, 0);
const toAddr = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

/** NIC interfaces now (driver+unit), in PCI order. */
export function nicInterfaces(m: MachineState): Array<{ name: string; fn: MachinePciFunction }> {
  return m.pci.filter((f) => f.driver !== null && NIC_DRIVERS.has(f.driver)).map((f) => ({ name: `${f.driver}${f.unit}`, fn: f }));
}

/** The interface a vlan of the management network sits on, or that holds the address itself: lagg0, bridge0 or the management NIC. */
function baseInterface(net: SandboxNet, p: Profile): string {
  return net.lagg ? "lagg0" : net.bridge ? "bridge0" : p.host.mgmtIf;
}

/** The name of the vlan interface over `parent` with tag `tag`: vlanN over a lagg, the short form NIC.N (em0.10) over a NIC. */
export function vlanName(parent: string, tag: number): string {
  return parent.startsWith("lagg") ? `vlan${tag}` : `${parent}.${tag}`;
}

/** The interface that holds the management address. */
export function mgmtInterface(m: MachineState, p: Profile): string {
  const net = machineNet(m);
  if (net.tunnel) return net.tunnel;
  const base = baseInterface(net, p);
  return net.vlan ? vlanName(base, net.vlan) : base;
}

function ether(f: MachinePciFunction): string {
  return `58:9c:fc:${hex2(f.bus)}:${hex2(f.slot)}:${hex2(f.function + 1)}`;
}

function inetLine(net: SandboxNet): string {
  const m = mask(net.prefix);
  const bcast = (toInt(net.address) & m) | (~m >>> 0);
  return `\tinet ${net.address} netmask 0x${m.toString(16).padStart(8, "0")} broadcast ${toAddr(bcast >>> 0)}\n`;
}

/** ifconfig(8) blocks by interface name, in the order `ifconfig -a` prints them. */
export function ifconfigBlocks(m: MachineState, p: Profile): Array<[string, string]> {
  const net = machineNet(m);
  const holder = mgmtInterface(m, p);
  const up = "flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n";
  const blocks: Array<[string, string]> = [];
  for (const { name, fn } of nicInterfaces(m)) {
    let b = `${name}: ${up}\toptions=4e524bb<RXCSUM,TXCSUM,VLAN_MTU,VLAN_HWTAGGING,JUMBO_MTU,VLAN_HWCSUM,LRO,WOL_MAGIC,VLAN_HWFILTER,VLAN_HWTSO,RXCSUM_IPV6,TXCSUM_IPV6,NOMAP>\n\tether ${ether(fn)}\n`;
    if (name === holder) b += inetLine(net);
    b += "\tmedia: Ethernet autoselect (1000baseT <full-duplex>)\n\tstatus: active\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n";
    blocks.push([name, b]);
  }
  blocks.push(["lo0", "lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n\tinet 127.0.0.1 netmask 0xff000000\n\tgroups: lo\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n"]);
  const present = new Set(nicInterfaces(m).map((n) => n.name));
  const first = nicInterfaces(m).find((n) => n.name === (net.lagg ?? [p.host.mgmtIf])[0]);
  const mac = first ? ether(first.fn) : "58:9c:fc:00:00:00";
  if (net.lagg) {
    let b = `lagg0: ${up}\toptions=4e500bb<RXCSUM,TXCSUM,VLAN_MTU,VLAN_HWTAGGING,JUMBO_MTU,VLAN_HWCSUM,RXCSUM_IPV6,TXCSUM_IPV6,NOMAP>\n\tether ${mac}\n${holder === "lagg0" ? inetLine(net) : ""}\tlaggproto lacp lagghash l2,l3,l4\n`;
    for (const port of net.lagg.filter((x) => present.has(x))) b += `\tlaggport: ${port} flags=1c<ACTIVE,COLLECTING,DISTRIBUTING>\n`;
    b += "\tgroups: lagg\n\tmedia: Ethernet autoselect\n\tstatus: active\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n";
    blocks.push(["lagg0", b]);
  }
  if (net.bridge) {
    let b = `bridge0: ${up}\tether 58:9c:fc:10:ff:d2\n${holder === "bridge0" ? inetLine(net) : ""}\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n`;
    net.bridge.filter((x) => present.has(x)).forEach((member, i) => {
      b += `\tmember: ${member} flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n\t        port ${i + 1} priority 128 path cost 20000\n`;
    });
    b += "\tgroups: bridge\n\tnd6 options=9<PERFORMNUD,IFDISABLED>\n";
    blocks.push(["bridge0", b]);
  }
  const base = baseInterface(net, p);
  if (net.vlan && !net.tunnel && (base !== p.host.mgmtIf || present.has(base))) {
    // sbin/ifconfig/ifvlan.c vlan_status(): tag, protocol, priority and parent on one line.
    const name = vlanName(base, net.vlan);
    blocks.push([name, `${name}: ${up}\toptions=4600703<RXCSUM,TXCSUM,TSO4,TSO6,LRO,RXCSUM_IPV6,TXCSUM_IPV6,NOMAP>\n\tether ${mac}\n${inetLine(net)}\tgroups: vlan\n\tvlan: ${net.vlan} vlanproto: 802.1q vlanpcp: 0 parent interface: ${base}\n\tmedia: Ethernet autoselect\n\tstatus: active\n\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n`]);
  }
  if (net.tunnel) {
    const m32 = mask(net.prefix);
    blocks.push([net.tunnel, `${net.tunnel}: flags=10080c1<UP,RUNNING,NOARP,MULTICAST,LOWER_UP> metric 0 mtu 1420\n\toptions=80000<LINKSTATE>\n\tinet ${net.address} netmask 0x${m32.toString(16).padStart(8, "0")}\n\tgroups: wg\n\tnd6 options=109<PERFORMNUD,IFDISABLED,NO_DAD>\n`]);
  }
  return blocks;
}

/** `route -n get DEST`, or null when there is no route (the host has no default route without its NIC). */
export function routeGet(m: MachineState, p: Profile, dest: string): string | null {
  const net = machineNet(m);
  const holder = mgmtInterface(m, p);
  // The management network is down when the NIC under it is gone (bound to ppt); a lagg or bridge, or a tunnel, stays.
  const base = baseInterface(net, p);
  const holderUp = !!net.tunnel || base !== p.host.mgmtIf || nicInterfaces(m).some((n) => n.name === base);
  const tail = " recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire\n";
  // route.c prints each metric with "%8lu%c " (the %c is the lock flag, a space when unlocked).
  const out = (to: string, destination: string, maskText: string | null, gateway: string | null, iface: string, flags: string, mtu: number): string =>
    `   route to: ${to}\ndestination: ${destination}\n${maskText ? `       mask: ${maskText}\n` : ""}${gateway ? `    gateway: ${gateway}\n` : ""}        fib: 0\n  interface: ${iface}\n      flags: <${flags}>\n${tail}${[0, 0, 0, 0, mtu, 1, 0].map((v) => `${String(v).padStart(8)}  `).join("").slice(0, -1)}\n`;
  const m32 = mask(net.prefix);
  const subnet = toAddr((toInt(net.address) & m32) >>> 0);
  if (dest === net.address) return out(dest, dest, null, null, "lo0", "UP,HOST,DONE,STATIC,PINNED", 16384);
  if (dest !== "default" && /^127\./.test(dest)) return out(dest, "127.0.0.1", null, null, "lo0", "UP,HOST,DONE,STATIC,PINNED", 16384);
  if (!holderUp) return null;
  if (dest !== "default" && /^\d+\.\d+\.\d+\.\d+$/.test(dest) && ((toInt(dest) & m32) >>> 0) === toInt(subnet)) {
    return out(dest, subnet, toAddr(m32), null, holder, "UP,DONE,PINNED", 1500);
  }
  const gw = toAddr(((toInt(subnet) + 1) >>> 0));
  return out(dest === "default" ? "default" : dest, "default", "default", gw, holder, "UP,GATEWAY,DONE,STATIC", 1500);
}

/** The device name the root is mounted or pooled by: its GEOM label when it has one, else the partition. */
function rootProvider(p: Profile): string {
  return p.host.rootLabel ?? p.host.rootPartition;
}

/** Device nodes of the host's own storage under /dev: the root disk, its partitions, their GEOM labels, swap devices (a zvol, a .eli). */
export function storageNodes(p: Profile): string[] {
  const disk = rootDisk(p);
  const labels = glabelStatus(p).split("\n").slice(1).flatMap((l) => l.trim().split(/\s+/).slice(0, 1)).filter(Boolean);
  const swaps = p.host.swap.map((s) => s.device.replace(/^\/dev\//, ""));
  return [...new Set([disk, ...[1, 2, 3, 4].map((i) => `${disk}p${i}`), ...labels, ...swaps])];
}

/** glabel(8) `status`: the EFI partition's, the root partition's and swap partitions' labels, name column right-aligned. */
export function glabelStatus(p: Profile): string {
  const disk = rootDisk(p);
  const rows: Array<[string, string]> = [["gpt/efiboot0", `${disk}p1`]];
  if (p.host.rootLabel) rows.push([p.host.rootLabel, p.host.rootPartition]);
  for (const s of p.host.swap) if (s.partition) rows.push([s.device.replace(/^\/dev\//, ""), s.partition]);
  const w = Math.max(4, ...rows.map(([n]) => n.length));
  return `${"Name".padStart(w)}  Status  Components\n${rows.map(([n, c]) => `${n.padStart(w)}     N/A  ${c}\n`).join("")}`;
}

/** mount(8) without arguments. */
export function mountText(p: Profile): string {
  const root = p.host.rootFs === "zfs" ? "zroot/ROOT/default on / (zfs, local, noatime, nfsv4acls)" : `/dev/${rootProvider(p)} on / (ufs, local, soft-updates, journaled soft-updates)`;
  const rest = p.host.rootFs === "zfs"
    ? ["devfs on /dev (devfs)", "/dev/gpt/efiboot0 on /boot/efi (msdosfs, local)", "zroot/tmp on /tmp (zfs, local, noatime, nosuid, nfsv4acls)", "zroot/usr/home on /usr/home (zfs, local, noatime, nfsv4acls)", "zroot/var/log on /var/log (zfs, local, noatime, noexec, nosuid, nfsv4acls)", "zroot on /zroot (zfs, local, noatime, nfsv4acls)"]
    : ["devfs on /dev (devfs)"];
  return `${[root, ...rest].join("\n")}\n`;
}

/** zpool-status(8) of the root pool with full device paths (-P), or null for another pool. */
export function zpoolStatus(p: Profile, pool: string): string | null {
  if (p.host.rootFs !== "zfs" || pool !== "zroot") return null;
  const dev = `/dev/${rootProvider(p)}`;
  const w = Math.max(12, dev.length + 4);
  const row = (name: string, indent: string): string => `\t${indent}${name.padEnd(w - indent.length)}ONLINE       0     0     0\n`;
  return `  pool: zroot\n state: ONLINE\nconfig:\n\n\t${"NAME".padEnd(w)}STATE     READ WRITE CKSUM\n${row("zroot", "")}${row(dev, "  ")}\nerrors: No known data errors\n`;
}

/** The disk (without partition) the root file system is on, e.g. ada0. */
export function rootDisk(p: Profile): string {
  return p.host.rootPartition.replace(/(p\d+|s\d+[a-h]?)$/, "");
}

/** AHCI channels (`ahcichN`), two per attached ahci controller, with the controller's unit. */
export function ahciChannels(m: MachineState): Array<{ unit: number; controller: number }> {
  return m.pci.filter((f) => f.driver === "ahci").flatMap((f, i) => [0, 1].map((c) => ({ unit: i * 2 + c, controller: f.unit })));
}

/** USB host controller drivers: each attached one has a usbus and a root hub (sys/dev/usb/controller/*_pci.c add the usbus child). */
const USB_HC_DRIVERS = new Set(["xhci", "ehci", "ohci", "uhci"]);

/** USB buses now: a `usbusN` with its root hub `uhubN` per attached USB host controller, in PCI order. */
export function usbBuses(m: MachineState): Array<{ unit: number; controller: MachinePciFunction }> {
  return m.pci.filter((f) => f.driver !== null && USB_HC_DRIVERS.has(f.driver)).map((f, unit) => ({ unit, controller: f }));
}

/**
 * The USB stick the root file system is on (a daN root disk): umass0 on the root hub of the USB
 * controller the profile names, or null when that controller is not attached (bound to ppt or
 * detached: the stick is gone with it).
 */
export function usbStick(m: MachineState, p: Profile): { umass: number; usbus: number; hub: number; scbus: number; controller: MachinePciFunction } | null {
  const at = p.host.usbController;
  if (!at || !/^da\d+$/.test(rootDisk(p))) return null;
  const bus = usbBuses(m).find(({ controller: f }) => `${f.bus}/${f.slot}/${f.function}` === at);
  // Its CAM bus comes after the boot-time ones: one per AHCI channel and per NVMe controller.
  const scbus = ahciChannels(m).length + m.pci.filter((f) => f.driver === "nvme").length;
  return bus ? { umass: 0, usbus: bus.unit, hub: bus.unit, scbus, controller: bus.controller } : null;
}

/** The USB stick: its USB strings (umass's description), CAM's inquiry revision and the USB ids, as a public dmesg shows a SanDisk Cruzer Blade. */
export const USB_STICK = { vendor: "SanDisk", product: "Cruzer Blade", revision: "1.27", usbVendorId: 0x0781, usbProductId: 0x5567, bcdDevice: "1.27" } as const;

/**
 * camcontrol(8) `devlist -v`: a bus per AHCI channel and per NVMe controller, then a USB stick's
 * bus (`umass-sim0`, registered when umass attaches, after the boot-time controllers); the root
 * disk on the first channel of its kind, or on the stick.
 */
export function camcontrolDevlist(m: MachineState, p: Profile): string {
  const disk = rootDisk(p);
  let bus = 0;
  let pass = 0;
  let text = "";
  // camcontrol.c: "%-33s  at scbus%d target %d lun %jx (" with the <vendor product revision> string.
  const dev = (desc: string, b: number, target: number, lun: string, periphs: string): string => `${desc.padEnd(33)}  at scbus${b} target ${target} lun ${lun} (${periphs})\n`;
  const none = (b: number): string => dev("<>", b, -1, "ffffffff", "");
  for (const ch of ahciChannels(m)) {
    text += `scbus${bus} on ahcich${ch.unit} bus 0:\n`;
    if (ch.unit === 0 && disk === "ada0") text += dev("<Samsung SSD 860 EVO 500GB RVT04B6Q>", bus, 0, "0", `pass${pass++},ada0`);
    text += none(bus++);
  }
  let nda = 0;
  for (const f of m.pci.filter((x) => x.driver === "nvme")) {
    text += `scbus${bus} on nvme${f.unit} bus 0:\n${dev("<Samsung SSD 970 EVO Plus 1TB 2B2QEXM7>", bus, 0, "1", `pass${pass++},nda${nda++}`)}${none(bus++)}`;
  }
  const stick = usbStick(m, p);
  if (stick) {
    // umass.c registers its SIM as "umass-sim" with the umass unit; periphs in the order a public capture shows (da0,pass1).
    text += `scbus${stick.scbus} on umass-sim${stick.umass} bus 0:\n${dev(`<${USB_STICK.vendor} ${USB_STICK.product} ${USB_STICK.revision}>`, stick.scbus, 0, "0", `${disk},pass${pass++}`)}${none(stick.scbus)}`;
  }
  return `${text}scbus-1 on xpt0 bus 0:\n${dev("<>", -1, -1, "ffffffff", "xpt0")}`;
}

/**
 * swapctl(8) `-l` (sbin/swapon/swapon.c swaplist()): a header `Device:` / BLOCKSIZE-blocks /
 * `Used:`, then `/dev/NAME SIZE USED` per active swap device, in blocks of BLOCKSIZE bytes (512
 * unless the environment's BLOCKSIZE says otherwise, as getbsize(3) reads it); `-s` adds a Total line.
 */
export function swapctlText(p: Profile, blocksize: number, header: string, total: boolean): string {
  const w = 10;
  let out = `${"Device:".padEnd(13)} ${header.padStart(w)} ${"Used:".padStart(w)}\n`;
  let sum = 0;
  for (const s of p.host.swap) {
    const blocks = Math.floor(s.bytes / blocksize);
    sum += blocks;
    out += `/dev/${s.device.replace(/^\/dev\//, "").padEnd(8)} ${String(blocks).padStart(w)} ${"0".padStart(w)}\n`;
  }
  if (total) out += `${"Total:".padEnd(13)} ${String(sum).padStart(w)} ${"0".padStart(w)}\n`;
  return out;
}
