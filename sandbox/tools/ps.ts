/**
 * Simulated ps(1), for the forms the agent and the tests use: `ps -ax -o pid= -o command=`,
 * `ps -axww -o pid= -o ppid= -o uid= -o etimes= -o command=` (also `-o pid,ppid,command`), and `-p PID[,PID]`
 * (or PIDs as operands). The sandbox's processes that stand for the host's are its bhyves, shown
 * as FreeBSD's bhyve is after setproctitle, `bhyve: NAME (bhyve)`, and the vm-bhyve runners,
 * `/bin/sh /usr/local/sbin/vm _run NAME` (sandbox/vm-bhyve.ts). The host's other processes are not
 * simulated. A process's ppid is its parent now (a bhyve whose runner was killed has a new one);
 * its uid is 0 (they stand for root's processes); etimes the seconds since it started.
 *
 * Output as FreeBSD 13+'s ps formats it: columns separated by one space, each as wide as its
 * header or its widest value, numbers right-aligned, COMMAND left-aligned and unpadded when last;
 * no header line when every header is empty (`pid=`). A pid column is at least five wide: on a
 * real host the processes the sandbox does not simulate have pids of up to five digits
 * (kern.pid_max is 99999), and they set the width. `-p` with no such process prints the header
 * alone and exits 1.
 */
import { readMachine, type MachineState } from "../machine.js";
import { liveRunners, parentPid, runningPid } from "../vm.js";
import { getopt, type ToolIO } from "./tool.js";

const USAGE = "usage: ps [--libxo] [-aCcdefHhjlmrSTuvwXxZ] [-O fmt | -o fmt]\n          [-G gid[,gid...]] [-J jid[,jid...]] [-M core] [-N system]\n          [-p pid[,pid...]] [-t tty[,tty...]] [-U user[,user...]]\n       ps [--libxo] -L\n";

/** The keywords the sandbox knows: header, and whether the column is a number (right-aligned). */
const KEYWORDS: Record<string, { header: string; numeric: boolean }> = {
  pid: { header: "PID", numeric: true },
  ppid: { header: "PPID", numeric: true },
  // The processes the sandbox simulates stand for root's on the host.
  uid: { header: "UID", numeric: true },
  // Elapsed time since the process started, in seconds (keyword.c: etimes, header ELAPSED).
  etimes: { header: "ELAPSED", numeric: true },
  command: { header: "COMMAND", numeric: false },
  // keyword.c: args is an alias of command.
  args: { header: "COMMAND", numeric: false },
};

/** One process as ps sees it. */
interface Row {
  pid: number;
  ppid: number;
  /** When it started (ms since the epoch). */
  started: number;
  command: string;
}

/** The sandbox's processes that stand for the host's: bhyves and vm-bhyve runners. */
function processes(m: MachineState): Row[] {
  const bhyves = Object.values(m.vms).flatMap((vm) => {
    const pid = runningPid(vm);
    return pid === null ? [] : [{ pid, ppid: parentPid(pid, vm.process?.ppid ?? 1), started: Date.parse(vm.process!.startedAt), command: `bhyve: ${vm.name} (bhyve)` }];
  });
  // `vm start` runs `$0 _run NAME "$_iso"`: ps leaves out the empty argument (fmt.c shquote()).
  const runners = liveRunners(m).map((r) => ({ pid: r.pid, ppid: parentPid(r.pid, r.ppid), started: Date.parse(r.startedAt), command: `/bin/sh /usr/local/sbin/vm _run ${r.vm}` }));
  return [...bhyves, ...runners].sort((a, b) => a.pid - b.pid);
}

/**
 * parsefmt(): a format is split at blanks and commas, except that an item with `=` takes the rest
 * of the argument as its header. Returns the columns and the unknown keywords (warned about).
 */
