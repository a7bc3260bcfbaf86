/**
 * `cdktf-bhyve console ADDRESS GUEST --host-key SHA256:... [--log] [--ssh-user U] [--ssh-key-file F]`:
 * the guest's serial console over the deploy key, without a shell: the agent's `guest.console`
 * turns the forced command's channel into the console (the guest's monitor serves it on the host),
 * `~.` at the start of a line detaches. `--log` prints what the guest printed (`guest.console_log`).
 */
import { parseArgs } from "node:util";
import type { Client, ClientChannel } from "ssh2";
import { UserError } from "../../agent/cli/errors.js";
import { relayConsole } from "../../agent/guests/console.js";
import { AGENT_COMMAND, AgentCallError, AgentConnection, connectPinned } from "../ssh/agent-client.js";
import { clientOptions, requireHostKey, sshFromFlags, SSH_OPTIONS } from "./lib/ssh-options.js";
import { Duplex } from "node:stream";

const USAGE = "usage: cdktf-bhyve console ADDRESS GUEST --host-key SHA256:... [--log] [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s]";

/**
 * The arguments of a command on one guest of one host (console, vnc): ADDRESS GUEST, the pinned
 * host key, the SSH settings, and the command's own options; usage errors exit 64 with `usage`.
 */
export function guestCommandArgs<O extends Record<string, { type: "string" | "boolean" }>>(args: string[], usage: string, own: O) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { "host-key": { type: "string" }, ...own, ...SSH_OPTIONS }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message}\n${usage}`, "E_USAGE", 64);
  }
  const [address, guest, ...rest] = parsed.positionals;
  const hostKey = parsed.values["host-key"];
  if (!address || !guest || rest.length || typeof hostKey !== "string") throw new UserError(usage, "E_USAGE", 64);
  requireHostKey(hostKey);
  return { address, guest, hostKey, values: parsed.values as Record<string, string | boolean | undefined>, opts: clientOptions(sshFromFlags(parsed.values)) };
}

export async function consoleCommand(args: string[]): Promise<number> {
  const { address, guest, hostKey, values, opts } = guestCommandArgs(args, USAGE, { log: { type: "boolean" } });
  if (values.log) {
    const conn = new AgentConnection(address, hostKey, opts);
    try {
      const r = (await conn.callUnchecked("guest.console_log", { name: guest })) as { log: string };
      process.stdout.write(Buffer.from(r.log, "latin1"));
      return 0;
    } catch (err) {
      if (err instanceof AgentCallError) throw new UserError(`${address}: ${err.message}`, err.code);
      throw err;
    } finally {
      conn.close();
    }
  }
  const client = await connectPinned(address, hostKey, opts);
  try {
    const { channel, early } = await openGuestStream(client, address, "guest.console", guest);
    process.stderr.write(`[attached to ${guest}'s console on ${address}; ~. detaches]\r\n`);
    if (early.length) process.stdout.write(early);
    const tty = process.stdin.isTTY === true;
    if (tty) process.stdin.setRawMode(true);
    try {
      const how = await relayConsole(asSocket(channel), process.stdin, process.stdout);
      process.stderr.write(`\r\n[${how === "detached" ? "detached" : how === "console-closed" ? "the console closed" : "input ended"}]\r\n`);
    } finally {
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    return 0;
  } finally {
    client.end();
  }
}

/**
 * Opens an agent channel and asks it for a guest's stream (guest.console, guest.vnc): resolves
 * once the agent answered yes, with the channel (paused) and the stream's bytes already read
 * after the answer; refuses with the agent's message and code.
 */
export async function openGuestStream(client: Client, address: string, method: "guest.console" | "guest.vnc", guest: string): Promise<{ channel: ClientChannel; early: Buffer }> {
  const channel = await new Promise<ClientChannel>((resolve, reject) => client.exec(AGENT_COMMAND, (err, ch) => (err ? reject(new UserError(`${address}: cannot start the agent: ${err.message}`, "E_EXEC")) : resolve(ch))));
  channel.on("error", () => {});
  try {
    channel.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { name: guest } })}\n`);
    // The answer is the first line; what follows it is the stream.
    const { answer, rest } = await firstLine(channel);
    let r: { result?: unknown; error?: { message?: string; data?: { code?: string } } };
    try {
      r = JSON.parse(answer) as typeof r;
    } catch {
      throw new UserError(`${address}: the agent's answer to ${method} is not JSON`, "E_PROTOCOL");
    }
    if (!r.result) throw new UserError(`${address}: ${r.error?.message ?? `the agent did not answer ${method}`}`, r.error?.data?.code ?? "E_NO_STREAM");
    return { channel, early: rest };
  } catch (err) {
    channel.close();
    throw err;
  }
}

/** Reads the channel up to its first newline: the answer, and the bytes already read after it. */
function firstLine(channel: ClientChannel): Promise<{ answer: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      channel.off("data", onData);
      channel.pause();
      resolve({ answer: buf.subarray(0, nl).toString("utf8"), rest: buf.subarray(nl + 1) });
    };
    channel.on("data", onData);
    channel.once("close", () => reject(new UserError("the agent closed the channel before it answered", "E_DISCONNECTED")));
  });
}

/** The channel as relayConsole takes a socket: data events, write, end, close. */
function asSocket(channel: ClientChannel): Parameters<typeof relayConsole>[0] {
  channel.resume();
  return channel as unknown as Duplex as Parameters<typeof relayConsole>[0];
}
