/**
 * The CDKTF app `cdktf-bhyve adopt` writes for a host: the host, its ppt reservations (from
 * loader.conf's pptdevs, whoever wrote them), each VM the agent did not create that can be taken
 * over as it runs (a Guest with adopt: true and every field that makes it render to the command
 * line that runs), the rest of the VMs as comments saying why they are left alone, and what the
 * agent already manages (its stored document) with import statements. Pure: the files as text.
 */
import type { ForeignReport } from "../../../agent/guests/adopt.js";
import type { HostFacts } from "../../../agent/host/facts.js";
import { formatBsf, parsePciAddress } from "../../../agent/model/pci-address.js";
import { GUEST_NAME } from "../../../agent/model/decode.js";
import { camelCase } from "../../resources/document-map.js";

/** What the generator reads. */
export interface AdoptInput {
  readonly address: string;
  readonly hostKey: string;
  readonly sshUser?: string;
  readonly report: ForeignReport;
  readonly facts: Pick<HostFacts, "pci">;
  /** The agent's stored document and whether it manages the host settings (host.document). */
  readonly managed: { readonly document: Record<string, unknown>; readonly managed: boolean };
  readonly agentVersion: string;
  /** When it was generated (ISO time), for the header. */
  readonly at: string;
  /** The CDK the app is written for: CDKTF (cdktf 0.21, the default) or CDK Terrain (cdktn 0.24). */
  readonly flavour?: "cdktf" | "cdktn";
}

/** A value printed as code as it is (a variable name). */
class Code {
  constructor(readonly text: string) {}
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** A comment's text on one line: no line terminators JavaScript knows, no control characters, no end of a block comment. */
function commentText(s: string): string {
  return String(s).replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").replace(/\*\//g, "* /");
}

/** A device the report names, as B/S/F (null when it is not one: the report came from a host, and is checked as input). */
function bsfOf(v: unknown): string | null {
  const r = typeof v === "string" ? parsePciAddress(v) : null;
  return r?.ok ? formatBsf(r.address) : null;
}

/** A TypeScript literal of a JSON-like value, objects with unquoted keys where they can be. */
function literal(v: unknown, indent: string): string {
  if (v instanceof Code) return v.text;
  if (typeof v === "string") return JSON.stringify(v).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  if (typeof v === "number" || typeof v === "boolean" || v === null) return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const parts = v.map((x) => literal(x, inner));
    const flat = `[${parts.join(", ")}]`;
    return flat.length <= 100 && !flat.includes("\n") ? flat : `[\n${parts.map((p) => `${inner}${p},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  const parts = entries.map(([k, x]) => `${IDENT.test(k) ? k : JSON.stringify(k)}: ${literal(x, inner)}`);
  const flat = `{ ${parts.join(", ")} }`;
  return flat.length <= 100 && !flat.includes("\n") ? flat : `{\n${parts.map((p) => `${inner}${p},`).join("\n")}\n${indent}}`;
}

/** A document value with the construct props' names (snake_case keys to camelCase, deeply). */
function props(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(props);
  if (v !== null && typeof v === "object" && !(v instanceof Code)) return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [camelCase(k), props(x)]));
  return v;
}

/** A guest document's fields at their defaults left out, so that the code reads like one written by hand. */
function withoutDefaults(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  const passthru = Array.isArray(doc.passthru) ? doc.passthru : [];
  const drop = (k: string, dflt: unknown): void => {
    if (JSON.stringify(out[k]) === JSON.stringify(dflt)) delete out[k];
  };
  drop("wired", passthru.length > 0);
  drop("rtc", "utc");
  drop("ignore_unknown_msrs", false);
  drop("exit_on_pause", true);
  drop("hostbridge", "standard");
  drop("console", true);
  drop("uefi_vars", doc.bootrom !== undefined);
  drop("state", "running");
  drop("restart", "on-reboot");
  drop("start_order", 0);
  for (const k of ["disks", "nics", "passthru"]) drop(k, []);
  return out;
}

const pptVar = (bsf: string): string => `ppt_${bsf.replace(/\//g, "_")}`;

