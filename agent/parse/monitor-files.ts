/** The files bhyve-monitor writes: its status (`key=value` lines) and its events (one line each). */

/** Parses the monitor's status file (`key=value` lines). */
export function parseMonitorStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** One line of the monitor's events file. */
export interface MonitorEvent {
  readonly at: string;
  readonly event: string;
  readonly fields: Record<string, string>;
}

/** Parses the monitor's events file: `TIME event=NAME key=value …` (values may be "quoted"). */
export function parseMonitorEvents(text: string): MonitorEvent[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const [at, ...rest] = line.split(" ");
    const fields: Record<string, string> = {};
    for (const m of rest.join(" ").matchAll(/(\w+)=("([^"]*)"|\S*)/g)) fields[m[1]!] = m[3] ?? m[2]!;
    const { event = "", ...others } = fields;
    return { at: at!, event, fields: others };
  });
}
