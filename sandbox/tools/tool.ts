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

/**
 * getopt(3) for the short options in `spec` (a letter followed by ":" takes an argument).
 * Returns the options in order and the operands, or the letter that was not understood.
 */
export function getopt(args: readonly string[], spec: string): { opts: Array<[string, string]>; operands: string[] } | { bad: string; missingArg: boolean } {
  const opts: Array<[string, string]> = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = spec.indexOf(c);
      if (at < 0 || c === ":") return { bad: c, missingArg: false };
      if (spec[at + 1] === ":") {
        const value = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (value === undefined) return { bad: c, missingArg: true };
        opts.push([c, value]);
        break;
      }
      opts.push([c, ""]);
    }
  }
  return { opts, operands: args.slice(i) };
}

/** getopt's own complaint, as libc prints it. */
export function getoptComplaint(prog: string, r: { bad: string; missingArg: boolean }): string {
  return r.missingArg ? `${prog}: option requires an argument -- ${r.bad}\n` : `${prog}: illegal option -- ${r.bad}\n`;
}
