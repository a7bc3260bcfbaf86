/**
 * Fleet operations against sandbox hosts behind the real sshd: push mode (the exact local-exec
 * command lines of the synthesized null_resources, run as Terraform runs them: the interpreter argv
 * looked up in PATH, the document path appended, in the stack's directory), then `status` and the
 * `drift` gate (in sync, drift named field by field, healed by the next push, a changed document,
 * a hung host that holds up only itself). The hashicorp/null provider cannot be installed here, so
 * Terraform itself does not run these provisioners in this test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseIfconfig } from "../../agent/parse/network.js";
import { guestAction } from "../../sandbox/host.js";
import { until } from "../support/agent-host.js";
import { prerequisite, repoPath } from "../support/helpers.js";
import { explain, fleetProject, removeWork } from "./e2e-helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

interface LocalExec {
  interpreter: string[];
  command: string;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

describe("push mode, status and the drift gate, end to end", prerequisite("push mode, status and the drift gate, end to end", skip), () => {
  const fleet = new SshdFleet();
  let gpu: SshdHost;
  let edge: SshdHost;
  let gen: SshdHost;
  let work = "";
  let stackDir = "";
  let outDir = "";
  let inventoryFile = "";
  let project: ReturnType<typeof fleetProject>["project"];
  const bin = mkdtempSync(join(tmpdir(), "cdktf-bhyve-bin-"));
  // PATH as an operator's runner has it after `npm install cdktf-bhyve`: cdktf-bhyve is a command.
  const env = { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}` };

  const run = (file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Ran> => {
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(file, args, { cwd, env: { ...env, ...extraEnv }, timeout: 120_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr, ms: Date.now() - started }));
    });
  };
  const cli = (args: string[], extraEnv: Record<string, string> = {}) => run("cdktf-bhyve", args, work, extraEnv);
  const said = (r: Ran) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  /** The local-exec provisioners of the synthesized stack, by the host address they push to. */
  const provisioners = (): Map<string, LocalExec> => {
    const json = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
    const out = new Map<string, LocalExec>();
    for (const r of Object.values(json.resource.null_resource) as Array<{ triggers: { address: string }; provisioner: Array<{ "local-exec": LocalExec }> }>) {
      out.set(r.triggers.address, r.provisioner[0]!["local-exec"]);
    }
    return out;
  };
  /** Runs one provisioner as Terraform does: exec of interpreter[0] (PATH lookup, no shell) with the rest and the command, in the stack's directory. */
  const provision = (p: LocalExec) => run(p.interpreter[0]!, [...p.interpreter.slice(1), p.command], stackDir);
  const running = (h: SshdHost, name: string): boolean => h.sandbox.machine().vms[name]?.process != null;

  before(async () => {
    chmodSync(repoPath("dist/cdktf-bhyve.mjs"), 0o755);
    symlinkSync(repoPath("dist/cdktf-bhyve.mjs"), join(bin, "cdktf-bhyve"));
    [gpu, edge, gen] = (await fleet.start([
      { name: "gpu1", profile: "intel-vtd" },
      { name: "edge1", profile: "intel-vtd" },
      { name: "gen1", profile: "amd-vi" },
    ], 61)) as [SshdHost, SshdHost, SshdHost];
    ({ project, workDir: work } = fleetProject(fleet, [
      { host: gpu, role: "gpu", webGuests: 1 },
      { host: edge, role: "edge", webGuests: 1 },
      { host: gen, role: "general", webGuests: 2 },
    ], { mode: "push", connectTimeout: "30s" }));
    inventoryFile = join(work, "inventory.json");
    const s = await project.synth();
    assert.equal(s.code, 0, explain("cdktf synth", s));
    outDir = project.outDir;
    stackDir = project.stackDir("fleet");
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
    rmSync(bin, { recursive: true, force: true });
  });

  test("the exact local-exec command lines push each host's document; a second run changes nothing", async () => {
    const p = provisioners();
    assert.deepEqual([...p.keys()].sort(), [gpu, edge, gen].map((h) => h.address).sort());
    for (const h of [gpu, edge, gen]) {
      const r = await provision(p.get(h.address)!);
      assert.equal(r.code, 0, said(r));
      assert.match(r.stdout, new RegExp(`^${h.address.replace(/\./g, "\\.")}: applied bhyve/${h.name}\\.json \\(sha256 [0-9a-f]{12}\\)$`, "m"));
      assert.match(r.stdout, /changed {2}guest \S+-web0: created and started/);
    }
    await until(() => running(gpu, "gpu1-ml") && running(edge, "edge1-fw") && running(gen, "gen1-web1"), "the pushed guests run");
    assert.match(readFileSync(join(gpu.sandbox.root, "boot/loader.conf"), "utf8"), /pptdevs="3\/0\/0 3\/0\/1"/);
    const again = await provision(p.get(gpu.address)!);
    assert.equal(again.code, 0, said(again));
    assert.match(again.stdout, /no changes: the host already had this document/);
  });

  test("status: one table of every host, with readiness, devices, switches and guests", async () => {
    const r = await cli(["status", "--out", outDir]);
    assert.equal(r.code, 0, said(r));
    assert.match(r.stdout, /^HOST +ADDRESS +READY +REBOOT +DEVICE +BIND +DRIVER +SWITCH +BRIDGE +GUEST +STATE +RESTARTS +LAST EXIT$/m);
    assert.match(r.stdout, new RegExp(`^fleet/gpu1 +${gpu.address} +yes +no +3/0/0 +live +ppt\\d +lan +bridge\\d+ +gpu1-ml +running +0 +-$`, "m"));
    assert.match(r.stdout, /^ +3\/0\/1 +live +ppt\d +gpu1-web0 +running +0 +-$/m);
    assert.match(r.stdout, new RegExp(`^fleet/edge1 +${edge.address} +yes +no +4/0/1 +live +ppt\\d +lan +bridge\\d+ +edge1-fw +running`, "m"));
    assert.match(r.stderr, /^\[3\/3\] fleet\/\S+ \S+: answered/m);
    const j = await cli(["status", "--out", outDir, "--json"]);
    assert.equal(j.code, 0, said(j));
    const hosts = JSON.parse(j.stdout) as Array<{ id: string; devices: Array<{ bound: boolean }>; switches: Array<{ name: string; present: boolean; uplink_attached: boolean }>; guests: Array<{ name: string; state: string }> }>;
    assert.deepEqual(hosts.map((h) => h.id), ["gpu1", "edge1", "gen1"]);
    assert.deepEqual(hosts.map((h) => h.switches.map((w) => `${w.name} ${w.present} ${w.uplink_attached}`)), [["lan true true"], ["lan true true"], ["lan true true"]]);
    assert.deepEqual(hosts[2]!.guests.map((g) => `${g.name} ${g.state}`), ["gen1-web0 running", "gen1-web1 running"]);
  });

  test("drift: exit 0 in sync; 2 with each field and both values; healed by the next push", async () => {
    const clean = await cli(["drift", "--out", outDir]);
    assert.equal(clean.code, 0, said(clean));
    assert.equal(clean.stdout.match(/: in sync$/gm)?.length, 3, clean.stdout);

    await guestAction(gpu.sandbox.root, "gpu1-web0", "poweroff");
    await until(() => !running(gpu, "gpu1-web0"), "gpu1-web0 off");
    await guestAction(edge.sandbox.root, "edge1-fw", "poweroff");
    // Off, and its VM destroyed by its monitor (which follows bhyve's exit): until then the VM holds 4/0/1.
    await until(() => !running(edge, "edge1-fw") && !(edge.sandbox.machine().vms["edge1-fw"]?.ppt.length), "edge1-fw off and its device released");
    const unbind = edge.sandbox.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]);
    assert.equal(unbind.status, 0, unbind.stderr);
    const bridge = parseIfconfig(gen.sandbox.run("ifconfig", ["-a"]).stdout).find((i) => i.description === "bhyve-agent:switch:lan")!;
    const tap = bridge.bridgeMembers.find((m) => m.startsWith("tap"))!;
    assert.equal(gen.sandbox.run("ifconfig", [bridge.name, "deletem", tap]).status, 0);

    const r = await cli(["drift", "--out", outDir]);
    assert.equal(r.code, 2, said(r));
    assert.match(r.stdout, /^fleet\/gpu1 \(\S+\): 1 difference$/m);
    assert.match(r.stdout, /^ {2}guests\[gpu1-web0\]\.state +running +stopped \(.+\)$/m);
    assert.match(r.stdout, /^fleet\/edge1 \(\S+\): 2 differences$/m);
    assert.match(r.stdout, /^ {2}ppt\[4\/0\/1\]\.driver +ppt +igb1$/m);
    assert.match(r.stdout, /^fleet\/gen1 \(\S+\): 1 difference$/m);
    assert.match(r.stdout, new RegExp(`^ {2}guests\\[gen1-web\\d\\]\\.nics\\[switch lan\\] +${tap} on ${bridge.name} +off the bridge$`, "m"));
    const st = await cli(["status", "--out", outDir]);
    assert.match(st.stdout, new RegExp(`fleet/gen1: guest gen1-web\\d's ${tap} is not on switch lan's ${bridge.name}`));
    const j = await cli(["drift", "--out", outDir, "--json"]);
    assert.equal(j.code, 2);
    const report = JSON.parse(j.stdout) as { in_sync: boolean; hosts: Array<{ id: string; differences: Array<{ field: string; desired: string; actual: string }> }> };
    assert.equal(report.in_sync, false);
    assert.deepEqual(report.hosts.find((h) => h.id === "edge1")!.differences.find((d) => d.field === "ppt[4/0/1].driver"), { field: "ppt[4/0/1].driver", desired: "ppt", actual: "igb1" });

    const p = provisioners();
    for (const h of [gpu, edge, gen]) {
      const heal = await provision(p.get(h.address)!);
      assert.equal(heal.code, 0, said(heal));
    }
    const after = await cli(["drift", "--out", outDir]);
    assert.equal(after.code, 0, said(after));
  });

  test("a changed app: drift --app synthesizes and names what the hosts lack; only that host's trigger changes", async () => {
    const before = provisioners();
    const beforeJson = readFileSync(join(stackDir, "cdk.tf.json"), "utf8");
    const inv = JSON.parse(readFileSync(inventoryFile, "utf8"));
    inv.hosts[2].webGuests = 3;
    writeFileSync(inventoryFile, JSON.stringify(inv));
    const r = await cli(["drift", "--app", work], { ...(project.env as Record<string, string>), PATH: env.PATH! });
    assert.equal(r.code, 2, said(r));
    assert.match(r.stdout, /^fleet\/gen1 \(\S+\): \d+ differences?$/m);
    assert.match(r.stdout, /^ {2}guests\[gen1-web2\] +1 CPU, 512M, running +\(absent\)$/m);
    assert.match(r.stdout, /^ {2}guests\[gen1-web2\]\.state +running +missing/m);
    assert.match(r.stdout, /^fleet\/gpu1 \(\S+\): in sync$/m);
    const sha = (text: string, address: string) => (Object.values(JSON.parse(text).resource.null_resource) as Array<{ triggers: Record<string, string> }>).find((x) => x.triggers.address === address)!.triggers.document_sha256;
    const afterJson = readFileSync(join(stackDir, "cdk.tf.json"), "utf8");
    assert.notEqual(sha(afterJson, gen.address), sha(beforeJson, gen.address));
    assert.equal(sha(afterJson, gpu.address), sha(beforeJson, gpu.address));
    assert.deepEqual(provisioners().get(gen.address), before.get(gen.address), "the command line is the same; the document behind it changed");
    const push = await provision(provisioners().get(gen.address)!);
    assert.equal(push.code, 0, said(push));
    assert.match(push.stdout, /changed {2}guest gen1-web2: created and started/);
    const clean = await cli(["drift", "--out", outDir]);
    assert.equal(clean.code, 0, said(clean));
  });

  test("a hung host: the others are reported first, the gate exits 1 naming it", async () => {
    edge.freeze();
    try {
      // The connect timeout applies to every host of the run: it must be long enough that a healthy
      // host on a busy machine never meets it, so that only the frozen one is reported late.
      const r = await cli(["drift", "--out", outDir, "--connect-timeout", "20s"]);
      assert.equal(r.code, 1, said(r));
      const lines = r.stderr.split("\n").filter((l) => /^\[\d\/3\]/.test(l));
      assert.equal(lines.length, 3, r.stderr);
      assert.match(lines[2]!, /^\[3\/3\] fleet\/edge1 \S+: error: \S+ did not answer within 20 s \(connect_timeout\)/);
      assert.match(r.stdout, /^fleet\/edge1 \(\S+\): not checked: .*did not answer within 20 s/m);
      assert.match(r.stdout, /^fleet\/gpu1 \(\S+\): in sync$/m);
      assert.match(r.stdout, /^fleet\/gen1 \(\S+\): in sync$/m);
    } finally {
      edge.thaw();
    }
  });

  test("a broken document is refused before any connection; bad arguments are usage errors", async () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "guests:\n  - { name: x, cpus: 1, memory: 1G, bootrom: /fw, passthru: [{ device: 3/0/0, slot: 0 }] }\n");
    const before = gpu.log.length;
    const r = await cli(["push", "--doc", bad, "--address", gpu.address, "--host-key", gpu.hostKeyFingerprint, "--ssh-key-file", fleet.keyFile]);
    assert.equal(r.code, 1, said(r));
    assert.match(r.stderr, /is not a valid desired-state document; nothing was sent to/);
    assert.match(r.stderr, /guests\[0\]\.passthru\[0\]\.slot/);
    assert.equal(gpu.log.slice(before).includes("Accepted"), false, "sshd saw no login");
    assert.equal((await cli(["push", "--doc", bad])).code, 64);
    assert.equal((await cli(["drift", "--out", outDir, "--parallel", "0"])).code, 64);
    assert.equal((await cli(["status", "--out", outDir, "--stack", "nope"])).code, 64);
  });
});
