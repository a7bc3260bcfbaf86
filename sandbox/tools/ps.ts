/**
 * Simulated ps(1), for the form the agent uses: `ps -ax -o pid= -o command=` (also `-axww`). The
 * sandbox's processes that stand for the kernel's are its bhyves: each shows as FreeBSD's bhyve
 * does after setproctitle, `bhyve: NAME (bhyve)`. The host's other processes are not simulated.
 */
import { readMachine } from "../machine.js";
import { runningPid } from "../vm.js";
import { getopt, type ToolIO } from "./tool.js";

const USAGE = "usage: ps [--libxo] [-aCcdefHhjlmrSTuvwXxZ] [-O fmt | -o fmt]\n          [-G gid[,gid...]] [-J jid[,jid...]] [-M core] [-N system]\n          [-p pid[,pid...]] [-t tty[,tty...]] [-U user[,user...]]\n       ps [--libxo] -L\n";

/** Simulated ps. */
export function ps(io: ToolIO): number {
  const g = getopt(io.args, "axwo:");
  if ("bad" in g || g.operands.length) {
    io.err(`${"bad" in g ? `ps: illegal option -- ${g.bad}\n` : ""}${USAGE}`);
    return 1;
  }
  const fields = g.opts.filter(([o]) => o === "o").flatMap(([, v]) => v.split(","));
  const known = ["pid=", "command=", "args=", "pid", "command", "args"];
  const bad = fields.find((f) => !known.includes(f));
  if (bad !== undefined) {
    io.err(`ps: ${bad.replace(/=$/, "")}: keyword not found\nps: no valid keywords; valid keywords:\n`);
    return 1;
  }
  const cols = fields.length ? fields.map((f) => f.replace(/=$/, "")) : ["pid", "command"];
  const header = fields.length && fields.every((f) => f.endsWith("=")) ? "" : `${cols.map((c) => (c === "pid" ? "  PID" : c.toUpperCase())).join(" ")}\n`;
  const m = readMachine(io.root);
  const rows = Object.values(m.vms).flatMap((vm) => {
    const pid = runningPid(vm);
    return pid === null ? [] : [{ pid, command: `bhyve: ${vm.name} (bhyve)` }];
  }).sort((a, b) => a.pid - b.pid);
  io.out(header + rows.map((r) => `${cols.map((c) => (c === "pid" ? String(r.pid).padStart(5) : r.command)).join(" ")}\n`).join(""));
  return 0;
}
