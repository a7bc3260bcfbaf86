/**
 * bhyve's framebuffer (`-s N,fbuf,...`) as the sandbox stands in for it: the option parsing of
 * pci_fbuf.c (pci_fbuf_parse_config) and the VNC server of rfb.c, far enough that a viewer (or a
 * test) can tell the guest's screen is there: the RFB 3.8 handshake with security type None, then
 * ServerInit with the framebuffer's size, bhyve's 32-bit pixel format and the name "bhyve". Client
 * messages after that are read and dropped. One client at a time, as rfb_thr() accepts them; with
 * `wait`, the guest does not boot until the first one connects.
 */
import { createServer, type Server, type Socket } from "node:net";

/** pci_fbuf.c's limits (14.x and later). */
const COLS = { min: 640, max: 3840, default: 1024 };
const ROWS = { min: 480, max: 2160, default: 768 };

/** A framebuffer's settings as pci_fbuf reads them. */
export interface FbufConfig {
  readonly host: string;
  readonly port: number;
  readonly width: number;
  readonly height: number;
  readonly wait: boolean;
}

/**
 * pci_fbuf_parse_config() for the legacy option list (`rfb=`/`tcp=`, `w=`, `h=`, `vga=`, `wait`,
 * `password=`); the message bhyve prints, or the settings. A missing address is 127.0.0.1, a
 * missing port 5900 (rfb_init()).
 */
export function parseFbufConfig(conf: readonly string[]): FbufConfig | string {
  const kv = new Map<string, string>();
  // pci_parse_legacy_config(): "key=value", or a bare key meaning "true".
  for (const c of conf) {
    const eq = c.indexOf("=");
    if (eq < 0) kv.set(c, "true");
    else kv.set(c.slice(0, eq), c.slice(eq + 1));
  }
  const wait = ["true", "on", "yes", "1"].includes((kv.get("wait") ?? "false").toLowerCase());
  let host = "";
  let port = 0;
  const value = kv.get("rfb") ?? kv.get("tcp");
  if (value !== undefined) {
    if (value.startsWith("[")) {
      const close = value.indexOf("]");
      if (close <= 1) return `fbuf: Invalid IPv6 address: "${value}"`;
      host = value.slice(1, close);
      const rest = value.slice(close + 1);
      if (rest.startsWith(":")) {
        if (rest.length === 1) return `fbuf: Missing port number: "${value}"`;
        port = Number.parseInt(rest.slice(1), 10) || 0;
      } else if (rest !== "") return `fbuf: Invalid IPv6 address: "${value}"`;
    } else {
      const colon = value.indexOf(":");
      if (colon < 0) port = Number.parseInt(value, 10) || 0;
      else {
        host = value.slice(0, colon);
        if (colon === value.length - 1) return `fbuf: Missing port number: "${value}"`;
        port = Number.parseInt(value.slice(colon + 1), 10) || 0;
      }
    }
  }
  const vga = kv.get("vga");
  if (vga !== undefined && !["off", "io", "on"].includes(vga)) return `fbuf: Invalid vga setting: "${vga}"`;
  const width = kv.has("w") ? Number.parseInt(kv.get("w")!, 10) || 0 : COLS.default;
  const height = kv.has("h") ? Number.parseInt(kv.get("h")!, 10) || 0 : ROWS.default;
  if (width > COLS.max || height > ROWS.max) return `fbuf: max resolution is ${COLS.max}x${ROWS.max}`;
  if (width < COLS.min || height < ROWS.min) return `fbuf: minimum resolution is ${COLS.min}x${ROWS.min}`;
  if (vga === "on") return "pci_fbuf: VGA rendering not enabled";
  return { host: host || "127.0.0.1", port: port || 5900, width, height, wait };
}

/** The sandbox's VNC server of one bhyve. */
export interface RfbServer {
  /** Resolves when the first client has connected (bhyve's `wait`). */
  readonly firstClient: Promise<void>;
  close(): void;
}

/** rfb_init(): binds and listens; rejects with the errno code (EADDRINUSE, ...) as bind(2) fails. */
export function startRfbServer(cfg: FbufConfig): Promise<RfbServer> {
  return new Promise((resolve, reject) => {
    let firstClient!: () => void;
    const first = new Promise<void>((r) => (firstClient = r));
    const queue: Socket[] = [];
    let serving: Socket | null = null;
    const next = (): void => {
      if (serving || queue.length === 0) return;
      serving = queue.shift()!;
      const sock = serving;
      sock.once("close", () => {
        serving = null;
        next();
      });
      handshake(sock, cfg);
    };
    const server: Server = createServer((sock) => {
      sock.on("error", () => {});
      firstClient();
      queue.push(sock);
      next();
    });
    server.once("error", (err: NodeJS.ErrnoException) => reject(Object.assign(new Error(err.message), { code: err.code ?? "EINVAL" })));
    server.listen({ host: cfg.host, port: cfg.port, backlog: 1, exclusive: true }, () => {
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve({
        firstClient: first,
        close(): void {
          for (const s of [...queue, ...(serving ? [serving] : [])]) s.destroy();
          server.close();
        },
      });
    });
  });
}

/** rfb_handle(): version, security (None), SecurityResult, ClientInit, ServerInit; then drains. */
function handshake(sock: Socket, cfg: FbufConfig): void {
  let buf = Buffer.alloc(0);
  let step = 0;
  sock.write("RFB 003.008\n");
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (step === 0 && buf.length >= 12) {
        const v = buf.subarray(0, 12).toString("latin1");
        buf = buf.subarray(12);
        if (!/^RFB 003\.00[378]\n$/.test(v)) return void sock.destroy();
        if (v === "RFB 003.003\n") {
          sock.write(Buffer.from([0, 0, 0, 1])); // 3.3: the server names the type, None
          step = 2;
        } else {
          sock.write(Buffer.from([1, 1])); // one type: None
          step = 1;
        }
      } else if (step === 1 && buf.length >= 1) {
        const chosen = buf[0];
        buf = buf.subarray(1);
        if (chosen !== 1) {
          const why = Buffer.from("Auth failed: authentication type mismatch");
          const out = Buffer.alloc(8);
          out.writeUInt32BE(1, 0);
          out.writeUInt32BE(why.length, 4);
          sock.end(Buffer.concat([out, why]));
          return;
        }
        sock.write(Buffer.alloc(4)); // SecurityResult: OK
        step = 2;
      } else if (step === 2 && buf.length >= 1) {
        buf = buf.subarray(1); // ClientInit's shared flag
        const init = Buffer.alloc(24);
        init.writeUInt16BE(cfg.width, 0);
        init.writeUInt16BE(cfg.height, 2);
        // bpp 32, depth 32, little endian, true colour, 255/255/255, shifts 16/8/0
        Buffer.from([32, 32, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
        init.writeUInt32BE(5, 20);
        sock.write(Buffer.concat([init, Buffer.from("bhyve")]));
        step = 3;
      } else if (step === 3) {
        buf = Buffer.alloc(0); // client messages: read and dropped
        return;
      } else return;
    }
  });
}
