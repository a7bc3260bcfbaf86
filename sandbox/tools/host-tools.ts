/**
 * ifconfig(8), route(8) `get`, mount(8), zpool(8) `status`, camcontrol(8) `devlist`, glabel(8) and
 * gmirror(8) `status`, swapctl(8) `-l`: the
 * read-only views of the host's own network and root disk (sandbox/host-view.ts has the
 * formats), and ifconfig's changes to interfaces cloned at run time (bridges, taps, vlans:
 * sandbox/net-ifaces.ts). Anything else these tools can do is refused with usage, as nothing here needs it.
 */
import { machineProfile, readMachine, updateMachine, type MachineState } from "../machine.js";
import type { Profile } from "../profiles.js";
import { clonedBlock, clonedIfaces, ifconfigChange, type StaticView } from "../net-ifaces.js";
import { camcontrolDevlist, glabelStatus, ifconfigBlocks, machineNet, mountText, routeGet, swapctlText, zpoolStatus } from "../host-view.js";
import { getopt, getoptComplaint, type ToolIO } from "./tool.js";

/**
 * Simulated ifconfig: `ifconfig [-a]`, `ifconfig -l`, `ifconfig IFNAME`, and changes to cloned
 * interfaces and bridges (`ifconfig NAME [create|destroy] [parameters]`, sandbox/net-ifaces.ts).
 */
export function ifconfig(io: ToolIO): number {
  const g = getopt(io.args, "al");
  if ("bad" in g) {
    io.err(`${getoptComplaint("ifconfig", g)}usage: ifconfig [-a] [interface]\n`);
    return 1;
  }
  const [name, ...params] = g.operands;
  if (name !== undefined && params.length > 0) {
    const r = updateMachine(io.root, (mm) => {
      const p = machineProfile(mm);
      return ifconfigChange(mm, staticView(mm, p), name, params, p.release.major);
    });
    io.out(r.out);
    io.err(r.err);
    return r.status;
  }
  const m = readMachine(io.root);
  const blocks: Array<[string, string]> = [...ifconfigBlocks(m, machineProfile(m)), ...Object.entries(clonedIfaces(m)).map(([n, i]): [string, string] => [n, clonedBlock(m, n, i, machineProfile(m).release.major)])];
  if (new Map(g.opts).has("l")) {
    io.out(`${blocks.map(([n]) => n).join(" ")}\n`);
    return 0;
  }
  if (name === undefined) {
    io.out(blocks.map(([, b]) => b).join(""));
    return 0;
  }
  const b = blocks.find(([n]) => n === name);
  if (!b) {
    io.err(`ifconfig: interface ${name} does not exist\n`);
    return 1;
  }
  io.out(b[1]);
  return 0;
}

/** The interfaces that are not cloned, for ifconfig's changes: which exist, which hold an address, which the management network's lagg or bridge holds. */
export function staticView(m: MachineState, p: Profile): StaticView {
  const blocks = ifconfigBlocks(m, p);
  const net = machineNet(m);
  return {
    names: blocks.map(([n]) => n),
    addressed: blocks.filter(([, b]) => /\n\tinet /.test(b)).map(([n]) => n),
    busy: [...(net.lagg ?? []), ...(net.bridge ?? [])],
  };
}

/** Simulated route: `route [-n] get DEST` (alias `show`). */
export function route(io: ToolIO): number {
  const g = getopt(io.args, "46dnqtv");
  const usage = "usage: route [-46dnqtv] command [[modifiers] args]\n";
  if ("bad" in g) {
    io.err(getoptComplaint("route", g) + usage);
    return 1;
  }
  const [cmd, ...rest] = g.operands;
  if ((cmd !== "get" && cmd !== "show") || rest.length !== 1) {
    io.err(usage);
    return 1;
  }
  const m = readMachine(io.root);
  const text = routeGet(m, machineProfile(m), rest[0]!);
  if (text === null) {
    io.err(`route: route has not been found\n`);
    return 1;
  }
  io.out(text);
  return 0;
}

