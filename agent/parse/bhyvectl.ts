/**
 * bhyvectl(8) output. `--get-active-cpus` prints one line, `active cpus:` then a tab and the
 * vCPUs the kernel has activated (vm_active_cpus), each after a space and separated by commas
 * (" 0, 1, 2"), or " (none)" (bhyvectl.c, print_cpus). bhyve activates its vCPUs as the last step
 * of its initialisation, after memory, the bootrom, every PCI device (passthrough included) and the
 * framebuffer are set up (bhyverun.c, main: "Add all vCPUs"), so a VM with active vCPUs has a bhyve
 * past the failures that it reports at start.
 */

/** The vCPUs that `bhyvectl --get-active-cpus` lists (empty for "(none)"), or null when the text has no such line. */
export function parseActiveCpus(text: string): number[] | null {
  const line = text.split("\n").find((l) => l.startsWith("active cpus:"));
  if (line === undefined) return null;
  const rest = line.slice("active cpus:".length).trim();
  if (rest === "(none)") return [];
  const cpus = rest.split(",").map((c) => c.trim());
  return cpus.every((c) => /^\d{1,4}$/.test(c)) ? cpus.map(Number) : null;
}
