#!/usr/bin/env node
/** `cdktf-bhyve`: the operator's command, run where `cdktf deploy` runs. */
import { UserError, runMain } from "../../agent/cli/errors.js";
import { demoCommand } from "./demo.js";
import { installProviderCommand } from "./install-provider.js";

const USAGE = `usage: cdktf-bhyve COMMAND

commands:
  demo                          deploy examples/fleet to three sandbox hosts over SSH, show drift, heal it, destroy
  push --doc FILE --address ADDR --host-key SHA256:... [--ssh-user U] [--ssh-key-file F]
                                apply one host's desired-state document through its agent (push mode runs this)
  status [--app DIR | --out DIR] [--stack NAME] [--json]
                                every host of the app: readiness, devices, guests (no Terraform state needed)
  drift [--app DIR | --out DIR] [--stack NAME] [--json]
                                desired against actual on every host: exit 0 in sync, 2 drift, 1 error
  bootstrap ADDRESS --host-key SHA256:... [--deploy-key FILE.pub] [--ssh-user U] [--ssh-key-file F]
                                install the agent on a FreeBSD host over an administrator's SSH login
  install-provider [--mirror DIR]   install the Terraform provider into a filesystem mirror
  gen-bindings [DIR]            regenerate the L1 bindings from the provider's schema (development)
  bench [--quick] [--out FILE] [--runs N] [--hosts 1,5,20]
                                how the cost grows with the fleet (to bench/results.json and a table)
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  switch (name) {
    case "install-provider":
      return installProviderCommand(rest);
    case "gen-bindings": {
      // A development command: regenerates provider/constructs/gen from the provider's schema.
      const { generateBindings, writeBindings } = await import("../constructs/generate.js");
      const out = rest[0] ?? "provider/constructs/gen";
      writeBindings(out, await generateBindings());
      process.stdout.write(`wrote the L1 bindings to ${out}\n`);
      return 0;
    }
    case "push": {
      const { pushCommand } = await import("./push.js");
      return pushCommand(rest);
    }
    case "status": {
      const { statusCommand } = await import("./fleet.js");
      return statusCommand(rest);
    }
    case "drift": {
      const { driftCommand } = await import("./fleet.js");
      return driftCommand(rest);
    }
    case "bootstrap": {
      const { bootstrapCommand } = await import("./bootstrap.js");
      return bootstrapCommand(rest);
    }
    case "demo":
      return demoCommand();
    case "bench": {
      const { benchCommand } = await import("./bench.js");
      return benchCommand(rest);
    }
    case undefined:
      process.stdout.write(USAGE);
      return 64;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UserError(`cdktf-bhyve: unknown command "${name}"\n${USAGE}`, "E_USAGE", 64);
  }
}

await runMain(main);
