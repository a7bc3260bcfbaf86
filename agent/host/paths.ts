/**
 * Every host path the agent reads or writes and every tool it runs, resolved under the agent root
 * at the real FreeBSD paths. In production the root is `/`; a sandbox host is just another root.
 */
import { join } from "node:path";
import { GUEST_NAME } from "../model/decode.js";
import { AgentError } from "../model/errors.js";

/** `base/guests/NAME`, for a checked guest name only: no name from a request reaches another path. */
function guestDir(base: string, name: string): string {
  if (!GUEST_NAME.test(name)) throw new AgentError(`${JSON.stringify(name.slice(0, 40))} is not a guest name`, "E_INVALID_NAME");
  return join(base, "guests", name);
}

/** Tools the agent runs, by absolute path (no PATH search, no shell). */
export const TOOLS = {
  sysctl: "/sbin/sysctl",
  kldstat: "/sbin/kldstat",
  kldload: "/sbin/kldload",
  pciconf: "/usr/sbin/pciconf",
  devctl: "/usr/sbin/devctl",
  acpidump: "/usr/sbin/acpidump",
  bhyve: "/usr/sbin/bhyve",
  bhyvectl: "/usr/sbin/bhyvectl",
  bhyveload: "/usr/sbin/bhyveload",
  ifconfig: "/sbin/ifconfig",
  route: "/sbin/route",
  mount: "/sbin/mount",
  zpool: "/sbin/zpool",
  camcontrol: "/sbin/camcontrol",
  glabel: "/sbin/glabel",
  gmirror: "/sbin/gmirror",
  swapctl: "/sbin/swapctl",
  zfs: "/sbin/zfs",
  makefs: "/usr/sbin/makefs",
  ps: "/bin/ps",
} as const;

/** Paths of one agent root. */
export class HostPaths {
  constructor(readonly root: string) {}

  /** A host path (absolute, as on the host) under the root. */
  at(hostPath: string): string {
    return this.root === "/" ? hostPath : join(this.root, hostPath);
  }

  /** The inverse of {@link at}: the host path of a path under the root, or null for one outside it. */
  hostPath(local: string): string | null {
    if (this.root === "/") return local;
    return local === this.root ? "/" : local.startsWith(`${this.root}/`) ? local.slice(this.root.length) : null;
  }

  tool(name: keyof typeof TOOLS): string {
    return this.at(TOOLS[name]);
  }

  get loaderConf(): string {
    return this.at("/boot/loader.conf");
  }
  get dmesgBoot(): string {
    return this.at("/var/run/dmesg.boot");
  }
  get devVmm(): string {
    return this.at("/dev/vmm");
  }
  /** Persistent agent state: the desired state, host drivers seen, backups. */
  get dbDir(): string {
    return this.at("/var/db/bhyve-agent");
  }
  get stateFile(): string {
    return join(this.dbDir, "state.json");
  }
  get loaderConfBackup(): string {
    return join(this.dbDir, "loader.conf.previous");
  }
  /** Runtime files: the host lock and each guest's monitor files. */
  get runDir(): string {
    return this.at("/var/run/bhyve-agent");
  }
  get lockFile(): string {
    return join(this.runDir, "host.lock");
  }
  get logDir(): string {
    return this.at("/var/log/bhyve-agent");
  }
  /**
   * Each guest's files live in directories of its own, `guests/NAME/` under the agent's state,
   * run and log directories: nothing of a guest is created or removed outside them, and no guest
   * name can reach the agent's own files (state.json, host.lock, audit.log). Guest names are
   * checked before they get here (1-31 of [A-Za-z0-9_.-], not starting with . or -).
   */
  guestSpecDir(name: string): string {
    return guestDir(this.dbDir, name);
  }
  guestRunDir(name: string): string {
    return guestDir(this.runDir, name);
  }
  guestLogDir(name: string): string {
    return guestDir(this.logDir, name);
  }
  /** bhyve's and the monitor's output for the guest (rotated to `.0` beside it). */
  guestLog(name: string): string {
    return join(this.guestLogDir(name), "bhyve.log");
  }
  /** Present while a VM of the guest's name exists that the agent's monitor created (see lifecycle.ts). */
  guestOwnerFile(name: string): string {
    return join(this.guestRunDir(name), "vm.owned");
  }
}