function parseFormat(arg: string): { cols: Array<{ key: string; header: string }>; unknown: string[] } {
  const cols: Array<{ key: string; header: string }> = [];
  const unknown: string[] = [];
  let rest = arg;
  while (rest.length > 0) {
    const sep = rest.search(/[\s,=]/);
    let item: string;
    if (sep >= 0 && rest[sep] === "=") {
      item = rest;
      rest = "";
    } else {
      item = sep < 0 ? rest : rest.slice(0, sep);
      rest = sep < 0 ? "" : rest.slice(sep + 1);
      if (item === "") continue;
    }
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    const kw = KEYWORDS[key];
    if (!kw) unknown.push(key);
    else cols.push({ key, header: eq < 0 ? kw.header : item.slice(eq + 1) });
  }
  return { cols, unknown };
}

/** add_list() for `-p`: pids split at blanks and commas; the complaint for one that is not a pid. */
function addPids(list: number[], arg: string): string | null {
  for (const item of arg.split(/[\s,]+/).filter(Boolean)) {
    if (!/^\d+$/.test(item)) return `ps: Invalid process id: ${item}\n`;
    list.push(Number(item));
  }
  return null;
}

/** Simulated ps. */
export function ps(io: ToolIO): number {
  const g = getopt(io.args, "Aaxwo:p:");
  if ("bad" in g) {
    io.err(`ps: illegal option -- ${g.bad}\n${USAGE}`);
    return 1;
  }
  const pids: number[] = [];
  let pidSelect = false;
  const cols: Array<{ key: string; header: string }> = [];
  let status = 0;
  let warnings = "";
  for (const [o, v] of g.opts) {
    if (o === "p") {
      pidSelect = true;
      const bad = addPids(pids, v);
      if (bad) {
        io.err(bad);
        return 1;
      }
    } else if (o === "o") {
      const f = parseFormat(v);
      cols.push(...f.cols);
      for (const k of f.unknown) warnings += `ps: ${k}: keyword not found\n`;
      if (f.unknown.length) status = 1;
    }
  }
  // Operands that are numbers are pids (ps.c); anything else is an illegal argument.
  for (const operand of g.operands) {
    if (!/^\d/.test(operand)) {
      io.err(`ps: illegal argument: ${operand}\n\n${USAGE}`);
      return 1;
    }
    pidSelect = true;
    const bad = addPids(pids, operand);
    if (bad) {
      io.err(bad);
      return 1;
    }
  }
  const usedFormat = g.opts.some(([o]) => o === "o");
  if (usedFormat && cols.length === 0) {
    io.err(`${warnings}ps: no valid keywords; valid keywords:\n`);
    return 1;
  }
  io.err(warnings);
  const columns = usedFormat ? cols : [{ key: "pid", header: "PID" }, { key: "command", header: "COMMAND" }];
  const rows = processes(readMachine(io.root)).filter((r) => !pidSelect || pids.includes(r.pid));
  const now = Date.now();
  const value = (r: Row, key: string): string => {
    if (key === "pid") return String(r.pid);
    if (key === "ppid") return String(r.ppid);
    if (key === "uid") return "0";
    if (key === "etimes") return String(Math.max(0, Math.floor((now - r.started) / 1000)));
    return r.command;
  };
  const widths = columns.map((c) => Math.max(c.header.length, KEYWORDS[c.key]!.numeric ? 5 : 0, ...rows.map((r) => value(r, c.key).length)));
  const line = (cells: string[]): string =>
    `${cells.map((text, i) => {
      const c = columns[i]!;
      if (KEYWORDS[c.key]!.numeric) return text.padStart(widths[i]!);
      return i === columns.length - 1 ? text : text.padEnd(widths[i]!);
    }).join(" ")}\n`;
  const header = columns.every((c) => c.header === "") ? "" : line(columns.map((c) => c.header));
  io.out(header + rows.map((r) => line(columns.map((c) => value(r, c.key)))).join(""));
  return pidSelect && rows.length === 0 ? 1 : status;
}
