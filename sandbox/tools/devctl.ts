/**
 * devctl(8) for PCI functions: `set driver [-f] device driver`, `clear driver [-f] device`,
 * `detach [-f] device`, `attach device`. As the kernel's devctl2 ioctls behave (subr_bus.c): a
 * device already in the devclass asked for is left as it is and the call succeeds; `clear driver`
 * on a device without a forced driver succeeds and changes nothing; an attached device is left
 * alone without -f (EBUSY); ppt refuses to detach while a VM holds the device (EBUSY); a driver
 * that is not in the kernel (ppt before vmm.ko loads) is ENOENT; ppt attaches only to endpoints,
 * and a host driver only to its own hardware. Devices are names (`ix0`) or PCI locations
 * (`pciD:B:S:F` or `pciB:S:F`, as pci_lookup() reads them). Failures are reported as devctl.c words
 * them (`Failed to set DEV driver to DRV: …`, `Failed to clear DEV driver: …`, `Failed to detach DEV: …`).
 */
import { devclassOf, heldByVm, probeDriver, setDriver } from "../kernel.js";
import { updateMachine, type MachinePciFunction, type MachineState } from "../machine.js";
import { pciconfNames } from "../output.js";
import { getopt, STRERROR, type ToolIO } from "./tool.js";

const USAGE = [
  "usage: devctl attach device",
  "       devctl detach [-f] device",
  "       devctl disable [-f] device",
  "       devctl enable device",
  "       devctl suspend device",
  "       devctl resume device",
  "       devctl set driver [-f] device driver",
  "       devctl clear driver [-f] device",
  "       devctl rescan device",
  "       devctl delete [-f] device",
  "       devctl freeze",
  "       devctl thaw",
  "       devctl reset [-d] device",
  "       devctl getpath locator device",
  "",
].join("\n");

class Errno extends Error {
  constructor(readonly errno: keyof typeof STRERROR) {
    super(errno);
  }
}

function find(m: MachineState, dev: string): MachinePciFunction {
  const sel = /^pci(\d+):(\d+):(\d+)(?::(\d+))?$/.exec(dev);
  if (sel) {
    const nums = sel.slice(1).filter((x) => x !== undefined).map(Number);
    const [d, b, s, f] = nums.length === 4 ? nums : [0, ...nums];
    const hit = d === 0 ? m.pci.find((x) => x.bus === b && x.slot === s && x.function === f) : undefined;
    if (hit) return hit;
    throw new Errno("ENOENT");
  }
  const byName = [...pciconfNames(m)].find(([f, n]) => devclassOf(f) !== null && n === dev);
  if (byName) return byName[0];
  throw new Errno("ENOENT");
}

/** Detaches the current driver; ppt refuses while a VM holds the device. */
function detach(m: MachineState, f: MachinePciFunction): void {
  if (f.driver === "ppt" && heldByVm(m, f)) throw new Errno("EBUSY");
  setDriver(m, f, null);
}

/** Probes and attaches; ENXIO when no driver will take the device. */
function probeAndAttach(m: MachineState, f: MachinePciFunction): void {
  const driver = probeDriver(m, f);
  setDriver(m, f, driver);
  if (driver === null) throw new Errno("ENXIO");
}

/** Runs the simulated devctl. */
export function devctl(io: ToolIO): number {
  const [cmd, ...rest] = io.args;
  const sub = cmd === "set" || cmd === "clear" ? rest.shift() : undefined;
  const g = getopt(rest, "f");
  const usage = (): number => {
    io.err(USAGE);
    return 1;
  };
  if ("bad" in g) return usage();
  const force = g.opts.length > 0;
  const ops = g.operands;
  let action: ((m: MachineState) => void) | undefined;
  let what = "";
  if (cmd === "set" && sub === "driver" && ops.length === 2) {
    what = `Failed to set ${ops[0]} driver to ${ops[1]}`;
    action = (m) => {
      const f = find(m, ops[0]!);
      const driver = ops[1]!;
      // Already in that devclass (attached, or forced and detached): nothing to do.
      if (devclassOf(f) === driver) return;
      if (driver !== "ppt" && driver !== f.hostDriver && !m.pci.some((o) => o.hostDriver === driver)) throw new Errno("ENOENT");
      if (driver === "ppt" && !m.vmmLoaded) throw new Errno("ENOENT");
      if (f.driver !== null) {
        if (!force) throw new Errno("EBUSY");
        detach(m, f);
      }
      f.fixedDriver = driver;
      probeAndAttach(m, f);
    };
  } else if (cmd === "clear" && sub === "driver" && ops.length === 1) {
    what = `Failed to clear ${ops[0]} driver`;
    action = (m) => {
      const f = find(m, ops[0]!);
      if (f.fixedDriver === null) return;
      if (f.driver !== null) {
        if (!force) throw new Errno("EBUSY");
        detach(m, f);
      }
      f.fixedDriver = null;
      setDriver(m, f, probeDriver(m, f));
    };
  } else if (cmd === "detach" && ops.length === 1) {
    what = `Failed to detach ${ops[0]}`;
    action = (m) => {
      const f = find(m, ops[0]!);
      if (f.driver === null) throw new Errno("ENXIO");
      detach(m, f);
    };
  } else if (cmd === "attach" && ops.length === 1 && !force) {
    what = `Failed to attach ${ops[0]}`;
    action = (m) => {
      const f = find(m, ops[0]!);
      if (f.driver !== null) throw new Errno("EBUSY");
      probeAndAttach(m, f);
    };
  } else {
    return usage();
  }
  let failure: keyof typeof STRERROR | undefined;
  try {
    updateMachine(io.root, (m) => {
      try {
        action!(m);
      } catch (err) {
        // ENXIO comes after the old driver was detached (set driver -f, then no driver would
        // attach): that change stays, as on FreeBSD. Any other error leaves the state unwritten.
        if (!(err instanceof Errno) || err.errno !== "ENXIO") throw err;
        failure = err.errno;
      }
    });
  } catch (err) {
    if (!(err instanceof Errno)) throw err;
    failure = err.errno;
  }
  if (failure) {
    io.err(`devctl: ${what}: ${STRERROR[failure]}\n`);
    return 1;
  }
  return 0;
}
