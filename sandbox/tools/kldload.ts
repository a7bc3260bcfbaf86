/**
 * kldload(8) for vmm: loads it unless the CPU is one vmx_init/svm_init rejects (then the kernel
 * logs why and kldload reports the generic failure). Other modules load without effect.
 */
import { loadVmm } from "../kernel.js";
import { machineProfile, updateMachine } from "../machine.js";
import { getopt, getoptComplaint, type ToolIO } from "./tool.js";

const USAGE = "usage: kldload [-nqv] file ...\n";

/** Runs the simulated kldload. */
export function kldload(io: ToolIO): number {
  const g = getopt(io.args, "nqv");
  if ("bad" in g || g.operands.length === 0) {
    io.err(("bad" in g ? getoptComplaint("kldload", g) : "") + USAGE);
    return 1;
  }
  const flags = new Set(g.opts.map(([o]) => o));
  let status = 0;
  for (const file of g.operands) {
    const name = file.replace(/^.*\//, "").replace(/\.ko$/, "");
    const result = updateMachine(io.root, (m) => {
      const already = name === "vmm" ? m.vmmLoaded : m.modules.includes(name);
      if (already) return "loaded";
      if (name !== "vmm") {
        m.modules.push(name);
        return "ok";
      }
      return loadVmm(m, machineProfile(m)).ok ? "ok" : "failed";
    });
    if (result === "loaded" && !flags.has("n")) {
      if (!flags.has("q")) io.err(`kldload: can't load ${file}: module already loaded or in kernel\n`);
      status = 1;
    } else if (result === "failed") {
      io.err(`kldload: an error occurred while loading module ${file}. Please check dmesg(8) for more details.\n`);
      status = 1;
    } else if (result === "ok" && flags.has("v")) {
      io.out(`Loaded ${file}, id=${name === "vmm" ? 4 : 5}\n`);
    }
  }
  return status;
}
