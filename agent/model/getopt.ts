/** getopt(3), as the FreeBSD tools the agent reads back (bhyve) and the sandbox's simulators parse their arguments. Pure code. */

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
