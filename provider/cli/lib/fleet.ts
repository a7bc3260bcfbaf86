/**
 * What `cdktf-bhyve status` and `cdktf-bhyve drift` share: every host of a synthesized app, asked
 * in parallel (at most --parallel at a time, each with its own deadlines, so one slow host holds up
 * only itself), without Terraform state. A line on stderr as each host answers; the commands print
 * their table or differences on stdout in the app's order.
 */
import { parseArgs } from "node:util";
import { UserError } from "../../../agent/cli/errors.js";
import { AgentCallError, AgentConnection } from "../../ssh/agent-client.js";
import type { Observation } from "./fleet-compare.js";
import { readTargets, synthApp, type FleetHost } from "./fleet-targets.js";
import { clientOptions, sshFromFlags, SSH_OPTIONS, type SshSettings } from "./ssh-options.js";

const USAGE = (cmd: string) => `usage: cdktf-bhyve ${cmd} [--app DIR | --out DIR] [--stack NAME] [--json] [--parallel N]
                          [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s] [--command-timeout 10m]
  --app DIR    the CDKTF app to synthesize first (default: the current directory)
  --out DIR    an already synthesized cdktf.out, read as it is`;

export interface FleetArgs {
  readonly hosts: FleetHost[];
  readonly json: boolean;
  readonly parallel: number;
  readonly ssh: SshSettings;
}

export async function fleetArgs(cmd: string, args: string[]): Promise<FleetArgs> {
  let v: Record<string, unknown>;
  try {
    v = parseArgs({ args, options: { app: { type: "string" }, out: { type: "string" }, stack: { type: "string" }, json: { type: "boolean" }, parallel: { type: "string" }, ...SSH_OPTIONS }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${USAGE(cmd)}`, "E_USAGE", 64);
  }
  if (v.app !== undefined && v.out !== undefined) throw new UserError(`pass --app or --out, not both\n${USAGE(cmd)}`, "E_USAGE", 64);
  const parallel = v.parallel === undefined ? 8 : Number(v.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new UserError(`--parallel takes a whole number from 1 to 256\n${USAGE(cmd)}`, "E_USAGE", 64);
  const out = typeof v.out === "string" ? v.out : await synthApp(typeof v.app === "string" ? v.app : ".", (s) => process.stderr.write(`${s}\n`));
  return { hosts: readTargets(out, v.stack as string | undefined), json: v.json === true, parallel, ssh: sshFromFlags(v) };
}

/** What one host answered, or why it could not. */
export type Outcome = { ok: true; observation: Observation } | { ok: false; error: string; code: string };

/** Fetches one host's observation over one SSH connection (the agent answers the calls in order). */
export async function observe(host: FleetHost, ssh: SshSettings): Promise<Outcome> {
  let conn: AgentConnection | undefined;
  try {
    conn = new AgentConnection(host.address, host.hostKey, clientOptions(ssh, host.ssh));
    const [document, loader, facts, reboot, guests] = await Promise.all([
      conn.call("host.document"),
      conn.call("host.get"),
      conn.call("host.facts"),
      conn.call("host.status"),
      conn.call("guest.list"),
    ]);
    const hello = conn.hello!;
    const network = { switches: reboot.switches, detached_nics: reboot.detached_nics };
    return { ok: true, observation: { agent: { version: hello.version, protocol: hello.protocol }, document, loader, facts, reboot, network, disks: reboot.disk_drift ?? [], foreign: reboot.foreign_vms ?? [], guests } };
  } catch (err) {
    if (err instanceof AgentCallError || err instanceof UserError) return { ok: false, error: err.message, code: err.code };
    throw err;
  } finally {
    conn?.close();
  }
}

/** Runs `work` over the hosts, at most `limit` at a time; `done` is called as each finishes. */
export async function eachHost<T>(hosts: readonly FleetHost[], limit: number, work: (h: FleetHost) => Promise<T>, done: (h: FleetHost, r: T, i: number, ms: number) => void): Promise<T[]> {
  const results = new Array<T>(hosts.length);
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const i = next++;
      const started = Date.now();
      results[i] = await work(hosts[i]!);
      done(hosts[i]!, results[i]!, ++finished, Date.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, hosts.length) }, worker));
  return results;
}

export const label = (h: FleetHost): string => `${h.stack}/${h.id}`;
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
