/**
 * Parsers for where the root file system lives: mount(8) lines, zpool-status(8) vdevs and
 * camcontrol(8) `devlist -v` buses (and the newbus device behind a CAM SIM name). Pure functions
 * from text.
 */

/** One mount(8) line. */
export interface MountEntry {
  readonly source: string;
  readonly mountPoint: string;
  readonly fsType: string;
}

/** Parses mount(8) without arguments (`SOURCE on MOUNTPOINT (TYPE, options...)`). */
export function parseMount(text: string): MountEntry[] {
  return text.split("\n").flatMap((l) => {
    const m = /^(.+) on (\/\S*) \(([^,)]+)/.exec(l);
    return m ? [{ source: m[1]!, mountPoint: m[2]!, fsType: m[3]! }] : [];
  });
}

/** The leaf devices of a pool in `zpool status -P` (paths under /dev), in order. */
export function parseZpoolDevices(text: string): string[] {
  const config = text.split(/^config:\s*$/m)[1]?.split(/^errors:/m)[0] ?? "";
  return config.split("\n").flatMap((l) => {
    const m = /^\s+(\/dev\/\S+)\s+\S+/.exec(l);
    return m ? [m[1]!] : [];
  });
}

/** The disk a partition or slice is on: ada0p4 → ada0, da1s1a → da1, ada0p4.eli → ada0, nda0 → nda0; a label (gpt/…) stays as it is. */
export function diskOf(device: string): string {
  const name = device.replace(/^\/dev\//, "").replace(/\.eli$/, "");
  return name.includes("/") ? name : name.replace(/(p\d+|s\d+[a-h]?)$/, "");
}

/**
 * The components of each GEOM provider in `glabel status` or `gmirror status` (`Name Status
 * Components`, the name right-aligned; a mirror's further components on lines of their own),
 * without their parenthesised state.
 */
export function parseGeomStatus(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/).filter(Boolean);
    if (cols.length === 0 || (cols[0] === "Name" && cols[1] === "Status")) continue;
    const component = (c: string[]): string[] => (c.length && !c[0]!.startsWith("(") ? [c[0]!] : []);
    // A mirror's further component: "ada1p2 (ACTIVE)" alone on its line.
    if (current && (cols.length === 1 || cols[1]!.startsWith("("))) {
      current.push(...component(cols));
      continue;
    }
    if (cols.length < 3) continue;
    current = component(cols.slice(2));
    out.set(cols[0]!, current);
  }
  return out;
}

/**
 * The newbus device behind a CAM SIM name as `camcontrol devlist -v` prints it (`scbusN on SIM bus
 * B:`). Most drivers register their SIM under their own name and unit (ahcich0, nvme0, mps0,
 * isp0); umass(4) registers it as `umass-sim` with the umass device's unit (sys/dev/usb/storage/
 * umass.c: DEVNAME_SIM, `sc->sc_unit`), so umass-sim0 is umass0.
 */
export function camSimDevice(sim: string): string {
  const usb = /^umass-sim(\d+)$/.exec(sim);
  return usb ? `umass${usb[1]}` : sim;
}

/** The controller (`ahcich0`, `nvme0`, `umass-sim0`, ...) of each CAM peripheral in `camcontrol devlist -v`, as the bus line names it. */
export function parseCamDevlist(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let controller: string | null = null;
  for (const l of text.split("\n")) {
    const bus = /^scbus-?\d+ on (\S+) bus \d+:/.exec(l);
    if (bus) {
      controller = bus[1]!;
      continue;
    }
    const periph = /\(([^)]*)\)\s*$/.exec(l);
    if (periph && controller) for (const p of periph[1]!.split(",")) if (p && !/^pass\d+$/.test(p)) out.set(p, controller);
  }
  return out;
}

/**
 * The active swap devices in `swapctl -l` (sbin/swapon: a `Device:  N-blocks  Used:` header, then
 * `/dev/NAME  SIZE  USED` per device, and a `Total:` line with -s), as /dev paths, in order.
 */
export function parseSwapctl(text: string): string[] {
  return text.split("\n").flatMap((l) => {
    const m = /^(\/dev\/\S+)\s+\d+\s+\d+\s*$/.exec(l.trim());
    return m ? [m[1]!] : [];
  });
}
