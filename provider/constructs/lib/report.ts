/**
 * cdktf.out/passthru.md: on every synth, the passthrough of every host in words a reviewer reads:
 * each reserved device, the guest and slot it goes to, the pptdevs lines loader.conf will get, and
 * each guest's bhyve command line. A pull request that changes passthrough changes this file.
 */
import { instanceId } from "../../../agent/model/cloud-init.js";
import { formatSize } from "../../../agent/model/size.js";
import { App, Aspects, TerraformStack, Token, type IAspect } from "cdktf";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IConstruct } from "constructs";
import { renderBhyveArgv, renderLoaderConf } from "../../../agent/model/render.js";
import { formatBsf } from "../../../agent/model/pci-address.js";
import type { BhyveHost } from "./host.js";
import { assertOwnApp } from "./documents.js";

const registered = new WeakSet<TerraformStack>();

function cell(v: unknown): string {
  const s = typeof v === "string" && Token.isUnresolved(v) ? "(known at apply)" : String(v ?? "");
  return s.replace(/\|/g, "\\|");
}

/** The report's text for the hosts of an app. */
export function passthruReport(hosts: readonly BhyveHost[]): string {
  const lines = ["# Passthrough", "", "Written by cdktf-bhyve at every synth. Review it like code: it is what the hosts will be given.", ""];
  if (hosts.length === 0) lines.push("No bhyve hosts in this app.");
  for (const h of hosts) {
    lines.push(`## ${cell(h.address)} (${h.node.path})`, "");
    if (h.devices.length === 0) lines.push("No devices reserved.", "");
    else {
      lines.push("| Device | Vendor:Device | Bind | Guest | Guest slot |", "|---|---|---|---|---|");
      for (const d of h.devices) {
        const uses = h.guests.flatMap((g) => (g.props.passthru ?? []).filter((p) => (typeof p.device === "string" ? p.device === d.bsf || p.device === d.device : p.device === d)).map((p) => ({ g, p })));
        const fn = (p: { function?: number }) => (p.function !== undefined ? p.function : Number(d.bsf.split("/")[2] ?? 0));
        const guest = uses.map(({ g }) => cell(g.name)).join(", ") || "(unused)";
        const slot = uses.map(({ p }) => `${p.slot}:${fn(p)}`).join(", ") || "-";
        const ids = d.toDocument();
        lines.push(`| ${cell(d.bsf)} | ${cell(ids.vendor_id ?? "-")}:${cell(ids.device_id ?? "-")} | ${d.props.bind ?? "boot"} | ${guest} | ${slot} |`);
      }
      lines.push("");
    }
    const r = h.check();
    if (!r.ok) {
      lines.push("**Not valid**: synth fails with:", "", ...r.problems.map((p) => `- \`${p.path}\`: ${p.message}`), "");
      continue;
    }
    if (r.state.switches.length) {
      lines.push("| Switch | Uplink | VLAN | MTU | Guests |", "|---|---|---|---|---|");
      for (const w of r.state.switches) {
        const on = r.state.guests.filter((g) => g.nics.some((n) => n.switch === w.name)).map((g) => cell(g.name)).join(", ") || "(none)";
        lines.push(`| ${cell(w.name)} | ${cell(w.uplink ?? "(host only)")} | ${w.vlan ?? "-"} | ${w.mtu ?? "-"} | ${on} |`);
      }
      lines.push("");
    }
    lines.push("loader.conf (managed block; `hw.vmm.amdvi.enable` is added on AMD hosts):", "", "```");
    for (const [k, v] of renderLoaderConf(r.state)) lines.push(`${k}="${v}"`);
    lines.push("```", "");
    for (const g of r.state.guests) {
      const pt = g.passthru.map((p) => `${formatBsf(p.device)} at ${p.slot}:${p.function}`).join(", ");
      const sw = [...new Set(g.nics.flatMap((n) => (n.switch !== undefined ? [n.switch] : [])))].join(", ");
      const fb = g.framebuffer;
      const screen = fb ? `framebuffer ${fb.width}x${fb.height}${fb.wait ? ", boot held until a viewer connects" : ""}, VNC on ${fb.listen}:${fb.port ?? "a port the agent allocates from 5900 ({vnc-port} below)"}` : "";
      const notes = [pt ? `passthrough: ${pt}` : "", sw ? `switches: ${sw}, each NIC on a tap the agent allocates ({switch:NAME} below)` : "", screen, g.console ? "" : "no serial console"].filter(Boolean).join("; ");
      lines.push(`Guest \`${g.name}\`${notes ? ` (${notes})` : ""}:`, "", "```", renderBhyveArgv(g).join(" "), "```", "");
      const made = g.disks.filter((d) => d.managed);
      if (made.length) {
        lines.push("| Disk the agent makes | Size | Made as | On delete |", "|---|---|---|---|");
        for (const d of made) {
          const m = d.managed!;
          const size = m.size !== undefined ? formatSize(m.size) : "the snapshot's";
          const as = m.kind === "file" ? "sparse file" : m.clone !== undefined ? `clone of ${cell(m.clone)}` : `${m.sparse ? "sparse" : "reserved"} volume${m.volblocksize !== undefined ? `, volblocksize ${formatSize(m.volblocksize)}` : ""}`;
          lines.push(`| ${cell(m.kind === "zvol" ? m.dataset! : d.path)} | ${size} | ${as} | ${m.onDelete === "destroy" ? "**destroyed** with the guest" : "kept"} |`);
        }
        lines.push("");
      }
      if (g.cloudInit) lines.push(`cloud-init seed: instance-id \`${instanceId(g.name, g.cloudInit)}\` (changes with its content).`, "");
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Whether a construct is a BhyveHost, also one made by another copy of this module (a brand, not instanceof). */
function isBhyveHost(c: unknown): c is BhyveHost {
  return typeof c === "object" && c !== null && (c as { isBhyveHost?: unknown }).isBhyveHost === true;
}

class ReportAspect implements IAspect {
  constructor(private readonly app: App) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformStack)) return;
    const hosts = this.app.node.findAll().filter(isBhyveHost);
    mkdirSync(this.app.outdir, { recursive: true });
    writeFileSync(join(this.app.outdir, "passthru.md"), passthruReport(hosts));
  }
}

/** Makes the host's stack write the app's passthru.md when it synthesizes (once per stack). */
export function attachReport(host: BhyveHost): void {
  const app = App.of(host);
  const stack = TerraformStack.of(host);
  if (registered.has(stack)) return;
  assertOwnApp(host, app);
  registered.add(stack);
  Aspects.of(stack).add(new ReportAspect(app));
}