/** Simulated mount: without arguments, the mounted file systems. */
export function mount(io: ToolIO): number {
  if (io.args.length > 0 && !(io.args.length === 1 && io.args[0] === "-p")) {
    io.err("mount: the sandbox shows mounts only (mount with no arguments)\n");
    return 1;
  }
  const m = readMachine(io.root);
  io.out(mountText(machineProfile(m)));
  return 0;
}

/** Simulated zpool: `zpool status [-P] POOL`. */
export function zpool(io: ToolIO): number {
  const [cmd, ...rest] = io.args;
  if (cmd !== "status") {
    io.err("usage: zpool command args ...\n");
    return 2;
  }
  const pools = rest.filter((a) => !a.startsWith("-"));
  const m = readMachine(io.root);
  const text = zpoolStatus(machineProfile(m), pools[0] ?? "zroot");
  if (text === null) {
    io.err(`cannot open '${pools[0] ?? "zroot"}': no such pool\n`);
    return 1;
  }
  io.out(text);
  return 0;
}

/** Simulated camcontrol: `camcontrol devlist [-v]`. */
export function camcontrol(io: ToolIO): number {
  if (io.args[0] !== "devlist") {
    io.err("usage: camcontrol <command> [device id][generic args][command args]\n");
    return 1;
  }
  const m = readMachine(io.root);
  const text = camcontrolDevlist(m, machineProfile(m));
  io.out(io.args.includes("-v") ? text : text.split("\n").filter((l) => l.startsWith("<") && !l.startsWith("<>")).map((l) => `${l}\n`).join(""));
  return 0;
}

/** Simulated glabel: `glabel status`, the labels of the root disk's partitions. */
export function glabel(io: ToolIO): number {
  if (io.args[0] !== "status") {
    io.err("usage: glabel status [-ags] [name ...]\n");
    return 1;
  }
  const m = readMachine(io.root);
  io.out(glabelStatus(machineProfile(m)));
  return 0;
}

/** Simulated gmirror: `gmirror status`; the sandbox hosts have no mirrors, so it prints nothing. */
export function gmirror(io: ToolIO): number {
  if (io.args[0] !== "status") {
    io.err("usage: gmirror status [-ags] [name ...]\n");
    return 1;
  }
  return 0;
}

/** getbsize(3): the block size and header from the environment's BLOCKSIZE (512 when unset or not understood). */
function blockSize(env: string | undefined): { size: number; header: string } {
  const m = /^(\d*)([kKmMgG]?)$/.exec(env ?? "");
  if (!env || !m) return { size: 512, header: "512-blocks" };
  const n = m[1] ? Number(m[1]) : 1;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const size = n * unit;
  if (size < 512 || size > 1024 ** 3) return { size: 512, header: "512-blocks" };
  return { size, header: `${n}${m[2]!.toUpperCase()}-blocks` };
}

/** Simulated swapctl: `swapctl -l [-s]`, the profile's active swap devices; adding or removing swap is refused. */
export function swapctl(io: ToolIO): number {
  const usage = "usage: swapctl [-AghklmsU] [-a file ... | -d file ...]\n";
  const g = getopt(io.args, "ls");
  if ("bad" in g) {
    io.err(getoptComplaint("swapctl", g) + (/[AadghkmU]/.test(g.bad) ? "swapctl: the sandbox only lists swap devices (-l, -s)\n" : usage));
    return 1;
  }
  const flags = new Map(g.opts);
  if (g.operands.length || !flags.has("l")) {
    io.err(usage);
    return 1;
  }
  const { size, header } = blockSize(io.env.BLOCKSIZE);
  const m = readMachine(io.root);
  io.out(swapctlText(machineProfile(m), size, header, flags.has("s")));
  return 0;
}
