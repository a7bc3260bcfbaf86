/** The `bhyve-agent` commands, by name, and their dispatch (bhyve-agent.ts runs it; tests call it in-process). */
import { asUserError, UserError } from "./errors.js";
import { applyCommand, autostartCommand, netUpCommand, shutdownCommand, statusCommand } from "./apply.js";
import { consoleCommand } from "./console.js";
import { factsCommand } from "./facts.js";
import { installCommand, rollbackCommand } from "./install.js";
import { auditCommand, policyCommand } from "./policy.js";
import { rpcCommand } from "./rpc.js";
import { renderCommand } from "./render.js";
import { validateCommand } from "./validate.js";
import { AGENT_VERSION } from "../version.js";
import { onHostLockWait } from "../host/host-lock.js";

const USAGE = `usage: bhyve-agent COMMAND [ARGS]

commands:
  validate FILE|-   check a desired-state document (YAML or JSON); one "path: message" line per problem
  render FILE|-     print the loader.conf settings and each guest's bhyve argv as JSON
  facts [--root DIR] [--json]        host facts: nested paging, IOMMU, vmm, PCI devices, each with evidence
  apply FILE|- [--root DIR] [--json] converge the host to a desired-state document
  status [--root DIR] [--json]       guests, reserved devices, pending reboot
  autostart [--root DIR]             at boot: converge to the stored desired state, guests in start_order
  shutdown [--root DIR]              at shutdown: stop every guest (the desired state is kept)
  net-up GUEST [--root DIR]          before a guest starts (its monitor runs it): its taps made and on their switches
  console GUEST [--log] [--root DIR] attach to the guest's serial console (~. detaches); --log: what it printed
  rpc [--root DIR]                   JSON-RPC 2.0 on stdin/stdout (the SSH forced command)
  install --from DIR [--deploy-key FILE] [--root DIR]
                                     install this agent from an upload (cdktf-bhyve bootstrap runs it)
  rollback [--root DIR]              make the previous installed agent version current again
  policy [--root DIR] [--json]       the host policy in force and the devices the host protects
  audit [--since T] [--root DIR] [--json]   the audit log of every change request
  version           print the agent version
`;

/** The commands, by name: a Map, so that no argument reaches an inherited property (`constructor`, `__proto__`, ...). */
const COMMANDS = new Map<string, (args: string[]) => Promise<number>>(Object.entries({
  validate: validateCommand,
  render: renderCommand,
  facts: factsCommand,
  apply: applyCommand,
  status: statusCommand,
  autostart: autostartCommand,
  shutdown: shutdownCommand,
  "net-up": netUpCommand,
  console: consoleCommand,
  rpc: rpcCommand,
  install: installCommand,
  policy: policyCommand,
  audit: auditCommand,
  rollback: rollbackCommand,
  version: async (args: string[]) => {
    if (args.length) throw new UserError("usage: bhyve-agent version", "E_USAGE", 64);
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  },
}));

/**
 * Runs one `bhyve-agent` command; a UserError carries its exit status. An error with a stable
 * `E_...` code (a missing tool, a policy refusal, a state file it cannot read) is a refusal too, and
 * becomes a UserError with that code (exit 1); any other error is a bug.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    throw asUserError(err);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return name === undefined ? 64 : 0;
  }
  const command = COMMANDS.get(name);
  if (!command) throw new UserError(`bhyve-agent: unknown command ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)}\n${USAGE}`, "E_USAGE", 64);
  // On the console, say why a command does not proceed (rpc keeps stderr quiet: its client reads the protocol).
  if (name !== "rpc") onHostLockWait((file, holder) => process.stderr.write(`bhyve-agent: waiting for the host lock ${file}${holder ? ` (held by pid ${holder})` : ""}\n`));
  return command(args);
}

