/**
 * `cdktf-bhyve demo`: the whole chain on this machine, in about a minute. Three sandbox FreeBSD
 * hosts start behind an embedded SSH server (loopback only, each with its own host key, running
 * the agent as a forced command would); the provider goes into a temporary filesystem mirror; the
 * real cdktf CLI deploys examples/fleet; a fleet table shows what Terraform now knows; drift is made
 * on two hosts, shown by `terraform plan -detailed-exitcode`, and healed by the next deploy; `cdktf
 * destroy` puts every loader.conf back byte for byte; a broken desired state is refused before it
 * reaches a host. Everything started is stopped by PID; any failed step makes the exit status 1.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import exampleDocument from "../../../examples/gpu-host/host.yaml";
import { checkDocumentText } from "../../../agent/model/document.js";
import { formatProblems } from "../../../agent/model/problems.js";
import { guestAction } from "../../../sandbox/host.js";
import { CdktfProject, type RunOutcome } from "../lib/cdktf-project.js";
import { packageRoot } from "../../../agent/package-files.js";
import { SandboxFleet } from "./sandbox-fleet.js";
import { table } from "../lib/table.js";

interface DemoHost {
  readonly name: string;
  readonly profile: string;
  readonly role: "gpu" | "edge" | "general";
  readonly webGuests: number;
  readonly listen: string;
}

class StepFailed extends Error {}

/** State of one stack as `terraform show -json` has it. */
interface ShownResource {
  type: string;
  values: Record<string, unknown>;
}

/**
 * The fleet as Terraform's state has it: one row per host (in `names` order), then each host's
 * problems (why it is not ready for passthrough, what waits for a reboot).
 */
export function fleetTable(resources: ShownResource[], names: Map<string, string>): string {
  const rows = [["HOST", "ADDRESS", "PASSTHRU READY", "IOMMU", "REBOOT", "RESERVED DEVICES", "GUESTS"]];
  const notes: string[] = [];
  const of = (type: string) => resources.filter((r) => r.type === type);
  const order = [...names.keys()];
  const hosts = of("bhyve_host").sort((a, b) => order.indexOf(String(a.values.address)) - order.indexOf(String(b.values.address)));
  for (const h of hosts) {
    const address = String(h.values.address);
    const name = names.get(address) ?? address;
    const ppt = of("bhyve_ppt_device").filter((p) => p.values.address === address)
      .sort((a, b) => String(a.values.device).localeCompare(String(b.values.device)))
      .map((p) => `${p.values.device} ${p.values.bind}${p.values.bound ? " (ppt)" : ` (${p.values.driver ?? "-"})`}`);
    const guests = of("bhyve_guest").filter((g) => g.values.address === address)
      .sort((a, b) => String(a.values.name).localeCompare(String(b.values.name)))
      .map((g) => `${g.values.name} ${g.values.status}`);
    rows.push([name, address, h.values.passthru_ready ? "yes" : "no", String(h.values.iommu ?? "-"), h.values.reboot_required ? "yes" : "no",
      ppt.join(", ") || "-", guests.join(", ") || "-"]);
    for (const p of (h.values.problems as string[] | undefined) ?? []) notes.push(`  ${name}: ${p}`);
  }
  return [table(rows, "  "), ...notes].join("\n");
}

