/**
 * Where the package's files are: this module sits one level below the package root both as source
 * (agent/) and bundled (dist/), so the root is its parent either way.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (the repository, or the installed package). */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

/** A bundle in the package's dist/ (bhyve-agent.mjs, sandbox-tool.mjs, terraform-provider-bhyve.mjs). */
export function distFile(name: string): string {
  return join(packageRoot(), "dist", name);
}
