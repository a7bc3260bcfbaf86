/**
 * sysctl(8): `sysctl [-n] [-i] name[=value] ...` and `-a`. A name that is a node prints every leaf
 * under it; an unknown name prints `sysctl: unknown oid 'NAME'` and makes the exit status 1
 * (unless -i). `vm.max_user_wired` and the network stack's runtime knobs (net.link.tap.*,
 * net.link.bridge.member_ifaddrs on 15) can be set at run time; tunables say so.
 */
import { machineProfile, readMachine, updateMachine } from "../machine.js";
import { sysctlTree } from "../output.js";
import { getopt, getoptComplaint, type ToolIO } from "./tool.js";

const USAGE = "usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a\n";

/** Runs the simulated sysctl. */
export function sysctl(io: ToolIO): number {
  const g = getopt(io.args, "abdehiNnoqTtWxB:f:");
  if ("bad" in g) {
    io.err(getoptComplaint("sysctl", g) + USAGE);
    return 1;
  }
  const flags = new Set(g.opts.map(([o]) => o));
  const valuesOnly = flags.has("n");
  const ignoreUnknown = flags.has("i");
  if (!flags.has("a") && g.operands.length === 0) {
    io.err(USAGE);
    return 1;
  }
  let status = 0;
  const print = (name: string, value: string): void => io.out(valuesOnly ? `${value}\n` : `${name}: ${value}\n`);
  const m = readMachine(io.root);
  const tree = sysctlTree(m, machineProfile(m));
  if (flags.has("a")) for (const [name, node] of tree) print(name, node.value);
  for (const operand of g.operands) {
    const eq = operand.indexOf("=");
    const name = eq < 0 ? operand : operand.slice(0, eq);
    const leaf = tree.get(name);
    const under = [...tree].filter(([n]) => n.startsWith(`${name}.`));
    if (!leaf && under.length === 0) {
      if (!ignoreUnknown) {
        io.err(`sysctl: unknown oid '${name}'\n`);
        status = 1;
      }
      continue;
    }
    if (eq < 0) {
      if (leaf) print(name, leaf.value);
      for (const [n, node] of under) print(n, node.value);
      continue;
    }
    const value = operand.slice(eq + 1);
    if (!leaf) {
      io.err(`sysctl: oid '${name}' isn't a leaf node\n`);
      status = 1;
    } else if (leaf.access === "tunable") {
      io.err(`sysctl: oid '${name}' is a read only tunable\nsysctl: Tunable values are set in /boot/loader.conf\n`);
      status = 1;
    } else if (leaf.access === "ro") {
      io.err(`sysctl: oid '${name}' is read only\n`);
      status = 1;
    } else if (!/^\d+$/.test(value)) {
      io.err(`sysctl: invalid integer '${value}'\n`);
      status = 1;
    } else {
      updateMachine(io.root, (mm) => {
        if (name === "vm.max_user_wired") mm.maxUserWiredPages = Number(value);
        else (mm.sysctl ??= {})[name] = String(Number(value));
      });
      io.out(valuesOnly ? `${value}\n` : `${name}: ${leaf.value} -> ${value}\n`);
    }
  }
  return status;
}