/** Runs the demo; returns the exit code. */
export async function demoCommand(): Promise<number> {
  const started = Date.now();
  const say = (s: string): void => {
    const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    process.stdout.write(`[${t}s] ${s}\n`);
  };
  const show = (s: string): void => void process.stdout.write(`${s}\n`);
  const root = packageRoot();
  const work = mkdtempSync(join(tmpdir(), "cdktf-bhyve-demo-"));
  const hosts: DemoHost[] = [
    { name: "gpu1", profile: "intel-vtd", role: "gpu", webGuests: 1, listen: "127.0.1.31" },
    { name: "edge1", profile: "intel-vtd", role: "edge", webGuests: 1, listen: "127.0.1.32" },
    { name: "gen1", profile: "amd-vi", role: "general", webGuests: 2, listen: "127.0.1.33" },
  ];
  const fleet = new SandboxFleet(work);
  const stopAll = async (): Promise<void> => {
    await fleet.stop();
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    void stopAll().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  // Progress from cdktf/terraform: one line per resource event.
  const progress = (chunk: string): void => {
    for (const line of chunk.split("\n")) {
      const l = line.replace(/^\S+\s{2,}/, "").trim();
      if (/(Creation|Destruction|Modifications) complete|Apply complete|Destroy complete|^Error:|^Warning: (?!Incomplete lock)/.test(l)) show(`         ${l}`);
    }
  };
  const check = (what: string, r: RunOutcome, ok: (r: RunOutcome) => boolean): RunOutcome => {
    if (!ok(r)) {
      process.stderr.write(`\n${what} failed (exit ${r.code}):\n${r.stdout.split("\n").slice(-40).join("\n")}\n${r.stderr}\n`);
      throw new StepFailed(what);
    }
    return r;
  };

  try {
    const tf = spawnSync("terraform", ["version"], { encoding: "utf8" });
    if (tf.error || tf.status !== 0) {
      process.stderr.write("the demo runs the real Terraform CLI, and `terraform` is not on PATH: install Terraform 1.5 or newer\n");
      throw new StepFailed("terraform");
    }
    say(`${tf.stdout.split("\n")[0]}, ${process.execPath} ${process.version}`);
    say(`scratch directory ${work} (removed at the end)`);
    say(`starting ${hosts.length} sandbox FreeBSD hosts, each behind its own SSH server on loopback`);
    for (const spec of hosts) {
      const h = await fleet.add(spec);
      show(`         ${h.name.padEnd(6)} ${h.profile.padEnd(10)} ssh://root@${h.gateway.address}  host key ${h.gateway.hostKeyFingerprint}`);
    }
    const byName = (name: string) => fleet.hosts.find((h) => h.name === name)!;
    const inventory = {
      sshPrivateKeyFile: fleet.keyFile,
      sshUser: "root",
      hosts: hosts.map((h) => ({ name: h.name, address: byName(h.name).gateway.address, hostKey: byName(h.name).gateway.hostKeyFingerprint, role: h.role, webGuests: h.webGuests })),
    };
    writeFileSync(join(work, "inventory.json"), JSON.stringify(inventory, null, 2));
    const names = fleet.names();

    say("installing the provider into a temporary filesystem mirror (no registry needed)");
    const project = new CdktfProject({
      main: join(root, "examples/fleet/main.ts"),
      workDir: join(work, "project"),
      env: { BHYVE_FLEET_INVENTORY: join(work, "inventory.json") },
      onOutput: progress,
    });

    say("cdktf deploy examples/fleet (synth, terraform init, apply)");
    check("cdktf deploy", await project.deploy(), (r) => r.code === 0);
    const state = async (): Promise<ShownResource[]> => {
      const r = check("terraform show", await project.terraform("fleet", ["show", "-json"]), (x) => x.code === 0);
      const json = JSON.parse(r.stdout) as { values?: { root_module?: { resources?: ShownResource[] } } };
      return json.values?.root_module?.resources ?? [];
    };
    say("the fleet, as Terraform's state has it:");
    show(fleetTable(await state(), names));

    say("no changes pending: terraform plan -detailed-exitcode");
    const clean = check("terraform plan", await project.terraform("fleet", ["plan", "-detailed-exitcode"]), (r) => r.code === 0);
    show(`         exit ${clean.code}: ${clean.stdout.match(/No changes\.[^\n]*/)?.[0] ?? ""}`);

    say("drift: gen1-web0 is powered off from inside the guest; on edge1 someone drops the NIC port from pptdevs by hand");
    const gen1 = byName("gen1");
    const edge1 = byName("edge1");
    await guestAction(gen1.root, "gen1-web0", "poweroff");
    const lc = join(edge1.root, "boot/loader.conf");
    writeFileSync(lc, readFileSync(lc, "utf8").replace(/^pptdevs=.*\n/m, ""));
    const drift = check("terraform plan (drift)", await project.terraform("fleet", ["plan", "-detailed-exitcode"]), (r) => r.code === 2);
    show(`         exit ${drift.code}: the plan shows it`);
    for (const line of drift.stdout.split("\n")) {
      // What changed; computed attributes that are merely re-read show as "(known after apply)".
      if (/^\s+# bhyve_\S+ .*will be|^\s+~ \w+\s+= .* -> /.test(line) && !line.endsWith("(known after apply)")) show(`         ${line.trim()}`);
    }

    say("cdktf deploy again heals it");
    check("cdktf deploy (heal)", await project.deploy(), (r) => r.code === 0);
    const healed = check("terraform plan (after the heal)", await project.terraform("fleet", ["plan", "-detailed-exitcode"]), (r) => r.code === 0);
    show(`         exit ${healed.code}: no changes`);
    show(fleetTable(await state(), names));

    say("cdktf destroy");
    check("cdktf destroy", await project.destroy(), (r) => r.code === 0);
    for (const h of fleet.hosts) {
      const now = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
      if (now !== h.loaderConf) {
        process.stderr.write(`${h.name}: loader.conf differs from the original after destroy\n`);
        throw new StepFailed("destroy");
      }
    }
    show(`         loader.conf of all ${hosts.length} hosts is back byte for byte; no guest is left`);

    say("a mistake is stopped before it reaches a host: the GPU's audio function handed to a second guest, a disk put in the GPU's slot");
    const broken = exampleDocument
      .replace("- { device: 3/0/0, slot: 6 }\n      - { device: 3/0/1, slot: 6 }", "- { device: 3/0/0, slot: 6 }")
      .replace("- { device: 4/0/1, slot: 7, function: 0 }", "- { device: 4/0/1, slot: 7, function: 0 }\n      - { device: 3/0/1, slot: 8, function: 0 }")
      .replace("type: nvme }", "type: nvme, slot: 6 }");
    const bad = checkDocumentText(broken);
    if (bad.ok) {
      process.stderr.write("the broken desired state was accepted; it should have been refused\n");
      throw new StepFailed("validation");
    }
    show(formatProblems(bad.problems).replace(/^/gm, "         "));

    say("stopping the hosts and SSH servers");
    await stopAll();
    say("demo finished");
    return 0;
  } catch (err) {
    if (!(err instanceof StepFailed)) process.stderr.write(`demo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await stopAll();
    return 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
