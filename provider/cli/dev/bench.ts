/**
 * `cdktf-bhyve bench [--quick] [--out FILE] [--runs N] [--hosts 1,5,20] [--sshd]`: how the main job's cost
 * grows with the fleet. For each fleet size, sandbox hosts behind the embedded SSH server (or, with
 * `--sshd`, each behind its own OpenSSH sshd with a forced command, as on a real host), each
 * with one NIC port reserved and bound live and ten guests (examples/fleet, role edge: a firewall
 * guest on the port and nine web guests), driven by the real cdktf CLI and terraform:
 *
 *   synth      `cdktf synth` of the stack
 *   apply      `terraform apply` from empty
 *   plan noop  `terraform plan` with nothing to do (every resource refreshed)
 *   plan drift `terraform plan` after a guest on one host was powered off from inside
 *   destroy    `terraform destroy`
 *   naive plan the same reads as the no-op plan, each resource on a fresh OpenSSH `ssh` connection
 *              with its own agent process (10 at a time, terraform's default parallelism)
 *
 * It counts SSH connections and agent processes per host per command (at the SSH server), and
 * samples resident memory (ps) of the provider, the agent rpc processes and the bhyve-monitors.
 * Medians with min and max over the runs; results to bench/results.json (or --out) and a table.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpus, totalmem, tmpdir } from "node:os";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { guestAction } from "../../../sandbox/host.js";
import { UserError } from "../../../agent/cli/errors.js";
import { CdktfProject, type RunOutcome } from "../lib/cdktf-project.js";
import { packageRoot } from "../../../agent/package-files.js";
import { SandboxFleet, type SandboxHost } from "./sandbox-fleet.js";
import { findSshd } from "./sshd-gateway.js";
import { toolCalls } from "../../../sandbox/tool-paths.js";
import { table } from "../lib/table.js";
import { ed25519KeyPair } from "../../../sandbox/ssh-keys.js";
import { ansiblePlaybook, runAnsibleCheck, stackDocument, writeAnsibleCheck } from "./bench-ansible.js";

const GUESTS_PER_HOST = 10;
const PARALLELISM = 10;

/** Median, min and max of a sample, in seconds with millisecond precision. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of `values`. */
export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error("no samples");
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length / 2;
  const median = v.length % 2 ? v[Math.floor(mid)]! : (v[mid - 1]! + v[mid]!) / 2;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { median: r(median), min: r(v[0]!), max: r(v[v.length - 1]!) };
}

/** One fleet size's figures, in the shape results.json has. */
export interface BenchRun {
  hosts: number;
  guests_per_host: number;
  runs: number;
  synth_s: Spread;
  plan_noop_s: Spread;
  plan_drift_s: Spread;
  apply_s: Spread;
  destroy_s: Spread;
  naive_plan_s: Spread | null;
  ratio_naive_over_ours: number | null;
  /** `ansible-playbook --check --diff` of the same state on the same hosts (null where Ansible is not installed). */
  ansible_check_s: Spread | null;
  ssh_connections_per_host_per_command: number;
  agent_processes_per_host_per_command: number;
  /** Runs of the host's tools (sysctl, pciconf, devctl, bhyve, ...) per host for each command: the mean over the hosts, the median over the runs. */
  host_tool_calls_per_host: { apply: number; plan_noop: number; plan_drift: number; destroy: number };
  rss_mib: { provider: number | null; agent_rpc: number | null; monitor: number | null };
  notes: string[];
}

/**
 * Peak resident memory (MiB) of the processes whose argv matches, sampled with ps while running.
 * ps runs asynchronously: this process also serves the hosts' SSH, which a blocking call would stall.
 */
