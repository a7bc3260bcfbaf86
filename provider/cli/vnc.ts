/**
 * `cdktf-bhyve vnc ADDRESS GUEST --host-key SHA256:... [--listen [HOST:]PORT] [--ssh-user U] [--ssh-key-file F]`:
 * a guest's framebuffer on the operator's machine, through the deploy key. A listener on this
 * machine's loopback (an ephemeral port unless --listen names one); each viewer that connects gets
 * an agent channel of its own whose `guest.vnc` carries the RFB stream to and from the guest's
 * bhyve, which listens on the host's loopback. Runs until interrupted (Ctrl-C).
 */
import { createServer, type Socket } from "node:net";
import { pipeline } from "node:stream";
import type { Client } from "ssh2";
import { UserError } from "../../agent/cli/errors.js";
import { isLoopbackAddress } from "../../agent/model/decode.js";
import { isIPv4Literal, isIPv6Literal } from "../../agent/model/ip.js";
import { AgentCallError, AgentConnection, connectPinned } from "../ssh/agent-client.js";
import { guestCommandArgs, openGuestStream } from "./console.js";

const USAGE = "usage: cdktf-bhyve vnc ADDRESS GUEST --host-key SHA256:... [--listen [HOST:]PORT] [--ssh-user USER] [--ssh-key-file FILE] [--connect-timeout 15s]";

/** `--listen`'s value: a port, or a loopback address and a port ([::1]:5901 for IPv6). Port 0: any free one. */
export function parseListen(v: string | undefined): { host: string; port: number } {
  if (v === undefined) return { host: "127.0.0.1", port: 0 };
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(v);
  const host = m ? (m[1] ?? m[2] ?? "127.0.0.1") : "";
  const port = m ? Number(m[3]) : -1;
  if (!m || port > 65535 || !(isIPv4Literal(host) || isIPv6Literal(host))) throw new UserError(`--listen "${v}" is not [HOST:]PORT with a numeric address (127.0.0.1:5901, [::1]:5901, 5901)`, "E_USAGE", 64);
  // What the relay carries is the guest's keyboard and screen, with no password of its own.
  if (!isLoopbackAddress(host)) throw new UserError(`--listen ${host} is not on loopback; the relay has no authentication, so it listens on this machine only (127.0.0.1 or ::1)`, "E_USAGE", 64);
  return { host, port };
}

export async function vncCommand(args: string[]): Promise<number> {
  const { address, guest, hostKey, values, opts } = guestCommandArgs(args, USAGE, { listen: { type: "string" } });
  const listen = parseListen(typeof values.listen === "string" ? values.listen : undefined);

  // Refuse now, by name, what every viewer would be refused: no such guest, no framebuffer, not running.
  const probe = new AgentConnection(address, hostKey, opts);
  try {
    const g = await probe.call("guest.get", { name: guest });
    if (!g.desired) throw new UserError(`${address}: there is no guest ${guest} in the desired state`, "E_NO_GUEST");
    if (!g.vnc) throw new UserError(`${address}: guest ${guest} has no framebuffer (set framebuffer on a UEFI guest)`, "E_NO_FRAMEBUFFER");
    if (g.pid === null) throw new UserError(`${address}: guest ${guest} is not running (${g.state}${g.reason ? `: ${g.reason}` : ""})`, "E_NO_FRAMEBUFFER");
  } catch (err) {
    if (err instanceof AgentCallError) throw new UserError(`${address}: ${err.message}`, err.code);
    throw err;
  } finally {
    probe.close();
  }

  const client = await connectPinned(address, hostKey, opts);
  client.on("error", () => {});
  let lost = false;
  const closed = new Promise<string>((resolve) => client.once("close", () => {
    lost = true;
    resolve("the SSH connection closed");
  }));
  const viewers = new Set<Socket>();
  const server = createServer((viewer) => void carry(client, address, guest, viewer, viewers));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(new UserError(`cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}`, "E_LISTEN")));
      server.listen({ host: listen.host, port: listen.port, exclusive: true }, resolve);
    });
    const at = server.address() as { address: string; port: number };
    const shown = at.address.includes(":") ? `[${at.address}]:${at.port}` : `${at.address}:${at.port}`;
    process.stderr.write(`[${guest}'s framebuffer on ${address}: point a VNC viewer at ${shown}; Ctrl-C ends]\n`);
    // Until interrupted, or the SSH connection is lost.
    const why = lost ? "the SSH connection closed" : await Promise.race([closed, new Promise<string>((resolve) => {
      const onSignal = (): void => resolve("interrupted");
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    })]);
    process.stderr.write(`[${why}]\n`);
    return why === "interrupted" ? 0 : 1;
  } finally {
    for (const v of viewers) v.destroy();
    server.close();
    client.end();
  }
}

/** One viewer: its own guest.vnc channel, both ways until either side ends. */
async function carry(client: Client, address: string, guest: string, viewer: Socket, viewers: Set<Socket>): Promise<void> {
  viewers.add(viewer);
  viewer.once("close", () => viewers.delete(viewer));
  viewer.on("error", () => {});
  viewer.pause();
  let stream: Awaited<ReturnType<typeof openGuestStream>>;
  try {
    stream = await openGuestStream(client, address, "guest.vnc", guest);
  } catch (err) {
    process.stderr.write(`[a viewer was refused: ${(err as Error).message}]\n`);
    viewer.destroy();
    return;
  }
  const { channel, early } = stream;
  // The viewer may have gone while the agent answered.
  if (viewer.destroyed) {
    channel.close();
    return;
  }
  process.stderr.write(`[a viewer connected from ${viewer.remoteAddress}:${viewer.remotePort}]\n`);
  if (early.length) viewer.write(early);
  // Both ways with back-pressure; either side ending or failing ends both.
  const done = (): void => {
    viewer.destroy();
    channel.close();
  };
  pipeline(channel, viewer, done);
  pipeline(viewer, channel, done);
}
