/**
 * pciconf(8): `-l [-v] [device]` (13+ format, or card=/chip= on a pre-13 profile), `-a device`
 * and `-r [-b|-h] device addr[:addr2]`. Devices are selectors (`pciD:B:S:F`, `pciB:S:F`, `pciB:S`,
 * with an optional `name@` prefix and trailing `:`) or a driver instance name such as `ppt0` or
 * `mlx5_core0`; a name that matches nothing is `pciconf: Device not found` (exit 1).
 */
import { machineProfile, readMachine, type MachinePciFunction, type MachineState } from "../machine.js";
import { devclassOf } from "../kernel.js";
import { configDword, pciconfLine, pciconfNames, sortedPci } from "../output.js";
import { getopt, getoptComplaint, STRERROR, type ToolIO } from "./tool.js";

const USAGE = [
  "usage: pciconf -l [-BbcetVv] [device]",
  "       pciconf -a device",
  "       pciconf -r [-b | -h] device addr[:addr2]",
  "       pciconf -w [-b | -h] device addr value",
  "       pciconf -D [-b | -h | -x] device bar [start [count]]",
  "",
].join("\n");

type Lookup = { ok: true; f: MachinePciFunction | undefined } | { ok: false; message: string };

/**
 * getsel(): an argument without a colon is a device name, split into driver and unit at its
 * trailing digits (`mlx5_core0` is driver `mlx5_core`, unit 0) and looked up with PCIOCGETCONF,
 * which knows no `none` names: no match is `Device not found`. Anything else is a selector
 * (parsesel: optional `name@`, `pci`, up to four numbers with colons, `pciB:S` meaning function 0);
 * a selector is not checked for existence here.
 */
function lookup(m: MachineState, text: string): Lookup {
  if (!text.includes(":")) {
    const mm = /^(.*?)(\d+)$/.exec(text);
    const all = pciconfNames(m);
    const f = mm && mm[1] !== "" ? [...all].find(([x, n]) => devclassOf(x) === mm[1] && n === text)?.[0] : undefined;
    return f ? { ok: true, f } : { ok: false, message: "pciconf: Device not found" };
  }
  const s = text.includes("@") ? text.slice(text.indexOf("@") + 1) : text;
  const mm = /^pci((?:\d+:?){1,4})$/.exec(s);
  const nums = mm ? mm[1]!.split(":").filter((x) => x !== "").map(Number) : [];
  if (!mm || nums.length === 0 || nums.length > 4) return { ok: false, message: `pciconf: cannot parse selector ${text}` };
  const fn = nums.length > 2 ? nums.pop()! : 0;
  const slot = nums.pop() ?? 0;
  const bus = nums.pop() ?? 0;
  const domain = nums.pop() ?? 0;
  if (domain !== 0) return { ok: true, f: undefined };
  return { ok: true, f: m.pci.find((f) => f.bus === bus && f.slot === slot && f.function === fn) };
}

/** Runs the simulated pciconf. */
export function pciconf(io: ToolIO): number {
  const g = getopt(io.args, "aBbcDehlrtVvwx");
  if ("bad" in g) {
    io.err(getoptComplaint("pciconf", g) + USAGE);
    return 1;
  }
  const flags = new Set(g.opts.map(([o]) => o));
  const m = readMachine(io.root);
  const modes = ["l", "a", "r"].filter((f) => flags.has(f));
  if (modes.length !== 1 || flags.has("w") || flags.has("D")) {
    io.err(USAGE);
    return 1;
  }
  const parsed = (text: string): MachinePciFunction | undefined | null => {
    const r = lookup(m, text);
    if (!r.ok) {
      io.err(`${r.message}\n`);
      return null;
    }
    return r.f;
  };
  if (flags.has("l")) {
    if (g.operands.length > 1) {
      io.err(USAGE);
      return 1;
    }
    let list = sortedPci(m);
    if (g.operands.length === 1) {
      const f = parsed(g.operands[0]!);
      if (f === null) return 1;
      // PCIOCGETCONF with a pattern that matches nothing lists nothing.
      list = f ? [f] : [];
    }
    const old = machineProfile(m).oldPciconf;
    // The none numbering is list_devs()'s own count: it starts at 0 for what this call lists.
    const names = pciconfNames(m, list);
    io.out(list.map((f) => pciconfLine(f, names.get(f)!, old, flags.has("v"))).join(""));
    return 0;
  }
  if (flags.has("a")) {
    if (g.operands.length !== 1) {
      io.err(USAGE);
      return 1;
    }
    const f = parsed(g.operands[0]!);
    if (f === null) return 1;
    if (!f) {
      io.err(`pciconf: ioctl(PCIOCATTACHED): ${STRERROR.ENODEV}\n`);
      return 1;
    }
    io.out(`${g.operands[0]}: ${f.driver === null ? "not " : ""}attached\n`);
    return f.driver === null ? 2 : 0;
  }
  // -r
  if (g.operands.length !== 2 || (flags.has("b") && flags.has("h"))) {
    io.err(USAGE);
    return 1;
  }
  const f = parsed(g.operands[0]!);
  if (f === null) return 1;
  const width = flags.has("b") ? 1 : flags.has("h") ? 2 : 4;
  const range = /^(0x[0-9a-fA-F]+|\d+)(?::(0x[0-9a-fA-F]+|\d+))?$/.exec(g.operands[1]!);
  if (!range) {
    io.err(`pciconf: invalid address ${g.operands[1]}\n`);
    return 1;
  }
  const start = Number(range[1]);
  const end = range[2] === undefined ? start : Number(range[2]);
  if (!f) {
    io.err(`pciconf: ioctl(PCIOCREAD): ${STRERROR.ENODEV}\n`);
    return 1;
  }
  // readit(): each value with %0*x; a space after it, or a newline after every 16 bytes; one more
  // space after every 8th value; a final newline unless the last line was complete.
  let out = "";
  const perLine = 16 / width;
  let i = 1;
  for (let off = start; off <= end && off < 4096; off += width, i++) {
    const dword = configDword(f, off);
    const value = width === 4 ? dword : (dword >>> ((off & 3) * 8)) & (width === 2 ? 0xffff : 0xff);
    out += value.toString(16).padStart(width * 2, "0");
    if (i % 8 === 0) out += " ";
    out += i % perLine ? " " : "\n";
  }
  if (i % perLine !== 1) out += "\n";
  io.out(out);
  return 0;
}
