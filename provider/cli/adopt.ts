/**
 * `cdktf-bhyve adopt ADDRESS --host-key SHA256:... [--out DIR] [--ssh-user U] [--ssh-key-file F]`:
 * reads a running host through the deploy key (the agent's read-only host.foreign, host.facts and
 * host.document) and writes a CDKTF app for it: its ppt reservations, each VM it did not create
 * that can be taken over as it runs as a Guest with adopt: true, the others as comments saying why
 * they are left alone, and what the agent already manages with import statements. Nothing on the
 * host changes until that app is deployed.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { UserError } from "../../agent/cli/errors.js";
import { AgentCallError, AgentConnection } from "../ssh/agent-client.js";
import { adoptedApp } from "./lib/adopt-app.js";
import { clientOptions, requireHostKey, sshFromFlags, SSH_OPTIONS } from "./lib/ssh-options.js";

const USAGE = "usage: cdktf-bhyve adopt ADDRESS --host-key SHA256:... [--out DIR] [--force] [--cdktn] [--ssh-user USER] [--ssh-key-file FILE]";

export async function adoptCommand(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { "host-key": { type: "string" }, out: { type: "string" }, force: { type: "boolean" }, cdktn: { type: "boolean" }, ...SSH_OPTIONS }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`, "E_USAGE", 64);
  }
  const [address, ...rest] = parsed.positionals;
  const hostKey = parsed.values["host-key"];
  if (!address || rest.length || typeof hostKey !== "string") throw new UserError(USAGE, "E_USAGE", 64);
  requireHostKey(hostKey);
  const out = resolve(typeof parsed.values.out === "string" ? parsed.values.out : `adopted-${address.replace(/[^A-Za-z0-9]+/g, "-")}`);
  // An app written before is not overwritten unless asked: it may hold the operator's edits.
  if (existsSync(join(out, "main.ts")) && parsed.values.force !== true) throw new UserError(`${join(out, "main.ts")} exists; pass --force to replace it, or --out another directory`, "E_EXISTS", 1);
  const ssh = sshFromFlags(parsed.values);
  const conn = new AgentConnection(address, hostKey, clientOptions(ssh));
  try {
    const hello = await conn.call("agent.hello");
    const [report, facts, managed] = [await conn.call("host.foreign"), await conn.call("host.facts"), await conn.call("host.document")];
    const app = adoptedApp({ address, hostKey, ...(ssh.user ? { sshUser: ssh.user } : {}), report, facts, managed, agentVersion: hello.version, at: new Date().toISOString(), flavour: parsed.values.cdktn === true ? "cdktn" : "cdktf" });
    mkdirSync(out, { recursive: true });
    for (const [name, text] of Object.entries(app.files)) writeFileSync(join(out, name), text);
    process.stdout.write(`${out}/main.ts: ${app.adopted.length ? `adopts ${app.adopted.join(", ")}` : "adopts no VM"}${app.left.length ? `; leaves ${app.left.join(", ")} alone (why: in the file)` : ""}${app.imported.length ? `; imports ${app.imported.join(", ")}` : ""}\n`);
    for (const vm of report.vms) for (const n of vm.notes) process.stdout.write(`  ${vm.name}: ${n}\n`);
    for (const p of report.vm_bhyve.problems) process.stdout.write(`  vm-bhyve: ${p}\n`);
    process.stdout.write(`deploy it with: cd ${out} && npm install && ${parsed.values.cdktn === true ? "cdktn" : "cdktf"} deploy\n`);
    return 0;
  } catch (err) {
    if (err instanceof AgentCallError && err.code === "E_NO_METHOD") throw new UserError(`${address}: its bhyve-agent is older than adopt (it has no host.foreign); upgrade it with cdktf-bhyve bootstrap, or agent_upgrade = true in the provider configuration`, err.code);
    if (err instanceof AgentCallError) throw new UserError(`${address}: ${err.message}`, err.code);
    throw err;
  } finally {
    conn.close();
  }
}
