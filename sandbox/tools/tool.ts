/** What every simulated tool gets: the sandbox root, its argv, and its output streams. */
export interface ToolIO {
  /** The sandbox host's root directory. */
  readonly root: string;
  /** Arguments after the program name. */
  readonly args: readonly string[];
  /** The environment the tool was run with (only BLOCKSIZE is read). */
  readonly env: Readonly<Record<string, string | undefined>>;
  out(text: string): void;
  err(text: string): void;
}

/** A simulated tool: returns its exit status (or a promise of it, for bhyve, which keeps running). */
export type Tool = (io: ToolIO) => number | Promise<number>;

/** strerror() texts as FreeBSD words them, for the errno values the tools report. */
export const STRERROR = {
  ENOENT: "No such file or directory",
  EBUSY: "Device busy",
  EEXIST: "File exists",
  EINVAL: "Invalid argument",
  ENXIO: "Device not configured",
  ENODEV: "Operation not supported by device",
  ENOMEM: "Cannot allocate memory",
  EPERM: "Operation not permitted",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Can't assign requested address",
} as const;

export { getopt } from "../../agent/model/getopt.js";

/** getopt's own complaint, as libc prints it. */
export function getoptComplaint(prog: string, r: { bad: string; missingArg: boolean }): string {
  return r.missingArg ? `${prog}: option requires an argument -- ${r.bad}\n` : `${prog}: illegal option -- ${r.bad}\n`;
}
