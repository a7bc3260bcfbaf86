import { readFileSync } from "node:fs";
import { join } from "node:path";

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
  zfs: "sbin/zfs",
  makefs: "usr/sbin/makefs",
  ps: "bin/ps",
} as const;

/** A simulated tool's name. */
export type ToolName = keyof typeof TOOL_PATHS;

/** Where a sandbox host counts the runs of its tools (one line per run, the tool's name), relative to its root. */
export const TOOL_CALLS_FILE = "var/sandbox/tool-calls";

/** How many tool runs a sandbox host has counted. */
export function toolCalls(root: string): number {
  try {
    const text = readFileSync(join(root, TOOL_CALLS_FILE), "utf8");
    return text.length === 0 ? 0 : text.split("\n").length - 1;
  } catch {
    return 0;
  }
}
