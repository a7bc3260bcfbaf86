/**
 * A minimal VNC (RFB 3.8) client for tests: the handshake up to ServerInit, security type None,
 * as a viewer does it. Resolves with what the server said about its screen.
 */
import { connect, createServer, type Socket } from "node:net";

export interface ServerInit {
  readonly version: string;
  readonly width: number;
  readonly height: number;
  readonly bitsPerPixel: number;
  readonly name: string;
}

/** Reads exactly n bytes (or rejects when the stream ends first). */
function reader(sock: Socket): (n: number) => Promise<Buffer> {
  let buf = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  let ended: Error | null = null;
  const pump = (): void => {
    if (!want) return;
    if (buf.length >= want.n) {
      const out = buf.subarray(0, want.n);
      buf = buf.subarray(want.n);
      const w = want;
      want = null;
      w.resolve(out);
    } else if (ended) {
      const w = want;
      want = null;
      w.reject(ended);
    }
  };
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    pump();
  });
  sock.on("close", () => {
    ended = new Error(`the server closed the connection (${buf.length} bytes unread)`);
    pump();
  });
  sock.on("error", (e) => {
    ended = e;
    pump();
  });
  return (n) => new Promise((resolve, reject) => {
    want = { n, resolve, reject };
    pump();
  });
}

/** Connects to host:port and does the RFB handshake; the socket stays open until `close`. */
export async function rfbHandshake(host: string, port: number, timeoutMs = 10_000): Promise<ServerInit & { close(): void }> {
  const sock = connect({ host, port });
  const timer = setTimeout(() => sock.destroy(new Error(`no RFB handshake from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
  try {
    const read = reader(sock);
    const version = (await read(12)).toString("latin1");
    sock.write("RFB 003.008\n");
    const count = (await read(1))[0]!;
    const types = [...(await read(count))];
    if (!types.includes(1)) throw new Error(`the server offers no security type None (${types.join(",")})`);
    sock.write(Buffer.from([1]));
    const result = (await read(4)).readUInt32BE(0);
    if (result !== 0) throw new Error(`security result ${result}`);
    sock.write(Buffer.from([1])); // shared
    const init = await read(24);
    const name = (await read(init.readUInt32BE(20))).toString("latin1");
    return { version, width: init.readUInt16BE(0), height: init.readUInt16BE(2), bitsPerPixel: init[4]!, name, close: () => sock.destroy() };
  } catch (err) {
    sock.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port in [first, last] on 127.0.0.1 that nothing listens on now (the policy's framebuffer range). */
export async function freePortIn(first: number, last: number): Promise<number> {
  for (let p = first; p <= last; p++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen({ host: "127.0.0.1", port: p, exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
  throw new Error(`no free port in ${first}-${last}`);
}
