/** Options shared by the host commands: `--root DIR` and `--json`. */
import { resolve } from "node:path";
import { HostPaths } from "../host/paths.js";
import { UserError } from "./errors.js";

/** Parsed `[--root DIR] [--json]` plus the remaining operands. */
export interface HostOptions {
  readonly paths: HostPaths;
  readonly json: boolean;
  readonly operands: string[];
}

/** Parses `--root DIR` (default `/`) and `--json`; anything else starting with `-` (but `-` itself) is a usage error. */
export function hostOptions(args: readonly string[], usage: string): HostOptions {
  let root = "/";
  let json = false;
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--root") {
      const v = args[++i];
      if (!v) throw new UserError(usage, "E_USAGE", 64);
      root = resolve(v);
    } else if (a.startsWith("--root=")) root = resolve(a.slice("--root=".length));
    else if (a === "--json") json = true;
    else if (a.startsWith("-") && a !== "-") throw new UserError(`unknown option ${a}\n${usage}`, "E_USAGE", 64);
    else operands.push(a);
  }
  return { paths: new HostPaths(root), json, operands };
}

/** Removes `flag VALUE` from `args` and returns VALUE (undefined when the flag is absent); a flag without a value is a usage error. */
export function takeOption(args: string[], flag: string, usage: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith("--")) throw new UserError(`${flag} needs a value\n${usage}`, "E_USAGE", 64);
  args.splice(i, 2);
  return v;
}