class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  readonly peak = { provider: 0, agent_rpc: 0, monitor: 0 };

  private record(text: string): void {
    for (const line of text.split("\n")) {
      const m = line.trim().match(/^(\d+)\s+(.*)$/);
      if (!m) continue;
      const mib = Number(m[1]) / 1024;
      const args = m[2]!;
      const kind = args.includes("terraform-provider-bhyve") ? "provider" : /bhyve-agent\.mjs rpc/.test(args) ? "agent_rpc" : /bhyve-monitor/.test(args) ? "monitor" : null;
      if (kind && mib > this.peak[kind]) this.peak[kind] = Math.round(mib * 10) / 10;
    }
  }

  start(): void {
    const sample = (): void => {
      if (this.busy) return;
      this.busy = true;
      let text = "";
      const ps = spawn("ps", ["-eo", "rss=,args="], { stdio: ["ignore", "pipe", "ignore"] });
      ps.stdout.on("data", (d: Buffer) => (text += d.toString()));
      ps.on("close", () => {
        this.busy = false;
        this.record(text);
      });
      ps.on("error", () => (this.busy = false));
    };
    sample();
    this.timer = setInterval(sample, 250);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The reads the provider makes to refresh each resource (see provider/resources). */
function naiveReads(state: Array<{ type: string; values: Record<string, unknown> }>): Array<{ address: string; calls: Array<[string, Record<string, unknown>]> }> {
  return state.map((r) => {
    const address = String(r.values.address);
    const calls: Array<[string, Record<string, unknown>]> = [["agent.hello", {}]];
    if (r.type === "bhyve_host") calls.push(["host.facts", {}], ["host.get", {}], ["host.status", {}]);
    if (r.type === "bhyve_ppt_device") calls.push(["host.facts", {}], ["ppt.get", { device: r.values.device }]);
    if (r.type === "bhyve_guest") calls.push(["host.facts", {}], ["guest.get", { name: r.values.name }]);
    return { address, calls };
  });
}

/** One resource's reads over a fresh OpenSSH connection (a new agent process); resolves true when every call was answered. */
function naiveCall(host: SandboxHost, keyFile: string, knownHosts: string, user: string, calls: Array<[string, Record<string, unknown>]>): Promise<boolean> {
  const [h, port] = [host.gateway.address.replace(/:\d+$/, ""), host.gateway.address.replace(/^.*:/, "")];
  return new Promise((resolvePromise) => {
    const child = spawn("ssh", ["-F", "/dev/null", "-q", "-T", "-i", keyFile, "-p", port, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes",
      "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-l", user, h, "bhyve-agent", "rpc"], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.split("\n").length > calls.length) child.stdin.end();
    });
    child.stdin.write(calls.map(([method, params], i) => JSON.stringify({ jsonrpc: "2.0", id: i + 1, method, params })).join("\n") + "\n");
    child.on("close", () => resolvePromise(out.split("\n").filter((l) => l.includes('"result"')).length === calls.length));
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const v = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, v];
}

