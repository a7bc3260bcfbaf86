/** Where each simulated tool lives in a sandbox tree: the real FreeBSD paths. */
export const TOOL_PATHS = {
  sysctl: "sbin/sysctl",
  kldstat: "sbin/kldstat",
  kldload: "sbin/kldload",
  pciconf: "usr/sbin/pciconf",
  devctl: "usr/sbin/devctl",
  acpidump: "usr/sbin/acpidump",
  bhyve: "usr/sbin/bhyve",
  bhyvectl: "usr/sbin/bhyvectl",
  bhyveload: "usr/sbin/bhyveload",
  ifconfig: "sbin/ifconfig",
  route: "sbin/route",
  mount: "sbin/mount",
  zpool: "sbin/zpool",
  camcontrol: "sbin/camcontrol",
  glabel: "sbin/glabel",
  gmirror: "sbin/gmirror",
  swapctl: "sbin/swapctl",
} as const;

/** A simulated tool's name. */
export type ToolName = keyof typeof TOOL_PATHS;