/** The files of the app: main.ts, cdktf.json, package.json. */
export function adoptedApp(input: AdoptInput): { files: Record<string, string>; adopted: string[]; left: string[]; imported: string[] } {
  const { report } = input;
  const doc = input.managed.document;
  const docGuests = (Array.isArray(doc.guests) ? doc.guests : []) as Array<Record<string, unknown>>;
  const docPpt = (Array.isArray(doc.ppt) ? doc.ppt : []) as Array<Record<string, unknown>>;
  const lines: string[] = [];
  const imported: string[] = [];
  const adopted: string[] = [];
  const left: string[] = [];
  const say = (s = ""): void => {
    lines.push(s ? `    ${s}` : "");
  };
  // The host: with an import when the agent already manages its settings.
  const stored = input.managed.managed && doc.host && typeof doc.host === "object" ? (props(doc.host) as Record<string, unknown>) : {};
  const hostSettings = Object.fromEntries(Object.entries(stored).filter(([k]) => k === "vmmLoad" || k === "amdviEnable"));
  say(`const host = new BhyveHost(this, "host", ${literal({ address: new Code("ADDRESS"), hostKey: new Code("HOST_KEY"), ...hostSettings }, "    ")});`);
  if (input.managed.managed) {
    say(`host.resource?.importFrom(ADDRESS);`);
    imported.push(`bhyve_host ${input.address}`);
  }
  // Reservations: the agent's (imported), then the rest of loader.conf's pptdevs (reserved for the next boot, as they are).
  const devices = new Map<string, Record<string, unknown>>();
  for (const p of docPpt) {
    const r = typeof p.device === "string" ? parsePciAddress(p.device) : null;
    if (r?.ok) devices.set(formatBsf(r.address), { ...p, device: formatBsf(r.address), imported: true });
  }
  for (const d of report.pptdevs) {
    const bsf = bsfOf(d);
    if (bsf !== null && !devices.has(bsf)) devices.set(bsf, { device: bsf, bind: "boot" });
  }
  // A device an adoptable VM passes through that loader.conf does not name (bound by hand with devctl): reserved live, as it is now.
  for (const vm of report.vms.filter((v) => v.adoptable)) {
    for (const p of (vm.document?.passthru ?? []) as Array<Record<string, unknown>>) {
      const bsf = bsfOf(p.device);
      if (bsf !== null && !devices.has(bsf)) devices.set(bsf, { device: bsf, bind: "live" });
    }
  }
  if (devices.size) {
    say();
    say("// PCI devices reserved for passthrough (loader.conf's pptdevs, and any bound to ppt by hand).");
  }
  for (const [bsf, d] of [...devices].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))) {
    const hw = input.facts.pci.find((p) => p.device === bsf);
    const spec: Record<string, unknown> = { device: bsf };
    if (d.vendor_id !== undefined || hw) spec.vendorId = d.vendor_id ?? hw!.vendor_id;
    if (d.device_id !== undefined || hw) spec.deviceId = d.device_id ?? hw!.device_id;
    spec.bind = d.bind ?? "boot";
    if (hw) say(`// ${bsf}: ${commentText([hw.vendor_name, hw.device_name].filter(Boolean).join(" ") || "unnamed device")}, driver ${hw.driver ? commentText(`${hw.driver}${hw.unit}`) : "none"} now`);
    else say(`// ${bsf}: not present in pciconf now`);
    say(`const ${pptVar(bsf)} = host.reservePpt(${JSON.stringify(`ppt-${bsf.replace(/\//g, "-")}`)}, ${literal(spec, "    ")});`);
    if (d.imported) {
      say(`${pptVar(bsf)}.resource?.importFrom(\`\${ADDRESS}/\` + ${JSON.stringify(bsf)});`);
      imported.push(`bhyve_ppt_device ${bsf}`);
    }
  }
  const guestProps = (g: Record<string, unknown>): Record<string, unknown> => {
    const p = props(withoutDefaults(g)) as Record<string, unknown>;
    if (Array.isArray(p.passthru)) p.passthru = (p.passthru as Array<Record<string, unknown>>).map((x) => ({ ...x, device: devices.has(String(x.device)) ? new Code(pptVar(String(x.device))) : x.device }));
    return { host: new Code("host"), ...p };
  };
  // The guests the agent already has: declared as they are stored, and imported.
  for (const g of docGuests.filter((x) => typeof x.name === "string" && GUEST_NAME.test(x.name))) {
    say();
    say(`// Guest ${String(g.name)}: the agent's already; imported as it is stored.`);
    say(`const ${guestVar(String(g.name))} = new Guest(this, ${JSON.stringify(String(g.name))}, ${literal(guestProps(g), "    ")});`);
    say(`${guestVar(String(g.name))}.resource?.importFrom(\`\${ADDRESS}/\` + ${JSON.stringify(String(g.name))});`);
    imported.push(`bhyve_guest ${String(g.name)}`);
  }
  // The VMs the agent did not create.
  for (const vm of report.vms) {
    say();
    if (typeof vm.name !== "string" || !GUEST_NAME.test(vm.name)) {
      say(`// A VM named ${commentText(JSON.stringify(String(vm.name)).slice(0, 240))} is left alone: it is not a guest name here.`);
      left.push(commentText(String(vm.name)).slice(0, 64));
      continue;
    }
    if (vm.adoptable && vm.document) {
      say(`// VM ${vm.name}: bhyve pid ${Number(vm.pid)}, its command line from ${commentText(vm.argv_from ?? "")}; adopted as it runs, nothing restarts.`);
      for (const n of vm.notes) say(`// Note: ${commentText(n)}`);
      say(`new Guest(this, ${JSON.stringify(vm.name)}, ${literal({ ...guestProps(vm.document), adopt: true }, "    ")});`);
      adopted.push(vm.name);
    } else {
      say(`// VM ${vm.name} is left alone (it is not declared here, and the agent never touches it):`);
      for (const u of vm.unsupported) say(`//   - ${commentText(u)}`);
      if (vm.argv) say(`//   It runs: ${commentText(vm.argv.join(" "))}`);
      left.push(vm.name);
    }
  }
  const cdk = input.flavour ?? "cdktf";
  const stack = `adopted-${input.address.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
  const header = [
    "/**",
    ` * Host ${commentText(input.address)} as cdktf-bhyve adopt read it on ${input.at} (agent ${commentText(input.agentVersion)}, FreeBSD ${commentText(report.release ?? "unknown")}).`,
    adopted.length ? ` * Deploying this app takes over ${adopted.join(", ")} as ${adopted.length === 1 ? "it runs" : "they run"} (adopt: true): the agent's monitor supervises the running bhyve, nothing restarts,` : " * No VM here can be taken over as it runs.",
    adopted.length ? " * and vm-bhyve's runner of each is stopped; the agent refuses (E_ADOPT_MISMATCH) if a VM runs anything else by then." : "",
    left.length ? ` * Left alone, with why below: ${left.join(", ")}.` : "",
    " * SSH: the deploy key from $BHYVE_SSH_KEY_FILE (default ~/.ssh/id_ed25519), user $BHYVE_SSH_USER (default root).",
    " */",
  ].filter(Boolean);
  const main = [
    ...header,
    `import { App, TerraformStack } from "${cdk}";`,
    'import type { Construct } from "constructs";',
    'import { homedir } from "node:os";',
    'import { join } from "node:path";',
    `import { BhyveHost, BhyveProvider, Guest } from "${cdk === "cdktn" ? "cdktf-bhyve/cdktn" : "cdktf-bhyve"}";`,
    "",
    `const ADDRESS = ${JSON.stringify(input.address)};`,
    `const HOST_KEY = ${JSON.stringify(input.hostKey)};`,
    "",
    "class AdoptedHost extends TerraformStack {",
    "  constructor(scope: Construct, id: string) {",
    "    super(scope, id);",
    `    new BhyveProvider(this, "bhyve", { sshPrivateKeyFile: process.env.BHYVE_SSH_KEY_FILE ?? join(homedir(), ".ssh", "id_ed25519"), sshUser: process.env.BHYVE_SSH_USER ?? ${JSON.stringify(input.sshUser ?? "root")}, hostKeys: { [ADDRESS]: HOST_KEY } });`,
    ...lines,
    "  }",
    "}",
    "",
    "const app = new App();",
    `new AdoptedHost(app, ${JSON.stringify(stack)});`,
    "app.synth();",
    "",
  ].join("\n");
  const cdktfJson = `${JSON.stringify({ language: "typescript", app: "npx tsx main.ts", sendCrashReports: "false", terraformProviders: [], terraformModules: [], context: {} }, null, 2)}\n`;
  const pkg = `${JSON.stringify({ name: stack, private: true, type: "module", dependencies: cdk === "cdktn" ? { "cdktf-bhyve": "*", cdktn: "^0.24.0", constructs: ">=10.4.2 <10.8.0" } : { "cdktf-bhyve": "*", cdktf: "^0.21.0", constructs: "^10.4.2" }, devDependencies: { tsx: "^4.0.0" } }, null, 2)}\n`;
  return { files: { "main.ts": main, "cdktf.json": cdktfJson, "package.json": pkg }, adopted, left, imported };
}

/** A variable name for a guest (names may hold . and -). */
function guestVar(name: string): string {
  return `guest_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}
