/**
 * Every host path the agent reads or writes and every tool it runs, resolved under the agent root
 * at the real FreeBSD paths. In production the root is `/`; a sandbox host is just another root.
 */
import { join } from "node:path";

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
} as const;

/** Paths of one agent root. */
export class HostPaths {
  constructor(readonly root: string) {}

  /** A host path (absolute, as on the host) under the root. */
  at(hostPath: string): string {
    return this.root === "/" ? hostPath : join(this.root, hostPath);
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
  guestSpecDir(name: string): string {
    return join(this.dbDir, "guests", name);
  }
  guestRunDir(name: string): string {
    return join(this.runDir, "guests", name);
  }
  guestLog(name: string): string {
    return join(this.logDir, `${name}.log`);
  }
}
