/**
 * What vm-bhyve leaves on a host, read: rc.conf's vm_dir and vm_list, a guest's NAME.conf (read the
 * way vm-bhyve's config::load reads it), and from its vm-bhyve.log the bhyve command line of the
 * run going on now. bhyve sets its process title to the VM name, so the process table cannot give a
 * running VM's arguments; vm-bhyve's log lines are where they are written down. Also ps's process
 * table with parents, to tell which process supervises a bhyve. Pure parsers.
 */

/**
 * The value rc.conf-style files give a variable (they are sourced by sh: the last assignment wins),
 * for the simple forms rc.conf holds: `name=value`, `name="value"`, `name='value'`, with a comment
 * after. Undefined when no line assigns it.
 */
export function rcConfValue(text: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|([^\s#"';]*))\s*(?:#.*)?$/.exec(line);
    if (m && m[1] === name) value = m[2] ?? m[3] ?? m[4] ?? "";
  }
  return value;
}

/**
 * A vm-bhyve guest configuration or system.conf as vm-bhyve reads it (config::load, config::get):
 * only lines that start with a lower-case letter, cut at the first `#` (even inside quotes),
 * trailing spaces off (`sed 's@ *$@@'`: spaces only), every double quote deleted; the key is the
 * text before the first `=` (a line without one is its own key and value), the first line of a key
 * wins, empty lines are none.
 */
export function parseVmBhyveConf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    if (!/^[a-z]/.test(raw)) continue;
    const line = raw.split("#")[0]!.replace(/ *$/, "").replaceAll('"', "");
    if (line === "") continue;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line : line.slice(0, eq);
    if (!out.has(key)) out.set(key, eq < 0 ? line : line.slice(eq + 1));
  }
  return out;
}

/** vm-bhyve's yes/no (util::yesno): empty, no, false, off and 0 (any case) are no; anything else yes. */
export function vmBhyveYes(value: string | undefined): boolean {
  return value !== undefined && value !== "" && !/^(no|false|off|0)$/i.test(value);
}

/** rc.subr's checkyesno: YES, TRUE, ON or 1, in any case. */
export function rcYes(value: string | undefined): boolean {
  return /^(yes|true|on|1)$/i.test(value ?? "");
}

/** The run of a guest that vm-bhyve's log shows, read from the lines of its latest `_run`. */
export interface VmBhyveRun {
  /** `starting bhyve (run N)`'s N. */
  readonly run: number;
  /** That line's time stamp as written (`MMM DD HH:MM:SS`, the host's local time, no year). */
  readonly stamp: string;
  /** Whether the log says this bhyve is still going (no exit and no stop after its start). */
  readonly open: boolean;
  /** bhyve's argv as vm-bhyve ran it: `bhyve OPTIONS DEVICES [ISO] CONSOLE NAME`, split at blanks as sh does. */
  readonly argv: string[];
}

/**
 * The latest bhyve start in a vm-bhyve.log (`MMM DD HH:MM:SS: message`; details as ` [bhyve options: ...]`),
 * or null when the log shows none. Each `initialising` begins a new `_run`; its detail lines say
 * what the next start runs, `bhyve exited with status N` or `stopped` ends it.
 */
export function latestVmBhyveRun(log: string, name: string): VmBhyveRun | null {
  let parts: Record<string, string> = {};
  let latest: VmBhyveRun | null = null;
  for (const line of log.split("\n")) {
    const m = /^([A-Z][a-z]{2} [ 0-3]\d \d\d:\d\d:\d\d): (.*)$/.exec(line);
    if (!m) continue;
    const msg = m[2]!;
    const detail = /^ \[bhyve (options|devices|iso device|console): (.*)\]$/.exec(msg);
    if (msg === "initialising") {
      parts = {};
    } else if (detail) {
      parts[detail[1]!] = detail[2]!;
    } else {
      const start = /^starting bhyve \(run (\d+)\)$/.exec(msg);
      if (start) {
        const words = (k: string): string[] => (parts[k] ?? "").split(/[ \t\n]+/).filter((w) => w !== "");
        latest = { run: Number(start[1]), stamp: m[1]!, open: true, argv: ["/usr/sbin/bhyve", ...words("options"), ...words("devices"), ...words("iso device"), ...words("console"), name] };
      } else if (latest && (/^bhyve exited with status \d+$/.test(msg) || msg === "stopped")) {
        latest = { ...(latest as VmBhyveRun), open: false };
      }
    }
  }
  return latest;
}

/** The time of a vm-bhyve log stamp (`MMM DD HH:MM:SS`, local time, no year): the latest such time not after `now` (a day of slack). */
export function vmBhyveStampTime(stamp: string, now: Date): number | null {
  const m = /^([A-Z][a-z]{2}) ([ 0-3]\d) (\d\d):(\d\d):(\d\d)$/.exec(stamp);
  const month = m ? ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].indexOf(m[1]!) : -1;
  if (!m || month < 0) return null;
  for (const year of [now.getFullYear(), now.getFullYear() - 1]) {
    const t = new Date(year, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime();
    if (t <= now.getTime() + 86_400_000) return t;
  }
  return null;
}

/** One process of `ps -axww -o pid= -o ppid= -o uid= -o etimes= -o command=`. */
export interface PsProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  /** Seconds since it started. */
  readonly etimes: number;
  readonly command: string;
}

/** The `ps` arguments whose output {@link parsePsTable} reads (-ww: the command never cut). */
export const PS_TABLE_ARGS = ["-axww", "-o", "pid=", "-o", "ppid=", "-o", "uid=", "-o", "etimes=", "-o", "command="];

/** The lines of `ps -axww -o pid= -o ppid= -o uid= -o etimes= -o command=`. */
export function parsePsTable(text: string): PsProcess[] {
  const out: PsProcess[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), ppid: Number(m[2]), uid: Number(m[3]), etimes: Number(m[4]), command: m[5]!.trim() });
  }
  return out;
}

/** The processes titled as VM `name`'s bhyve (setproctitle: `bhyve: NAME`, FreeBSD's ps adds ` (bhyve)`), whoever runs them. */
export function bhyvesOf(table: readonly PsProcess[], name: string): PsProcess[] {
  return table.filter((p) => p.command === `bhyve: ${name}` || p.command === `bhyve: ${name} (bhyve)`);
}

/** VM `name`'s bhyve: the one process with its title, run by root (anyone may set any title on a process of theirs); undefined otherwise. */
export function bhyveOf(table: readonly PsProcess[], name: string): PsProcess | undefined {
  const all = bhyvesOf(table, name);
  return all.length === 1 && all[0]!.uid === 0 ? all[0] : undefined;
}

/** Whether a process is vm-bhyve's runner of guest `name`: root's `/bin/sh /usr/local/sbin/vm [-f|-t...] _run [-f...] NAME [ISO]`. */
export function isVmBhyveRunner(p: PsProcess, name: string): boolean {
  const w = p.command.split(/\s+/);
  if (p.uid !== 0 || w[0] !== "/bin/sh" || w[1] !== "/usr/local/sbin/vm") return false;
  const rest = w.slice(2).filter((x) => !x.startsWith("-"));
  return rest[0] === "_run" && rest[1] === name;
}
