/**
 * A full SSH login (an administrator's account with a shell), for `cdktf-bhyve bootstrap`: each
 * command is an argv, quoted by the one tested quoting function for the login shell that sshd
 * hands it to; each has a deadline; stdin can carry a file.
 */
import { shellCommand } from "../../agent/model/shell-quote.js";
import { AgentCallError, connectPinned, type ClientOptions } from "./agent-client.js";

/** What a remote command did. */
export interface RemoteResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One SSH connection that runs commands. */
export class ShellSession {
  private constructor(
    readonly address: string,
    private readonly client: Awaited<ReturnType<typeof connectPinned>>,
    private readonly timeoutMs: number,
  ) {}

  /** Connects, checking the pinned host key first. */
  static async open(address: string, hostKey: string, opts: ClientOptions): Promise<ShellSession> {
    const s = new ShellSession(address, await connectPinned(address, hostKey, opts), opts.commandTimeoutMs);
    s.client.on("error", (e: Error) => {
      s.lost = e.message;
    });
    s.client.on("close", () => {
      s.lost ??= "the SSH connection closed";
    });
    return s;
  }

  /** Why the connection is gone, once it is. */
  private lost: string | null = null;

  /** Runs an argv; `stdin` is written and closed. Resolves with the exit status (never rejects on a non-zero one). */
  run(argv: readonly string[], stdin?: Buffer | string, timeoutMs = this.timeoutMs): Promise<RemoteResult> {
    const command = shellCommand(argv);
    if (this.lost) return Promise.reject(new AgentCallError(`${this.address}: the connection was lost (${this.lost})`, "E_DISCONNECTED"));
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(new AgentCallError(`${this.address}: cannot run ${argv[0]}: ${err.message}`, "E_EXEC"));
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          ch.close();
          reject(new AgentCallError(`${this.address}: ${argv.slice(0, 2).join(" ")} did not finish within ${Math.round(timeoutMs / 1000)} s`, "E_TIMEOUT"));
        }, timeoutMs);
        ch.on("data", (d: Buffer) => {
          stdout += d.toString();
        });
        ch.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        ch.on("close", (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          resolve({ code: typeof code === "number" ? code : null, signal: signal ?? null, stdout, stderr });
        });
        ch.end(stdin);
      });
    });
  }

  /** Writes a file (parent directories made) from `data`, through sh with the path as an argument, not in the script. */
  async upload(path: string, data: Buffer | string): Promise<void> {
    const r = await this.run(["/bin/sh", "-c", 'umask 022 && mkdir -p "$(dirname "$1")" && cat > "$1"', "upload", path], data);
    if (r.code !== 0) throw new AgentCallError(`${this.address}: cannot write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`, "E_UPLOAD");
  }

  close(): void {
    this.client.end();
  }
}
