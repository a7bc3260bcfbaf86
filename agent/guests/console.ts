/**
 * Attaching to a guest's serial console: the guest's monitor serves it on console.sock in the
 * guest's run directory (native/monitor/bhyve-monitor.c); this relays a terminal to it. `~.` at the
 * start of a line detaches, as cu(1) and ssh(1) do; `~~` sends one `~`.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { AgentError } from "../model/errors.js";
import { CONSOLE_LOG } from "./monitor-spec.js";

/**
 * What a guest printed on its console: the monitor's log in the guest's log directory, the part
 * rotated to console.log.0 first; null when there is none (it never ran with a console).
 */
export function readConsoleLog(logDir: string): Buffer | null {
  const file = join(logDir, CONSOLE_LOG);
  const parts = [`${file}.0`, file].filter((f) => existsSync(f));
  return parts.length ? Buffer.concat(parts.map((f) => readFileSync(f))) : null;
}

/** Connects to a console socket; refuses with E_NO_CONSOLE when nothing serves it. */
export function connectConsole(socketPath: string, guest: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    sock.once("connect", () => resolve(sock));
    sock.once("error", (err: NodeJS.ErrnoException) => {
      reject(new AgentError(`guest ${guest} has no console to attach to (${err.code === "ENOENT" || err.code === "ECONNREFUSED" ? "its monitor does not run, or the guest has console: false" : err.message})`, "E_NO_CONSOLE"));
    });
  });
}

/** Connects to a guest's VNC server on the host; refuses with E_NO_FRAMEBUFFER when nothing serves it. */
export function connectVnc(target: { host: string; port: number }, guest: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: target.host, port: target.port });
    sock.once("connect", () => resolve(sock));
    sock.once("error", (err: NodeJS.ErrnoException) => {
      reject(new AgentError(`guest ${guest}'s framebuffer at ${target.host}:${target.port} does not answer (${err.code ?? err.message})`, "E_NO_FRAMEBUFFER"));
    });
  });
}

/**
 * Relays `input` to the console and the console to `output` until `~.` is typed at the start of a
 * line, the input ends, or the console goes away. Resolves with how it ended.
 */
export function relayConsole(sock: Socket, input: Readable, output: Writable): Promise<"detached" | "input-ended" | "console-closed"> {
  return new Promise((resolve) => {
    let lineStart = true;
    let tilde = false;
    let ended = false;
    const end = (how: "detached" | "input-ended" | "console-closed"): void => {
      if (ended) return;
      ended = true;
      input.off("data", onInput);
      input.off("end", onInputEnd);
      sock.off("data", onOutput);
      sock.end();
      resolve(how);
    };
    const onOutput = (d: Buffer): void => void output.write(d);
    const onInput = (d: Buffer | string): void => {
      const bytes = typeof d === "string" ? Buffer.from(d) : d;
      const out: number[] = [];
      for (const b of bytes) {
        if (tilde) {
          tilde = false;
          if (b === 0x2e) return void (out.length && sock.write(Buffer.from(out)), end("detached"));
          if (b !== 0x7e) out.push(0x7e);
          out.push(b);
          lineStart = false;
          continue;
        }
        if (lineStart && b === 0x7e) {
          tilde = true;
          continue;
        }
        out.push(b);
        lineStart = b === 0x0d || b === 0x0a;
      }
      if (out.length) sock.write(Buffer.from(out));
    };
    const onInputEnd = (): void => end("input-ended");
    sock.on("data", onOutput);
    sock.once("close", () => end("console-closed"));
    sock.on("error", () => end("console-closed"));
    input.on("data", onInput);
    input.once("end", onInputEnd);
  });
}
