/**
 * `cdktf deploy` of both examples with the real cdktf CLI and terraform, to sandbox hosts behind
 * the real OpenSSH sshd; then a plan with no changes; then `cdktf destroy` leaving every host as
 * it was, loader.conf byte for byte. The gpu-host example also as a CDK Terrain app, deployed and
 * destroyed with the real cdktn CLI, through the same test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { prerequisite, repoPath } from "../support/helpers.js";
import { after, before, describe, test } from "node:test";
import { until } from "../support/agent-host.js";
import { explain, fleetProject, gpuHostProject, removeWork, snapshot, type HostSnapshot } from "./e2e-helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";
import { CDKTN_MIN_NODE, cdktnNode } from "../../provider/cli/lib/cdktf-project.js";

const skip = sshdSkipReason();

describe("cdktf deploy of examples/fleet to three sshd hosts", prerequisite("cdktf deploy of examples/fleet to three sshd hosts", skip), () => {
  const fleet = new SshdFleet();
  let hosts: SshdHost[] = [];
  let work = "";
  let project: ReturnType<typeof fleetProject>["project"];
  const before0 = new Map<string, HostSnapshot>();

  before(async () => {
    hosts = await fleet.start([{ name: "gpu1", profile: "intel-vtd" }, { name: "edge1", profile: "intel-vtd" }, { name: "gen1", profile: "amd-vi" }], 11);
    for (const h of hosts) before0.set(h.name, snapshot(h));
    ({ project, workDir: work } = fleetProject(fleet, [
      { host: hosts[0]!, role: "gpu", webGuests: 1 },
      { host: hosts[1]!, role: "edge", webGuests: 1 },
      { host: hosts[2]!, role: "general", webGuests: 2 },
    ]));
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
  });

  test("deploy: every host configured, devices bound, guests running", async () => {
    const r = await project.deploy();
    assert.equal(r.code, 0, explain("cdktf deploy", r));
    const [gpu1, edge1, gen1] = hosts;
    for (const [h, guests] of [[gpu1!, ["gpu1-ml", "gpu1-web0"]], [edge1!, ["edge1-fw", "edge1-web0"]], [gen1!, ["gen1-web0", "gen1-web1"]]] as const) {
      for (const g of guests) await until(() => h.sandbox.machine().vms[g]?.process != null, `${g} running on ${h.name}`);
      assert.deepEqual(snapshot(h).vms, [...guests].sort());
      assert.match(snapshot(h).loaderConf, /^vmm_load="YES"$/m, `${h.name} loader.conf`);
    }
    assert.equal(snapshot(gpu1!).drivers["3/0/0"], "ppt");
    assert.equal(snapshot(gpu1!).drivers["3/0/1"], "ppt");
    assert.equal(snapshot(edge1!).drivers["4/0/1"], "ppt");
    assert.equal(snapshot(edge1!).drivers["4/0/0"], before0.get("edge1")!.drivers["4/0/0"], "port 0 stays with the host");
    // The agent ran behind sshd, through the forced command, as the configured account.
    for (const h of hosts) assert.match(h.log, /Starting session: forced-command/);
  });

  test("plan right after deploy: no changes (exit 0)", async () => {
    const r = await project.terraform("fleet", ["plan", "-detailed-exitcode"]);
    assert.equal(r.code, 0, explain("terraform plan", r));
    assert.match(r.stdout, /No changes/);
  });

  test("the state-free drift gate agrees in provider mode: in sync (exit 0), from the same synth output", async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [repoPath("dist/cdktf-bhyve.mjs"), "drift", "--out", project.outDir], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout + stderr }));
    });
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.match(/\): in sync$/gm)?.length, 3, r.out);
  });

  test("destroy: every host as it was, loader.conf byte for byte", async () => {
    const r = await project.destroy();
    assert.equal(r.code, 0, explain("cdktf destroy", r));
    for (const h of hosts) assert.deepEqual(snapshot(h), before0.get(h.name), `${h.name} after destroy`);
  });
});

// The same example and the same test for both CDK flavours: CDKTF's cdktf CLI, and CDK Terrain's cdktn.
for (const [flavour, base] of [["cdktf", 21], ["cdktn", 23]] as const) {
  // cdktn-cli needs Node 22.19 or newer: this Node, $CDKTN_NODE, or the one .ci/run installs.
  const why = skip ?? (flavour === "cdktn" && !cdktnNode() ? `cdktn-cli 0.24 needs Node ${CDKTN_MIN_NODE.join(".")} or newer and this is ${process.version}: set CDKTN_NODE, or run .ci/run (it installs one from the npm registry)` : undefined);
  describe(`${flavour} deploy of examples/gpu-host${flavour === "cdktn" ? "-cdktn" : ""} to one sshd host`, prerequisite(`${flavour} deploy of the gpu-host example to one sshd host`, why), () => {
    const fleet = new SshdFleet();
    let host: SshdHost;
    let work = "";
    let project: ReturnType<typeof gpuHostProject>["project"];
    let before0: HostSnapshot;

    before(async () => {
      [host] = (await fleet.start([{ name: "gpu-host", profile: "intel-vtd" }], base)) as [SshdHost];
      before0 = snapshot(host);
      ({ project, workDir: work } = gpuHostProject(fleet, host, {}, flavour));
    });
    after(async () => {
      await fleet.stop();
      removeWork(work);
    });

    test("deploy; reboot for the boot-time bindings; a plan with no changes; destroy back to the start", async () => {
      const d = await project.deploy();
      assert.equal(d.code, 0, explain(`${flavour} deploy`, d));
      let s = snapshot(host);
      assert.match(s.loaderConf, /^pptdevs="3\/0\/0 3\/0\/1 4\/0\/1"$/m);
      assert.equal(s.drivers["4/0/1"], "ppt", "the live binding is made at once");
      assert.equal(s.drivers["3/0/0"], "vgapci", "the boot binding waits for the reboot");
      assert.match(d.stdout, /reboot/i, "the operator is told a reboot is needed");
      await until(() => host.sandbox.machine().vms.fw1?.process != null, "fw1 running");

      // Until the host reboots, ml1 cannot run, and the plan says so.
      const waiting = await project.terraform("gpu-host", ["plan", "-detailed-exitcode"]);
      assert.equal(waiting.code, 2, explain("terraform plan before the reboot", waiting));
      assert.match(waiting.stdout, /state\s+= "stopped" -> "running"/);

      assert.equal(await host.reboot(), 0, "autostart after the reboot");
      s = snapshot(host);
      assert.equal(s.drivers["3/0/0"], "ppt");
      assert.equal(s.drivers["4/0/1"], "ppt", "autostart binds the live device again");
      await until(() => host.sandbox.machine().vms.ml1?.process != null, "ml1 running after the reboot");
      const p = await project.terraform("gpu-host", ["plan", "-detailed-exitcode"]);
      assert.equal(p.code, 0, explain("terraform plan after the reboot", p));

      const x = await project.destroy();
      assert.equal(x.code, 0, explain(`${flavour} destroy`, x));
      s = snapshot(host);
      assert.equal(s.loaderConf, before0.loaderConf, "loader.conf byte for byte");
      assert.deepEqual(s.vms, []);
      assert.equal(s.drivers["4/0/1"], before0.drivers["4/0/1"], "the live device is back with its driver");
      // Boot-time bindings go with the next boot (the loader no longer lists them).
      assert.equal(await host.reboot(), 0);
      assert.deepEqual(snapshot(host), before0);
    });
  });
}
