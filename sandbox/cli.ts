/**
 * `bhyve-sandbox create|profiles|reboot|guest|network|vm-bhyve|destroy`: sandbox FreeBSD hosts for
 * tests, the demo and the bench. A command of its own, never part of the agent that is installed on hosts.
 */
import { existsSync, readFileSync } from "node:fs";
import { GUEST_ACTIONS, machineProfile, readMachine, type GuestAction } from "./machine.js";
import { mgmtInterface } from "./host-view.js";
import { createSandbox, destroySandbox, guestAction, ignoreAcpi, rebootSandbox, setSandboxNetwork } from "./host.js";
import { PROFILES } from "./profiles.js";
import { setupVmBhyve, vmBhyveStart, vmBhyveStop, writeVmBhyveGuest } from "./vm-bhyve.js";
import { asUserError, UserError } from "../agent/cli/errors.js";
import { AgentError } from "../agent/model/errors.js";

const USAGE = `usage: bhyve-sandbox create DIR --profile NAME
       bhyve-sandbox profiles
       bhyve-sandbox reboot DIR
       bhyve-sandbox guest DIR NAME ${Object.keys(GUEST_ACTIONS).join("|")}|ignore-acpi
       bhyve-sandbox network DIR --address A.B.C.D [--prefix N] [--lagg NIC,NIC | --bridge NIC,NIC] [--vlan TAG] [--tunnel wgN]
       bhyve-sandbox vm-bhyve DIR setup [--vm-dir PATH] [--switch NAME]...
       bhyve-sandbox vm-bhyve DIR create NAME CONFFILE
       bhyve-sandbox vm-bhyve DIR start|stop NAME
       bhyve-sandbox destroy DIR`;

function usage(): never {
  throw new UserError(USAGE, "E_USAGE", 64);
}

/** Runs one `bhyve-sandbox` command (bhyve-sandbox.ts runs it; tests call it in-process). */
export async function sandboxMain(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "help" || sub === "--help" || sub === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    switch (sub) {
      case "profiles":
        if (rest.length) usage();
        for (const p of PROFILES) process.stdout.write(`${p.name.padEnd(10)} ${p.summary}\n`);
        return 0;
      case "create": {
        const at = rest.indexOf("--profile");
        const profile = at >= 0 ? rest[at + 1] : undefined;
        const dirs = rest.filter((_, i) => i !== at && i !== at + 1);
        if (!profile || dirs.length !== 1) usage();
        const m = createSandbox(dirs[0]!, profile);
        process.stdout.write(`${dirs[0]}: sandbox host "${m.profile}" created\n`);
        return 0;
      }
      case "reboot": {
        if (rest.length !== 1) usage();
        const m = await rebootSandbox(rest[0]!);
        const ppt = m.pci.filter((f) => f.driver === "ppt").map((f) => `${f.bus}/${f.slot}/${f.function}`);
        process.stdout.write(`${rest[0]}: rebooted (boot ${m.bootCount}); vmm ${m.vmmLoaded ? "loaded" : "not loaded"}; ppt: ${ppt.join(" ") || "none"}\n`);
        return 0;
      }
      case "guest": {
        const [dir, name, action] = rest;
        if (rest.length === 3 && action === "ignore-acpi") {
          ignoreAcpi(dir!, name!);
          process.stdout.write(`${name}: the guest now ignores the ACPI power button\n`);
          return 0;
        }
        if (rest.length !== 3 || !Object.hasOwn(GUEST_ACTIONS, action!)) usage();
        const code = await guestAction(dir!, name!, action as GuestAction);
        process.stdout.write(`${name}: bhyve exited with ${code} (${action})\n`);
        return 0;
      }
      case "network": {
        const [dir, ...opts] = rest;
        const value = (flag: string): string | undefined => {
          const i = opts.indexOf(flag);
          return i >= 0 ? opts[i + 1] : undefined;
        };
        const address = value("--address");
        if (!dir || !address || opts.length % 2 !== 0 || opts.some((o, i) => i % 2 === 0 && !["--address", "--prefix", "--lagg", "--bridge", "--vlan", "--tunnel"].includes(o))) usage();
        const list = (v: string | undefined) => (v ? v.split(",").filter(Boolean) : null);
        const vlanText = value("--vlan");
        if (vlanText !== undefined && !/^\d+$/.test(vlanText)) throw new AgentError(`--vlan takes a tag from 1 to 4094, not "${vlanText}"`, "E_NET");
        const net = setSandboxNetwork(dir, {
          address, prefix: Number(value("--prefix") ?? 24), lagg: list(value("--lagg")), bridge: list(value("--bridge")),
          vlan: vlanText === undefined ? null : Number(vlanText), tunnel: value("--tunnel") ?? null,
        });
        const holder = mgmtInterface(readMachine(dir), machineProfile(readMachine(dir)));
        const under = net.lagg ? ` over lagg0 (${net.lagg.join(", ")})` : net.bridge ? ` (bridge of ${net.bridge.join(", ")})` : "";
        process.stdout.write(`${dir}: ${net.address}/${net.prefix} on ${holder}${net.vlan ? ` (vlan ${net.vlan})` : ""}${under}\n`);
        return 0;
      }
      case "vm-bhyve":
        return await vmBhyveCommand(rest);
      case "destroy":
        if (rest.length !== 1) usage();
        await destroySandbox(rest[0]!);
        return 0;
      default:
        return usage();
    }
  } catch (err) {
    throw asUserError(err, `sandbox ${sub}`);
  }
}

/** `bhyve-sandbox vm-bhyve DIR setup|create|start|stop ...`: vm-bhyve on a sandbox host (sandbox/vm-bhyve.ts). */
async function vmBhyveCommand(args: string[]): Promise<number> {
  const [dir, action, ...rest] = args;
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  if (!dir) usage();
  switch (action) {
    case "setup": {
      const switches: string[] = [];
      let vmDir: string | undefined;
      for (let i = 0; i < rest.length; i += 2) {
        const value = rest[i + 1];
        if (value === undefined) usage();
        if (rest[i] === "--switch") switches.push(value);
        else if (rest[i] === "--vm-dir") vmDir = value;
        else usage();
      }
      const r = setupVmBhyve(dir, { switches, ...(vmDir ? { vmDir } : {}) });
      const list = Object.entries(r.bridges).map(([sw, br]) => `${sw} (${br})`).join(", ");
      say(`${dir}: vm-bhyve enabled, vm_dir ${r.vmDir}${list ? `; switches: ${list}` : ""}`);
      return 0;
    }
    case "create": {
      const [name, file] = rest;
      if (rest.length !== 2) usage();
      if (!existsSync(file!)) throw new UserError(`${file}: no such file`, "E_USAGE");
      say(`${name}: ${writeVmBhyveGuest(dir, name!, readFileSync(file!, "utf8"))}`);
      return 0;
    }
    case "start": {
      if (rest.length !== 1) usage();
      const r = await vmBhyveStart(dir, rest[0]!, { out: say });
      say(`${rest[0]}: vm _run is pid ${r.runnerPid}, bhyve pid ${r.bhyvePid}`);
      return 0;
    }
    case "stop":
      if (rest.length !== 1) usage();
      await vmBhyveStop(dir, rest[0]!, { out: say });
      return 0;
    default:
      return usage();
  }
}