/** Runs the benchmarks; returns the exit code. */
export async function benchCommand(args: string[]): Promise<number> {
  let quick = false;
  let out = join(packageRoot(), "bench", "results.json");
  let runs: number | undefined;
  let sizes: number[] | undefined;
  let sshd: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--sshd") {
      sshd = findSshd() ?? null;
      if (!sshd) throw new UserError("bench: --sshd needs OpenSSH's sshd (apt-get install openssh-server)", "E_NO_SSHD");
    }
    else if (a === "--out") out = resolve(args[++i] ?? "");
    else if (a === "--runs") runs = Number(args[++i]);
    else if (a === "--hosts") sizes = (args[++i] ?? "").split(",").map(Number);
    else throw new UserError(`bench: unknown argument ${a}\nusage: cdktf-bhyve bench [--quick] [--out FILE] [--runs N] [--hosts 1,5,20] [--sshd]`, "E_USAGE", 64);
  }
  sizes ??= quick ? [1, 3] : [1, 5, 20];
  runs ??= quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 200)) throw new UserError("bench: --runs and --hosts take positive whole numbers (hosts at most 200)", "E_USAGE", 64);
  const tfv = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (tfv.error || tfv.status !== 0) throw new UserError("bench: terraform is not on PATH", "E_NO_TERRAFORM");
  const hasSsh = !spawnSync("ssh", ["-V"], { encoding: "utf8" }).error;

  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const machine = {
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    terraform: tfv.stdout.split("\n")[0],
    ssh_server: sshd ? `OpenSSH sshd (${sshd}), one per host, forced command` : "embedded (ssh2, in the bench process)",
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
  };
  const results: BenchRun[] = [];
  for (const n of sizes) {
    say(`--- ${n} host(s) x ${GUESTS_PER_HOST} guests, ${runs} run(s)`);
    results.push(await benchSize(n, runs, hasSsh, say, sshd));
  }
  say(`--- cdktf synth of ${LARGE_SYNTH.hosts} hosts x ${LARGE_SYNTH.guests} guests, ${runs} run(s)`);
  const synthLarge = await benchLargeSynth(runs);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ machine, runs: results, [`synth_${LARGE_SYNTH.hosts}x${LARGE_SYNTH.guests}_s`]: synthLarge }, null, 2)}\n`);
  process.stdout.write(renderTable(results));
  process.stdout.write(`\ncdktf synth of ${LARGE_SYNTH.hosts} hosts x ${LARGE_SYNTH.guests} guests: ${synthLarge.median.toFixed(2)} s (${synthLarge.min.toFixed(2)}-${synthLarge.max.toFixed(2)})\n`);
  process.stdout.write(`\nwritten to ${out}\n`);
  return 0;
}

/** The size of the synth-only measurement: hosts that are never contacted, so any number will do. */
const LARGE_SYNTH = { hosts: 100, guests: 20 };

/** `cdktf synth` of the fleet example with LARGE_SYNTH hosts of edge guests (a firewall with a NIC port, the rest web guests). */
async function benchLargeSynth(runs: number): Promise<Spread> {
  const work = mkdtempSync(join(tmpdir(), "cdktf-bhyve-bench-synth-"));
  try {
    const hosts = Array.from({ length: LARGE_SYNTH.hosts }, (_, i) => ({
      name: `s${i + 1}`, address: `127.0.${3 + Math.floor(i / 250)}.${(i % 250) + 1}:22`, hostKey: `SHA256:${"A".repeat(42)}${"ABCDEFGHIJ"[i % 10]}`, role: "edge", webGuests: LARGE_SYNTH.guests - 1,
    }));
    writeFileSync(join(work, "inventory.json"), JSON.stringify({ sshPrivateKeyFile: join(work, "id_ed25519"), sshUser: "root", hosts }));
    const project = new CdktfProject({ main: join(packageRoot(), "examples/fleet/main.ts"), workDir: join(work, "project"), env: { BHYVE_FLEET_INVENTORY: join(work, "inventory.json") } });
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const [secs, outcome] = await timed(() => project.synth());
      if (outcome.code !== 0) throw new Error(`cdktf synth of ${LARGE_SYNTH.hosts} hosts exited ${outcome.code}:\n${outcome.stdout.split("\n").slice(-30).join("\n")}\n${outcome.stderr}`);
      times.push(secs);
    }
    return spread(times);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function benchSize(n: number, runs: number, hasSsh: boolean, say: (s: string) => void, sshd: string | null): Promise<BenchRun> {
  const work = mkdtempSync(join(tmpdir(), "cdktf-bhyve-bench-"));
  const ansible = hasSsh ? ansiblePlaybook() : null;
  const shellKey = ansible ? ed25519KeyPair() : null;
  const fleet = new SandboxFleet(work, { ...(shellKey ? { shellKey: shellKey.public } : {}), ...(sshd ? { sshd } : {}) });
  const notes: string[] = [];
  let project: CdktfProject | undefined;
  // Interrupted (SIGINT, SIGTERM): terraform stopped, then every server, monitor and bhyve by PID.
  const onSignal = (): void => {
    say("interrupted: stopping terraform, the hosts, their guests and servers");
    void (async () => {
      await project?.stopRunning().catch(() => {});
      await fleet.stop().catch(() => {});
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (let i = 0; i < n; i++) await fleet.add({ name: `h${i + 1}`, profile: "intel-vtd", listen: `127.0.2.${i + 1}` });
    const inventory = {
      sshPrivateKeyFile: fleet.keyFile,
      sshUser: fleet.user,
      hosts: fleet.hosts.map((h) => ({ name: h.name, address: h.gateway.address, hostKey: h.gateway.hostKeyFingerprint, role: "edge", webGuests: GUESTS_PER_HOST - 1 })),
    };
    writeFileSync(join(work, "inventory.json"), JSON.stringify(inventory));
    const knownHosts = join(work, "known_hosts");
    writeFileSync(knownHosts, fleet.hosts.map((h) => `[${h.gateway.address.replace(/:(\d+)$/, "]:$1")} ${h.gateway.hostPublicKey}\n`).join(""));
    const p = new CdktfProject({ main: join(packageRoot(), "examples/fleet/main.ts"), workDir: join(work, "project"), env: { BHYVE_FLEET_INVENTORY: join(work, "inventory.json") } });
    project = p;
    const must = (what: string, r: RunOutcome, codes = [0]): RunOutcome => {
      if (!codes.includes(r.code ?? -1)) throw new Error(`${what} exited ${r.code}:\n${r.stdout.split("\n").slice(-30).join("\n")}\n${r.stderr}`);
      return r;
    };
    const tf = (args: string[]) => p.terraform("fleet", [...args, `-parallelism=${PARALLELISM}`]);
    const calls = { apply: [] as number[], plan_noop: [] as number[], plan_drift: [] as number[], destroy: [] as number[] };
    /** Runs `fn` and records the tool runs it cost each host, on average. */
    const counted = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
      const before = fleet.hosts.map((h) => toolCalls(h.root));
      const v = await fn();
      into.push(fleet.hosts.reduce((sum, h, i) => sum + toolCalls(h.root) - before[i]!, 0) / fleet.hosts.length);
      return v;
    };

    const synth: number[] = [];
    for (let r = 0; r < runs; r++) synth.push((await timed(async () => must("cdktf synth", await p.synth())))[0]);
    must("terraform init", await p.terraform("fleet", ["init", "-input=false"]));

    const apply: number[] = [];
    const noop: number[] = [];
    const drift: number[] = [];
    const destroy: number[] = [];
    const naive: number[] = [];
    const ansibleTimes: number[] = [];
    let connsPerHost = 0;
    let agentsPerHost = 0;
    const rss = new RssSampler();
    for (let r = 0; r < runs; r++) {
      say(`  run ${r + 1}: apply`);
      rss.start();
      apply.push((await counted(calls.apply, () => timed(async () => must("apply", await tf(["apply", "-auto-approve", "-input=false"])))))[0]);
      say("  plan (no changes)");
      const before = fleet.hosts.map((h) => [h.gateway.connections, h.gateway.agentStarts] as const);
      noop.push((await counted(calls.plan_noop, () => timed(async () => must("plan", await tf(["plan", "-detailed-exitcode", "-input=false"])))))[0]);
      connsPerHost = fleet.hosts.reduce((s, h, i) => s + h.gateway.connections - before[i]![0], 0) / n;
      agentsPerHost = fleet.hosts.reduce((s, h, i) => s + h.gateway.agentStarts - before[i]![1], 0) / n;
      rss.stop();

      say("  plan after drift on one host");
      await guestAction(fleet.hosts[0]!.root, `${fleet.hosts[0]!.name}-web0`, "poweroff");
      drift.push((await counted(calls.plan_drift, () => timed(async () => must("plan (drift)", await tf(["plan", "-detailed-exitcode", "-input=false"]), [2]))))[0]);
      must("apply (heal)", await tf(["apply", "-auto-approve", "-input=false"]));

      if (hasSsh) {
        say("  naive plan: a fresh ssh and agent per resource");
        const shown = JSON.parse(must("show", await p.terraform("fleet", ["show", "-json"])).stdout) as { values: { root_module: { resources: Array<{ type: string; values: Record<string, unknown> }> } } };
        const reads = naiveReads(shown.values.root_module.resources);
        const byAddress = new Map(fleet.hosts.map((h) => [h.gateway.address, h]));
        const [secs, codes] = await timed(async () => {
          const statuses: boolean[] = [];
          let next = 0;
          await Promise.all(Array.from({ length: PARALLELISM }, async () => {
            while (next < reads.length) {
              const item = reads[next++]!;
              statuses.push(await naiveCall(byAddress.get(item.address)!, fleet.keyFile, knownHosts, fleet.user, item.calls));
            }
          }));
          return statuses;
        });
        if (codes.some((ok) => !ok)) throw new Error(`naive plan: ${codes.filter((ok) => !ok).length} of ${codes.length} ssh reads went unanswered`);
        naive.push(secs);
      }
      if (ansible && shellKey) {
        say("  ansible-playbook --check --diff of the same state");
        const dir = join(work, "ansible");
        mkdirSync(dir, { recursive: true });
        const keyFile = join(dir, "id_ed25519");
        writeFileSync(keyFile, shellKey.private, { mode: 0o600 });
        const stackDir = p.stackDir("fleet");
        const playbook = writeAnsibleCheck(dir, fleet.hosts.map((h) => ({ name: h.name, address: h.gateway.address, root: h.root, loaderConf: h.loaderConf, document: stackDocument(stackDir, h.gateway.address), cpuVendor: "intel" as const })), { keyFile, knownHosts, forks: PARALLELISM, user: fleet.user });
        const [secs, r] = await timed(() => runAnsibleCheck(dir, playbook, ansible));
        // In sync: every host ok, nothing that would change, nothing failed or unreachable.
        const recap = [...r.out.matchAll(/^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)];
        if (r.code !== 0 || recap.length !== n || recap.some((m) => m[3] !== "0" || m[4] !== "0" || m[5] !== "0")) {
          throw new Error(`ansible-playbook --check exited ${r.code} or found the hosts out of sync:\n${r.out.split("\n").slice(-40).join("\n")}`);
        }
        ansibleTimes.push(secs);
      }
      say("  destroy");
      destroy.push((await counted(calls.destroy, () => timed(async () => must("destroy", await tf(["destroy", "-auto-approve", "-input=false"])))))[0]);
    }
    if (!hasSsh) notes.push("the OpenSSH client (ssh) is not installed: no naive comparison");
    if (hasSsh && !ansible) notes.push("ansible-playbook is not installed (apt-get install ansible-core): no Ansible side by side");
    if (ansible) notes.push("ansible: ansible-playbook --check --diff over SSH, forks 10, pipelining and ControlPersist, the same facts read with the same tools, loader.conf diffed, each live device and guest checked");
    notes.push("ours is the whole terraform plan (terraform and provider start-up included); naive is only the reads, so the ratio understates the saving");
    const planNoop = spread(noop);
    const naiveSpread = naive.length ? spread(naive) : null;
    return {
      hosts: n,
      guests_per_host: GUESTS_PER_HOST,
      runs,
      synth_s: spread(synth),
      plan_noop_s: planNoop,
      plan_drift_s: spread(drift),
      apply_s: spread(apply),
      destroy_s: spread(destroy),
      naive_plan_s: naiveSpread,
      ratio_naive_over_ours: naiveSpread ? Math.round((naiveSpread.median / planNoop.median) * 100) / 100 : null,
      ansible_check_s: ansibleTimes.length ? spread(ansibleTimes) : null,
      ssh_connections_per_host_per_command: connsPerHost,
      agent_processes_per_host_per_command: agentsPerHost,
      host_tool_calls_per_host: { apply: spread(calls.apply).median, plan_noop: spread(calls.plan_noop).median, plan_drift: spread(calls.plan_drift).median, destroy: spread(calls.destroy).median },
      rss_mib: { provider: rss.peak.provider || null, agent_rpc: rss.peak.agent_rpc || null, monitor: rss.peak.monitor || null },
      notes,
    };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await fleet.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The results as a table. */
export function renderTable(results: BenchRun[]): string {
  const f = (s: Spread | null): string => (s ? `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : "-");
  const rows = [["hosts", "guests", "synth s", "apply s", "plan no-op s", "plan drift s", "destroy s", "naive plan s", "naive/ours", "ansible check s", "ssh conn/host", "agents/host", "tool runs/host apply/plan/destroy", "RSS MiB prov/agent/mon"]];
  for (const r of results) {
    rows.push([String(r.hosts), String(r.hosts * r.guests_per_host), f(r.synth_s), f(r.apply_s), f(r.plan_noop_s), f(r.plan_drift_s), f(r.destroy_s), f(r.naive_plan_s),
      r.ratio_naive_over_ours === null ? "-" : `${r.ratio_naive_over_ours}x`, f(r.ansible_check_s ?? null), String(r.ssh_connections_per_host_per_command), String(r.agent_processes_per_host_per_command),
      r.host_tool_calls_per_host ? `${r.host_tool_calls_per_host.apply}/${r.host_tool_calls_per_host.plan_noop}/${r.host_tool_calls_per_host.destroy}` : "-",
      `${r.rss_mib.provider ?? "-"}/${r.rss_mib.agent_rpc ?? "-"}/${r.rss_mib.monitor ?? "-"}`]);
  }
  const lines = table(rows).split("\n");
  const notes = [...new Set(results.flatMap((r) => r.notes))].map((n) => `note: ${n}`);
  return `${[lines[0], "-".repeat(lines[0]!.length), ...lines.slice(1), "", "medians (min-max) over the runs; times in seconds", ...notes].join("\n")}\n`;
}

