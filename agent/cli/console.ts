/**
 * `bhyve-agent console GUEST [--log] [--root DIR]`: attaches this terminal to the guest's serial
 * console (served by its monitor; `~.` detaches), or with --log prints what the guest has printed
 * (the monitor's bounded console log, the older half first).
 */
import { connectConsole, readConsoleLog, relayConsole } from "../guests/console.js";
import { consoleSocket } from "../guests/monitor-spec.js";
import { GUEST_NAME } from "../model/decode.js";
import { UserError } from "./errors.js";
import { hostOptions } from "./options.js";

export async function consoleCommand(args: string[]): Promise<number> {
  const usage = "usage: bhyve-agent console GUEST [--log] [--root DIR]";
  const log = args.includes("--log");
  const o = hostOptions(args.filter((a) => a !== "--log"), usage);
  const [name, ...rest] = o.operands;
  if (name === undefined || rest.length || !GUEST_NAME.test(name)) throw new UserError(usage, "E_USAGE", 64);
  if (log) {
    const text = readConsoleLog(o.paths.guestLogDir(name));
    if (text === null) throw new UserError(`guest ${name} has no console log (it never ran with a console)`, "E_NO_CONSOLE");
    process.stdout.write(text);
    return 0;
  }
  const sock = await connectConsole(consoleSocket({ runDir: o.paths.guestRunDir(name) }), name);
  const tty = process.stdin.isTTY === true;
  process.stderr.write(`[attached to guest ${name}'s console; ~. detaches]\r\n`);
  if (tty) process.stdin.setRawMode(true);
  try {
    const how = await relayConsole(sock, process.stdin, process.stdout);
    process.stderr.write(`\r\n[${how === "detached" ? "detached" : how === "console-closed" ? "the console closed (the guest's monitor stopped)" : "input ended"}]\r\n`);
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  return 0;
}
