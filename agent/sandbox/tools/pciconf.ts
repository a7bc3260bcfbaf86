/**
 * pciconf(8): `-l [-v] [device]` (13+ format, or card=/chip= on a pre-13 profile), `-a device`
 * and `-r [-b|-h] device addr[:addr2]`. Devices are selectors (`pciD:B:S:F`, `pciB:S:F`, `pciB:S`,
 * with an optional `name@` prefix and trailing `:`) or a driver instance name such as `ppt0`.
 */
import { machineProfile, readMachine, type MachinePciFunction, type MachineState } from "../machine.js";
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

type Lookup = { ok: true; f: MachinePciFunction | undefined } | { ok: false };

/** Resolves a device argument the way getsel() does; `ok: false` when it cannot be parsed. */
function lookup(m: MachineState, names: Map<MachinePciFunction, string>, text: string): Lookup {
  const byName = [...names].find(([, n]) => n === text);
  if (byName) return { ok: true, f: byName[0] };
  const s = text.replace(/^[^@]*@/, "").replace(/:$/, "");
  const mm = /^pci(\d+):(\d+):(\d+)(?::(\d+))?$/.exec(s);
  if (!mm) return /^[a-z_]+\d+$/.test(text) ? { ok: true, f: undefined } : { ok: false };
  const nums = mm.slice(1).filter((x) => x !== undefined).map(Number);
  // pciD:B:S:F, or pciB:S:F, or pciB:S (function 0)
  const [domain, bus, slot, fn] = nums.length === 4 ? nums : nums.length === 3 ? [0, ...nums] : [0, nums[0], nums[1], 0];
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
  const names = pciconfNames(m);
  const modes = ["l", "a", "r"].filter((f) => flags.has(f));
  if (modes.length !== 1 || flags.has("w") || flags.has("D")) {
    io.err(USAGE);
    return 1;
  }
  const parsed = (text: string): MachinePciFunction | undefined | null => {
    const r = lookup(m, names, text);
    if (!r.ok) {
      io.err(`pciconf: cannot parse selector ${text}\n`);
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
  let out = "";
  let col = 0;
  for (let off = start; off <= end && off < 4096; off += width) {
    const dword = configDword(f, off);
    const value = width === 4 ? dword : (dword >>> ((off & 3) * 8)) & (width === 2 ? 0xffff : 0xff);
    out += `${value.toString(16).padStart(width * 2, "0")} `;
    col += width;
    if (col % 16 === 0) out += "\n";
  }
  if (col % 16 !== 0) out += "\n";
  io.out(out);
  return 0;
}
