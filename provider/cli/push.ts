/**
 * `cdktf-bhyve push --doc FILE --address ADDR --host-key SHA256:...`: applies one host's whole
 * desired-state document through the agent's `host.apply` and prints what changed. It is what push
 * mode's local-exec provisioner runs, and works by hand the same way. The document is checked here
 * first, so a broken one never reaches the host.
 */
import { parseArgs } from "node:util";
import { UserError } from "../../agent/cli/errors.js";
import { readInput } from "../../agent/cli/read-input.js";
import { checkDocumentText, documentHash, toDocument } from "../../agent/model/document.js";
import { formatProblems } from "../../agent/model/problems.js";
import { AgentCallError, AgentConnection } from "../ssh/agent-client.js";
import type { ChangeResult } from "../../agent/rpc/protocol.js";
import { clientOptions, requireHostKey, sshFromFlags, SSH_OPTIONS } from "./lib/ssh-options.js";

const USAGE = `usage: cdktf-bhyve push --doc FILE --address HOST[:PORT] --host-key SHA256:...
                        [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s] [--command-timeout 10m]`;

/** What a host.apply did, as lines for a person. */
export function describeResult(r: ChangeResult): string[] {
  const lines = [
    ...r.changed.map((c) => `  changed  ${c.what}: ${c.detail}`),
    ...r.pending.map((c) => `  pending  ${c.what}: ${c.detail}`),
    ...r.refused.map((c) => `  refused  ${c.what}: ${c.detail}`),
    ...r.warnings.map((w) => `  warning  ${w}`),
  ];
  if (lines.length === 0) lines.push("  no changes: the host already had this document");
  if (r.reboot_required) lines.push("  the host needs a reboot for the pending items");
  return lines;
}

/** Runs `push`; 0 when the host took the whole document, 1 when anything was refused or failed. */
export async function pushCommand(args: string[]): Promise<number> {
  let v: Record<string, unknown>;
  try {
    v = parseArgs({ args, options: { doc: { type: "string" }, address: { type: "string" }, "host-key": { type: "string" }, ...SSH_OPTIONS }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE}`, "E_USAGE", 64);
  }
  const [file, address, hostKey] = [v.doc, v.address, v["host-key"]] as Array<string | undefined>;
  if (!file || !address || !hostKey) throw new UserError(`push needs --doc, --address and --host-key\n${USAGE}`, "E_USAGE", 64);
  requireHostKey(hostKey);
  // Read as the agent's own commands read a document: a regular file (or - for standard input),
  // bounded, UTF-8.
  const text = await readInput(file);
  const checked = checkDocumentText(text);
  if (!checked.ok) throw new UserError(`${file} is not a valid desired-state document; nothing was sent to ${address}:\n${formatProblems(checked.problems)}`, checked.code ?? "E_SPEC_INVALID");
  const conn = new AgentConnection(address, hostKey, clientOptions(sshFromFlags(v)));
  try {
    const r = await conn.call("host.apply", { document: toDocument(checked.state) });
    process.stdout.write(`${address}: applied ${file} (sha256 ${documentHash(checked.state).slice(0, 12)})\n${describeResult(r).join("\n")}\n`);
    return r.refused.length > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof AgentCallError)) throw err;
    // The agent's message holds the problems it sent, and how many more there were past the first 50.
    const why = err.problems?.length ? `the agent refused the document:\n${err.message}` : err.message;
    throw new UserError(`${address}: push failed (${err.code}): ${why}`, err.code);
  } finally {
    conn.close();
  }
}
