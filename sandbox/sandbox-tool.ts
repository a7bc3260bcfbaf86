/**
 * Entry point of every simulated tool. Each tool in a sandbox tree is a file whose first line is
 * `#!<node> <this bundle>` (or `#!<tool client> <node> <this bundle>`, which hands the run to the
 * host's tool server when one listens and otherwise becomes the former), so the kernel runs node
 * with this script and the tool's own path, from which the tool's name and the sandbox root
 * follow. No shell is involved. `--serve ROOT...` runs the tool server (tool-server.ts);
 * `--vm-bhyve-run ROOT NAME` is a vm-bhyve supervisor, `vm _run NAME` (vm-bhyve.ts).
 */
import { appendFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { TOOL_CALLS_FILE, TOOL_PATHS, type ToolName } from "./tool-paths.js";
import { acpidump } from "./tools/acpidump.js";
import { bhyve } from "./tools/bhyve.js";
import { bhyvectl } from "./tools/bhyvectl.js";
import { bhyveload } from "./tools/bhyveload.js";
import { devctl } from "./tools/devctl.js";
import { kldload } from "./tools/kldload.js";
import { kldstat } from "./tools/kldstat.js";
import { pciconf } from "./tools/pciconf.js";
import { sysctl } from "./tools/sysctl.js";
import { camcontrol, glabel, gmirror, ifconfig, mount, route, swapctl, zpool } from "./tools/host-tools.js";
import { makefs } from "./tools/makefs.js";
import { ps } from "./tools/ps.js";
import type { Tool, ToolIO } from "./tools/tool.js";
import { zfs } from "./tools/zfs.js";
import { serveTools } from "./tool-server.js";
import { VM_BHYVE_RUN_FLAG, vmBhyveRun } from "./vm-bhyve.js";

const TOOLS: Record<ToolName, Tool> = { sysctl, kldstat, kldload, pciconf, devctl, acpidump, bhyve, bhyvectl, bhyveload, ifconfig, route, mount, zpool, camcontrol, glabel, gmirror, swapctl, zfs, makefs, ps };

/**
 * Counts each tool run in the host's var/sandbox/tool-calls, one line per run (O_APPEND writes of
 * one short line do not interleave), so that the benchmark can report how many tool runs each
 * command costs a host. A host without the file's directory is not counted.
 */
function countCall(root: string, name: string): void {
  try {
    appendFileSync(join(root, TOOL_CALLS_FILE), `${name}\n`);
  } catch {
    // not counted
  }
}

/**
 * Runs the tool at `self` (a path in a sandbox tree) with `args`: the same whether this process is
 * the tool (run through its #! line) or the tool server (sandbox/tool-server.ts) runs it.
 */
async function runTool(self: string, args: readonly string[], env: ToolIO["env"], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const path = resolve(self);
  const entry = (Object.entries(TOOL_PATHS) as Array<[ToolName, string]>).find(([, rel]) => path.endsWith(`${sep}${rel}`));
  if (!entry) {
    err(`sandbox-tool: ${path} is not a tool of a sandbox host\n`);
    return 64;
  }
  const [name, rel] = entry;
  const root = path.slice(0, -(rel.length + 1)) || sep;
  countCall(root, name);
  try {
    return await TOOLS[name]({ root, args, env, out, err });
  } catch (e) {
    // A simulator bug or a broken sandbox: say so in one line, as a C tool's err(3) would.
    err(`${name}: ${(e as Error).message}\n`);
    return 71;
  }
}

async function main(): Promise<number> {
  const self = process.argv[2];
  if (self === "--serve") return serveTools(process.argv.slice(3), runTool);
  if (self === VM_BHYVE_RUN_FLAG) return vmBhyveRun(process.argv[3]!, process.argv[4]!);
  if (!self) {
    process.stderr.write("sandbox-tool: run through a tool of a sandbox host (e.g. DIR/sbin/sysctl)\n");
    return 64;
  }
  return runTool(self, process.argv.slice(3), process.env, (s) => void process.stdout.write(s), (s) => void process.stderr.write(s));
}

process.exitCode = await main();
