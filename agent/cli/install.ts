/**
 * `bhyve-agent install --from DIR`: installs the agent that runs this command (its bundle, from
 * DIR/bhyve-agent.mjs), builds the native pieces from DIR with this host's compiler, writes the
 * wrapper and the rc.d script, and adds a deploy key with a forced command. `cdktf-bhyve bootstrap`
 * uploads DIR and runs this; each step is idempotent and says what it did.
 * `bhyve-agent rollback`: makes the previous version current again.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { withHostLock } from "../host/host-lock.js";
import { installBundle, installDeployKey, installLayout, installNative, installRcScript, installWrapper, rollback } from "../host/install.js";
import type { HostPaths } from "../host/paths.js";
import { asUserError, UserError } from "./errors.js";
import { hostOptions, takeOption } from "./options.js";
import { audited } from "../host/audit.js";

const USAGE = "usage: bhyve-agent install --from DIR [--deploy-key FILE] [--deploy-home /root] [--root DIR]";

/** Runs the install steps; returns one line per step. */
export async function install(paths: HostPaths, from: string, deployKey?: string, deployHome = "/root"): Promise<string[]> {
  const l = installLayout(paths);
  const need = ["bhyve-agent.mjs", "native/binding.gyp", "node_modules/node-addon-api/package.json", "rc.d/bhyve_agent"];
  const missing = need.filter((f) => !existsSync(join(from, f)));
  if (missing.length) throw new UserError(`${from} is not an agent upload: ${missing.join(", ")} missing`, "E_USAGE", 64);
  return withHostLock(paths, async () => {
    const out: string[] = [];
    const native = installNative(paths, from, process.execPath);
    out.push(`native pieces (${l.native}): ${native.changed ? "built with this host's compiler" : "unchanged"}`);
    const bundle = readFileSync(join(from, "bhyve-agent.mjs"));
    const b = installBundle(paths, bundle, createHash("sha256").update(bundle).digest("hex"), process.execPath);
    out.push(`agent ${b.installed}: ${b.changed ? `installed as current${b.previous ? `; previous ${b.previous} kept for rollback` : ""}` : "already current"}`);
    out.push(`${l.wrapper}: ${installWrapper(paths, process.execPath) ? "written" : "unchanged"}`);
    out.push(`${l.rcScript}: ${installRcScript(paths, readFileSync(join(from, "rc.d", "bhyve_agent"), "utf8")) ? "written" : "unchanged"} (enable it with: sysrc bhyve_agent_enable=YES)`);
    if (deployKey !== undefined) {
      const k = installDeployKey(paths, deployHome, readFileSync(deployKey, "utf8"));
      out.push(`deploy key in ${k.file}: ${k.changed ? "added" : "unchanged"} (restrict, forced command: the agent's rpc only)`);
    }
    return out;
  });
}

/** `bhyve-agent install`. */
export async function installCommand(args: string[]): Promise<number> {
  const rest = [...args];
  const from = takeOption(rest, "--from", USAGE);
  const deployKey = takeOption(rest, "--deploy-key", USAGE);
  const deployHome = takeOption(rest, "--deploy-home", USAGE);
  const o = hostOptions(rest, USAGE);
  if (!from || o.operands.length) throw new UserError(USAGE, "E_USAGE", 64);
  if (deployHome !== undefined && !deployHome.startsWith("/")) throw new UserError("--deploy-home must be an absolute path", "E_USAGE", 64);
  const request = { from: resolve(from), deploy_key: deployKey !== undefined, deploy_home: deployHome ?? "/root" };
  try {
    const { changed } = await audited(o.paths, "install", request, async () => ({ changed: await install(o.paths, resolve(from), deployKey && resolve(deployKey), deployHome) }));
    for (const line of changed) process.stdout.write(`${line}\n`);
  } catch (err) {
    throw asUserError(err, "install");
  }
  return 0;
}

/** `bhyve-agent rollback`. */
export async function rollbackCommand(args: string[]): Promise<number> {
  const o = hostOptions(args, "usage: bhyve-agent rollback [--root DIR]");
  if (o.operands.length) throw new UserError("usage: bhyve-agent rollback [--root DIR]", "E_USAGE", 64);
  try {
    const r = (await audited(o.paths, "rollback", {}, async () => ({ changed: [await withHostLock(o.paths, async () => rollback(o.paths))] }))).changed[0]!;
    process.stdout.write(`current: ${r.current} (was ${r.previous}, kept as previous)\n`);
  } catch (err) {
    throw asUserError(err, "rollback");
  }
  return 0;
}
