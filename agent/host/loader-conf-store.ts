/**
 * /boot/loader.conf as the agent changes it: only inside its managed block, everything else byte
 * for byte; written atomically with a copy of the previous file; refused when the file changed
 * between the agent's read and its write (someone edited it meanwhile).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { managedAssignments, managedStrayLines, parseLoaderConf, unmanagedAssignmentsTo, withManagedBlock, type LoaderConf } from "../parse/loader-conf.js";
import { agentDirectory, writeFileAtomic } from "./files.js";
import type { HostPaths } from "./paths.js";
import { AgentError } from "../model/errors.js";

/** loader.conf as read, with what the agent needs to know about it. */
export interface LoaderConfSnapshot {
  readonly text: string;
  readonly hash: string;
  readonly conf: LoaderConf;
}

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Reads loader.conf (an absent file reads as empty). Throws LoaderConfError for a torn managed block. */
export function readLoaderConf(paths: HostPaths): LoaderConfSnapshot {
  const text = existsSync(paths.loaderConf) ? readFileSync(paths.loaderConf, "utf8") : "";
  return { text, hash: sha(text), conf: parseLoaderConf(text) };
}

/** The agent's settings as they stand in its block now. */
export function currentManagedSettings(snap: LoaderConfSnapshot): Array<[string, string]> {
  return managedAssignments(snap.conf).map((l) => [l.name!, l.value!]);
}

/** Lines outside the block that set names the block sets (after it they win: the loader reads top to bottom). */
export function overridingLines(snap: LoaderConfSnapshot, names: readonly string[]): string[] {
  return unmanagedAssignmentsTo(snap.conf, names).filter((l) => l.after).map((l) => l.text);
}

/** Hand edits inside the block. */
export function strayLines(snap: LoaderConfSnapshot): string[] {
  return managedStrayLines(snap.conf).map((l) => l.text);
}

/**
 * Writes the managed block with `settings` when that changes the file; returns whether it did.
 * The previous file is kept as var/db/bhyve-agent/loader.conf.previous.
 */
export function writeManagedSettings(paths: HostPaths, snap: LoaderConfSnapshot, settings: ReadonlyArray<readonly [string, string]>): boolean {
  const next = withManagedBlock(snap.conf, settings);
  if (next === snap.text) return false;
  agentDirectory(paths.dbDir, 0o700);
  const now = existsSync(paths.loaderConf) ? readFileSync(paths.loaderConf, "utf8") : "";
  if (sha(now) !== snap.hash) throw new AgentError(`${paths.loaderConf} changed while the agent was updating it; nothing was written — run the change again`, "E_LOADER_CONF_CHANGED");
  writeFileAtomic(paths.loaderConfBackup, snap.text, 0o644);
  mkdirSync(paths.at("/boot"), { recursive: true });
  writeFileAtomic(paths.loaderConf, next, 0o644);
  return true;
}
