/** kldstat(8): the table of loaded files, `-n file`, `-m module`, `-q`. */
import { readMachine } from "../machine.js";
import { kldstatRows } from "../output.js";
import { getopt, getoptComplaint, type ToolIO } from "./tool.js";

const USAGE = "usage: kldstat [-dhqv] [-i id] [-n filename]\n       kldstat [-dq] [-m modname]\n";
const HEADER = "Id Refs Address                Size Name\n";

/** Runs the simulated kldstat. */
export function kldstat(io: ToolIO): number {
  const g = getopt(io.args, "dhqvi:n:m:");
  if ("bad" in g || g.operands.length > 0) {
    io.err(("bad" in g ? getoptComplaint("kldstat", g) : "") + USAGE);
    return 1;
  }
  const opts = new Map(g.opts);
  const quiet = opts.has("q");
  const rows = kldstatRows(readMachine(io.root));
  const line = (r: (typeof rows)[number]): string =>
    `${String(r.id).padStart(2)} ${String(r.refs).padStart(4)} ${r.address} ${r.size.toString(16).padStart(8)} ${r.name}\n`;
  const mod = opts.get("m");
  if (mod !== undefined) {
    const r = rows.find((x) => x.name === `${mod}.ko` || (mod === "kernel" && x.name === "kernel"));
    if (!r) {
      if (!quiet) io.err(`kldstat: can't find module ${mod}: No such file or directory\n`);
      return 1;
    }
    // kldstat.c prints the module line with "%3d %4d %s\n".
    if (!quiet) io.out(`Id  Refs Name\n${String(r.id).padStart(3)} ${String(r.refs).padStart(4)} ${mod}\n`);
    return 0;
  }
  const file = opts.get("n");
  if (file !== undefined) {
    const r = rows.find((x) => x.name === file || x.name === `${file}.ko`);
    if (!r) {
      if (!quiet) io.err(`kldstat: can't find file ${file}: No such file or directory\n`);
      return 1;
    }
    if (!quiet) io.out(HEADER + line(r));
    return 0;
  }
  if (!quiet) io.out(HEADER + rows.map(line).join(""));
  return 0;
}
