#!/usr/bin/env node
/** `cdktf-bhyve`: the operator's command, run where `cdktf deploy` runs. */
import { UserError, runMain } from "../../agent/cli/errors.js";
import { demoCommand } from "./demo.js";
import { installProviderCommand } from "./install-provider.js";

const USAGE = `usage: cdktf-bhyve COMMAND

commands:
  demo                          deploy examples/fleet to three sandbox hosts over SSH, show drift, heal it, destroy
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
