/**
 * bhyvectl(8) output. `--get-active-cpus` and `--get-debug-cpus` each print one line, `active
 * cpus:` or `debug cpus:`, a tab, then the vCPUs of that set (vm_active_cpus, vm_debug_cpus), each
 * after a space and separated by commas (" 0, 1, 2"), or " (none)" (bhyvectl.c, print_cpus).
 *
 * What they tell of a starting bhyve (bhyverun.c, main): it activates its vCPUs after memory, the
 * bootrom and every PCI device (passthrough, the framebuffer) are set up. On 14.x and 15 each vCPU
 * is activated and at once suspended (vm_suspend_cpu: the debug set); the boot vCPU is resumed as
 * the very last step, after the guest's tables are built and bhyve entered capability mode. On
 * 13.x the boot vCPU is activated last and never suspended. Either way, vCPU 0 active and not in
 * the debug set means bhyve got through its start. The application processors stay in the debug
 * set until the guest starts them.
 */

/** The vCPUs that the `label` line ("active cpus", "debug cpus") lists (empty for "(none)"), or null when the text has no such line. */
export function parseCpuSet(text: string, label: "active cpus" | "debug cpus"): number[] | null {
  const line = text.split("\n").find((l) => l.startsWith(`${label}:`));
  if (line === undefined) return null;
  const rest = line.slice(label.length + 1).trim();
  if (rest === "(none)") return [];
  const cpus = rest.split(",").map((c) => c.trim());
  return cpus.every((c) => /^\d{1,4}$/.test(c)) ? cpus.map(Number) : null;
}

/** Whether `bhyvectl --get-active-cpus --get-debug-cpus` says the boot vCPU runs: active, and not held in the debug set. */
export function bootCpuRunning(text: string): boolean {
  const active = parseCpuSet(text, "active cpus");
  const debug = parseCpuSet(text, "debug cpus");
  return active !== null && debug !== null && active.includes(0) && !debug.includes(0);
}
