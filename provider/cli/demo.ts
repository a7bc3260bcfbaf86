/**
 * `cdktf-bhyve demo` on the embedded default: the GPU host example document, shown as a reviewer
 * sees it (loader.conf settings, reservations, each guest's bhyve command line), then a broken
 * variant of it, to show a mistake stopped before it reaches a host.
 */
import exampleDocument from "../../examples/gpu-host/host.yaml";
import { checkDocumentText } from "../../agent/spec/document.js";
import { formatBsf } from "../../agent/spec/pci-address.js";
import { formatProblems } from "../../agent/spec/problems.js";
import { guestSlots, renderBhyveArgv, renderBhyveloadArgv, renderLoaderConf } from "../../agent/spec/render.js";
import { formatSize } from "../../agent/spec/size.js";
import type { DesiredState } from "../../agent/spec/types.js";

const hex = (n: number | undefined): string => (n === undefined ? "-" : n.toString(16).padStart(4, "0"));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`.trimEnd()).join("\n");
}

function describeState(state: DesiredState): string {
  const lines: string[] = [];
  lines.push("loader.conf settings the agent manages (inside its marked block):");
  for (const [name, value] of renderLoaderConf(state)) lines.push(`  ${name}="${value}"`);
  lines.push("", "devices reserved for passthrough:");
  const rows = [["DEVICE", "VENDOR:DEVICE", "BIND", "GUEST", "GUEST SLOT"]];
  for (const p of state.ppt) {
    const users = state.guests.flatMap((g) =>
      g.passthru.filter((t) => formatBsf(t.device) === formatBsf(p.device)).map((t) => [g.name, `${t.slot}:${t.function}`]),
    );
    const [guest, slot] = users[0] ?? ["(unused)", "-"];
    rows.push([formatBsf(p.device), `${hex(p.vendorId)}:${hex(p.deviceId)}`, p.bind, guest!, slot!]);
  }
  lines.push(table(rows));
  for (const g of [...state.guests].sort((a, b) => a.startOrder - b.startOrder || a.name.localeCompare(b.name))) {
    lines.push("", `guest ${g.name}: ${g.cpus} vCPU, ${formatSize(g.memory)}${g.wired ? " wired" : ""}, ` +
      `${g.bootrom ? "UEFI" : "bhyveload"}, ${g.state}, restart ${g.restart}, start order ${g.startOrder}`);
    for (const e of guestSlots(g)) {
      const what = e.kind === "passthru" ? `passthru ${formatBsf(e.item.device)}` : e.kind === "disk" ? `${e.item.type} ${e.item.path}` : `${e.item.model} ${e.item.tap}`;
      lines.push(`  slot ${e.slot}:${e.function}  ${what}`);
    }
    const load = renderBhyveloadArgv(g);
    if (load) lines.push(`  $ ${load.join(" ")}`);
    lines.push(`  $ ${renderBhyveArgv(g).join(" ")}`);
  }
  return lines.join("\n");
}

/** Runs the demo; returns the exit code. */
export async function demoCommand(): Promise<number> {
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  out("cdktf-bhyve demo: the GPU host example (examples/gpu-host/host.yaml)\n");
  const good = checkDocumentText(exampleDocument);
  if (!good.ok) {
    process.stderr.write(`the embedded example is invalid:\n${formatProblems(good.problems)}\n`);
    return 1;
  }
  out(describeState(good.state));

  out("\nThe same document with two mistakes: the GPU's audio function handed to the second guest, and the");
  out("first guest's disk moved into the GPU's slot. It is refused before anything reaches a host:\n");
  const broken = exampleDocument
    .replace("- { device: 3/0/0, slot: 6 }\n      - { device: 3/0/1, slot: 6 }", "- { device: 3/0/0, slot: 6 }")
    .replace("- { device: 4/0/1, slot: 7, function: 0 }", "- { device: 4/0/1, slot: 7, function: 0 }\n      - { device: 3/0/1, slot: 8, function: 0 }")
    .replace("type: nvme }", "type: nvme, slot: 6 }");
  const bad = checkDocumentText(broken);
  if (bad.ok) {
    process.stderr.write("the broken variant was accepted; the demo expected it to be refused\n");
    return 1;
  }
  out(formatProblems(bad.problems).replace(/^/gm, "  "));
  out("\nDeploying this to hosts (sandbox hosts behind SSH, through Terraform) is not built yet; this demo covers");
  out("the desired-state model: validation and what the host will be given.");
  return 0;
}
