#!/usr/bin/env node
/** `cdktf-bhyve`: the operator's command, run where `cdktf deploy` runs. */
import { UserError, runMain } from "../../agent/cli/errors.js";

const USAGE = `usage: cdktf-bhyve COMMAND

commands:
  demo                          deploy examples/fleet to three sandbox hosts over SSH, show drift, heal it, destroy
  push --doc FILE --address ADDR --host-key SHA256:... [--ssh-user U] [--ssh-key-file F]
                                apply one host's desired-state document through its agent (push mode runs this)
  status [--app DIR | --out DIR] [--stack NAME] [--json]
                                every host of the app: readiness, devices, guests (no Terraform state needed)
  drift [--app DIR | --out DIR] [--stack NAME] [--json]
                                desired against actual on every host: exit 0 in sync, 2 drift, 1 error
  console ADDRESS GUEST --host-key SHA256:... [--log] [--ssh-user U] [--ssh-key-file F]
                                a guest's serial console over the deploy key (~. detaches); --log: what it printed
  vnc ADDRESS GUEST --host-key SHA256:... [--listen [HOST:]PORT] [--ssh-user U] [--ssh-key-file F]
                                a guest's framebuffer on this machine's loopback, through the deploy key
  adopt ADDRESS --host-key SHA256:... [--out DIR] [--force] [--cdktn] [--ssh-user U] [--ssh-key-file F]
                                write a CDKTF (or CDK Terrain) app for a running host: its VMs taken over as they run
  bootstrap ADDRESS --host-key SHA256:... [--deploy-key FILE.pub] [--ssh-user U] [--ssh-key-file F]
                                install the agent on a FreeBSD host over an administrator's SSH login
  install-provider [--mirror DIR]   install the Terraform provider into a filesystem mirror
  gen-bindings [DIR]            regenerate the L1 bindings from the provider's schema (development)
  gen-docs [DIR]                write the provider's registry documentation (docs/) from its schema (development)
  bench [--quick] [--out FILE] [--runs N] [--hosts 1,5,20]
                                how the cost grows with the fleet (to bench/results.json and a table)
`;

/**
 * The commands, by name: operator commands (one per file here) and development tools (dev/). Each
 * module is loaded only when its command runs, so `push` does not load the bench or cdktf.
 */
const COMMANDS = new Map<string, () => Promise<(args: string[]) => number | Promise<number>>>([
  ["push", async () => (await import("./push.js")).pushCommand],
  ["status", async () => (await import("./status.js")).statusCommand],
  ["console", async () => (await import("./console.js")).consoleCommand],
  ["vnc", async () => (await import("./vnc.js")).vncCommand],
  ["drift", async () => (await import("./drift.js")).driftCommand],
  ["adopt", async () => (await import("./adopt.js")).adoptCommand],
  ["bootstrap", async () => (await import("./bootstrap.js")).bootstrapCommand],
  ["install-provider", async () => (await import("./install-provider.js")).installProviderCommand],
  ["demo", async () => (await import("./dev/demo.js")).demoCommand],
  ["bench", async () => (await import("./dev/bench.js")).benchCommand],
  ["gen-bindings", async () => (await import("./dev/gen-bindings.js")).genBindingsCommand],
  ["gen-docs", async () => (await import("./dev/gen-docs.js")).genDocsCommand],
]);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return name === undefined ? 64 : 0;
  }
  const load = COMMANDS.get(name);
  if (!load) throw new UserError(`cdktf-bhyve: unknown command ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)}\n${USAGE}`, "E_USAGE", 64);
  return (await load())(rest);
}

await runMain(main);
