// Bundles the commands, the provider and the constructs into dist/ with esbuild (after tsc checks
// the types). The constructs are bundled twice: dist/index.mjs for CDKTF (cdktf 0.21) and
// dist/cdktn.mjs for CDK Terrain (cdktn 0.24), the same code with every import of cdktf read as
// cdktn, @cdktf/provider-null included (its classes must extend the flavour's own).
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  loader: { ".yaml": "text", ".proto": "text" },
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
  },
};

await build({
  ...common,
  entryPoints: ["agent/cli/bhyve-agent.ts", "provider/cli/cdktf-bhyve.ts", "sandbox/sandbox-tool.ts", "sandbox/bhyve-sandbox.ts", "provider/plugin/terraform-provider-bhyve.ts", "provider/constructs/index.ts"],
  outdir: "dist",
  entryNames: "[name]",
  outExtension: { ".js": ".mjs" },
  external: ["*.node", "cpu-features", "cdktf", "constructs", "@cdktf/provider-generator", "@cdktf/provider-null"],
});

await build({
  ...common,
  banner: { js: `// Includes @cdktf/provider-null (MPL-2.0, https://github.com/cdktf/cdktf-provider-null), unchanged but for its cdktf imports read as cdktn.\n${common.banner.js}` },
  entryPoints: ["provider/constructs/index.ts"],
  outfile: "dist/cdktn.mjs",
  alias: { cdktf: "cdktn" },
  external: ["*.node", "cpu-features", "cdktn", "constructs"],
});
