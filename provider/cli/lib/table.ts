/** Plain-text tables for the commands' output. */

/** Rows as aligned columns two spaces apart, each line starting with `indent`, trailing spaces trimmed. */
export function table(rows: string[][], indent = ""): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `${indent}${r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`.trimEnd()).join("\n");
}
