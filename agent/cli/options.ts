/** Options shared by the host commands: `--root DIR` and `--json`. */
import { statSync } from "node:fs";
import { shown } from "../model/limits.js";
import { resolve } from "node:path";
import { HostPaths } from "../host/paths.js";
import { UserError } from "./errors.js";

/** Parsed `[--root DIR] [--json]` plus the remaining operands. */
export interface HostOptions {
  readonly paths: HostPaths;
  readonly json: boolean;
  readonly operands: string[];
}

/** An argument echoed in a message: quoted and escaped, and cut short when long. */
export const shownArg = (v: string): string => shown(v);

/**
 * The agent root of `--root V`: an absolute path to a directory that exists. A relative or empty
 * one would silently mean a tree under the current directory, and a file or a missing directory
 * would end in errors from deep inside the agent.
 */
function agentRoot(v: string, usage: string): string {
  if (!v.startsWith("/")) throw new UserError(`--root takes an absolute path, not ${shownArg(v)}\n${usage}`, "E_USAGE", 64);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(v).isDirectory();
  } catch {
    throw new UserError(`--root ${shownArg(v)}: no such directory\n${usage}`, "E_USAGE", 64);
  }
  if (!isDirectory) throw new UserError(`--root ${shownArg(v)}: not a directory\n${usage}`, "E_USAGE", 64);
  return resolve(v);
}

/**
 * Parses `--root DIR` (default `/`; an absolute path to an existing directory) and `--json`;
 * anything else starting with `-` (but `-` itself) is a usage error.
 */
export function hostOptions(args: readonly string[], usage: string): HostOptions {
  let root = "/";
  let json = false;
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--root") {
      const v = args[++i];
      if (v === undefined) throw new UserError(`--root needs a value\n${usage}`, "E_USAGE", 64);
      root = agentRoot(v, usage);
    } else if (a.startsWith("--root=")) root = agentRoot(a.slice("--root=".length), usage);
    else if (a === "--json") json = true;
    else if (a.startsWith("-") && a !== "-") throw new UserError(`unknown option ${shownArg(a)}\n${usage}`, "E_USAGE", 64);
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
