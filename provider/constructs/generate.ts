/**
 * Generates the L1 bindings (provider/constructs/gen) from the provider's own schema with
 * @cdktf/provider-generator, then makes them ESM: relative imports get their index.js, and the
 * CommonJS lazy index is left out. The output is never edited by hand; a test regenerates it and
 * compares.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { providerSchemaJson } from "./schema-json.js";

/** Files of a directory tree, relative paths to contents. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

/** ESM fix-up of a generated file: relative imports name their index.js. */
function toEsm(text: string): string {
  return text.replace(/from '(\.\/[a-z0-9-]+)';/g, "from '$1/index.js';");
}

type Gen = (dir: string, schema: never) => Promise<void>;

/** Generates the bindings and returns them as relative path → contents (without writing them). */
export async function generateBindings(): Promise<Map<string, string>> {
  // The generator is a dev dependency: loaded only when bindings are generated.
  const mod = (await import("@cdktf/provider-generator")) as unknown as { generateProviderBindingsFromSchema?: Gen; default?: { generateProviderBindingsFromSchema: Gen } };
  // CommonJS: named under some loaders, under default under others.
  const generateProviderBindingsFromSchema = mod.generateProviderBindingsFromSchema ?? mod.default!.generateProviderBindingsFromSchema;
  const tmp = mkdtempSync(join(tmpdir(), "cdktf-bhyve-gen-"));
  try {
    await generateProviderBindingsFromSchema(tmp, providerSchemaJson() as never);
    const files = readTree(join(tmp, "providers", "bhyve"));
    const out = new Map<string, string>();
    for (const [file, text] of files) {
      if (file === "lazy-index.ts") continue;
      out.set(file, toEsm(text));
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes generated bindings into `dir` (replacing what was there). */
export function writeBindings(dir: string, files: Map<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [file, text] of files) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}
