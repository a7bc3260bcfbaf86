/** Shared test helpers. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a file under the repository root. */
export function repoPath(rel: string): string {
  return fileURLToPath(new URL(`../${rel}`, import.meta.url));
}

/** A fixture's text. */
export function fixture(rel: string): string {
  return readFileSync(repoPath(`test/fixtures/${rel}`), "utf8");
}

/** A deep copy of plain data, to mutate in a test. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}
