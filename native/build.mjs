#!/usr/bin/env node
/**
 * npm's install step for native/: runs the node-gyp that npm bundles on binding.gyp. When this
 * Node's own headers are installed beside it (<prefix>/include/node, as Debian's nodejs, FreeBSD's
 * node20 package and the official tarballs have them) and no nodedir is configured, they are used,
 * so the build needs no download of the headers from nodejs.org.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const prefix = dirname(dirname(process.execPath));
const nodedir = !process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h")) ? [`--nodedir=${prefix}`] : [];
// npm names its bundled node-gyp in npm_config_node_gyp during its scripts. Run by hand (as
// bhyve-agent install does on a host), the node-gyp bundled with the npm beside this node is used.
const besideNode = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const gyp = process.env.npm_config_node_gyp || (existsSync(besideNode) ? besideNode : undefined);
const here = dirname(fileURLToPath(import.meta.url));
function rebuild(dir) {
  const args = ["rebuild", `--directory=${dir}`, ...nodedir];
  const r = gyp ? spawnSync(process.execPath, [gyp, ...args], { stdio: "inherit" }) : spawnSync("node-gyp", args, { stdio: "inherit" });
  if (r.error) {
    process.stderr.write(`cannot run node-gyp: ${r.error.message}\n`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}
rebuild("native");
// The sandbox's tool client (tests and benchmarks only): built where its source is, which is not
// on a host that bootstrap installed (it uploads the probe and the monitor only).
if (existsSync(join(here, "sandbox", "binding.gyp"))) rebuild(join("native", "sandbox"));
