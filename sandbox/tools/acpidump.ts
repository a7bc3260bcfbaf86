/** acpidump(8) `-t`: the table headers of the profile's firmware. Other forms need /dev/mem tricks the sandbox does not offer. */
import { machineProfile, readMachine } from "../machine.js";
import { acpidumpText } from "../output.js";
import { getopt, getoptComplaint, type ToolIO } from "./tool.js";

const USAGE = "usage: acpidump [-d] [-t] [-T] [-h] [-v] [-f dsdt_input] [-o dsdt_output]\n";

/** Runs the simulated acpidump. */
export function acpidump(io: ToolIO): number {
  const g = getopt(io.args, "dtThvf:o:");
  if ("bad" in g || g.operands.length > 0) {
    io.err(("bad" in g ? getoptComplaint("acpidump", g) : "") + USAGE);
    return 1;
  }
  const flags = new Set(g.opts.map(([o]) => o));
  if (!flags.has("t") || flags.has("d") || flags.has("f") || flags.has("o")) {
    io.err("acpidump: the sandbox host prints table headers only (-t)\n");
    return 1;
  }
  io.out(acpidumpText(machineProfile(readMachine(io.root))));
  return 0;
}
