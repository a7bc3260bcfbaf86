/**
 * ps(1) `-ax -o pid= -o command=`: the bhyve processes by VM name. bhyve replaces its process
 * arguments with the VM's name (setproctitle("%s", vmname) in bhyverun.c), so ps shows
 * `bhyve: NAME (bhyve)` and not the command line: the process table gives the pid of a VM's
 * bhyve, never its arguments.
 */

/** VM name → pid of its bhyve, from ps's lines (a name seen twice keeps the first). */
export function parseBhyveTitles(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+bhyve: (\S+)(?: \(bhyve\))?\s*$/.exec(line);
    if (m && !out.has(m[2]!)) out.set(m[2]!, Number(m[1]));
  }
  return out;
}
