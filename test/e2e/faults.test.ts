/**
 * Faults, with `cdktf deploy` against sandbox hosts behind the real sshd: a wrong pinned host key,
 * a host that does not answer, the SSH connection cut in the middle of an apply, two applies at
 * once against one host, and a guest whose bhyve fails to start.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MANAGED_END, parseLoaderConf } from "../../agent/parse/loader-conf.js";
import { STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { until } from "../support/agent-host.js";
import type { RunOutcome } from "../../provider/cli/lib/cdktf-project.js";
import { explain, fleetProject, gpuHostProject, removeWork, snapshot } from "./e2e-helpers.js";
import { prerequisite } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";
import { TcpCutter } from "./tcp-cutter.js";

const skip = sshdSkipReason();

/** Files a torn write would leave: temporary files beside the agent's and the loader's files. */
function leftovers(h: SshdHost): string[] {
  const dirs = ["boot", "var/db/bhyve-agent"].map((d) => join(h.sandbox.root, d)).filter((d) => existsSync(d));
  return dirs.flatMap((d) => readdirSync(d, { recursive: true, encoding: "utf8" }).filter((f) => /\.tmp|~$|\.new$/.test(f)).map((f) => join(d, f)));
}

/** A run's output with Terraform's line wrapping undone. */
function flat(r: RunOutcome): string {
  return (r.stdout + r.stderr).replace(/\s+/g, " ");
}

describe("faults, end to end", prerequisite("faults, end to end", skip), () => {
  const fleet = new SshdFleet();
  const works: string[] = [];
  let gpu: SshdHost;
  let other: SshdHost;
  let hung: SshdHost;
  let shared: SshdHost;

  before(async () => {
    [gpu, other, hung, shared] = (await fleet.start([
      { name: "gpu", profile: "intel-vtd" },
      { name: "other", profile: "amd-vi" },
      { name: "hung", profile: "intel-vtd" },
      { name: "shared", profile: "intel-vtd" },
    ], 51)) as [SshdHost, SshdHost, SshdHost, SshdHost];
  });
  after(async () => {
    await fleet.stop();
    works.forEach(removeWork);
  });

  test("a wrong pinned host key: refused before login, both fingerprints shown, nothing changed", async () => {
    const before0 = snapshot(gpu);
    const { project, workDir } = gpuHostProject(fleet, gpu, { BHYVE_HOST_KEY: other.hostKeyFingerprint });
    works.push(workDir);
    const r = await project.deploy();
    assert.notEqual(r.code, 0, explain("cdktf deploy", r));
    const out = r.stdout + r.stderr;
    assert.ok(out.includes(gpu.hostKeyFingerprint), `the presented key is shown:\n${out}`);
    assert.ok(out.includes(other.hostKeyFingerprint), "the pinned key is shown");
    assert.deepEqual(snapshot(gpu), before0);
    assert.doesNotMatch(gpu.log, /Accepted publickey/, "the client never logged in");
  });

  test("a host that does not answer: a clear timeout naming it; the other host is deployed", async () => {
    const { project, workDir } = fleetProject(fleet, [
      { host: other, role: "general", webGuests: 1 },
      { host: hung, role: "general", webGuests: 1 },
    ], { connectTimeout: "20s" });
    works.push(workDir);
    const hungBefore = snapshot(hung);
    hung.freeze();
    try {
      const r = await project.deploy();
      assert.notEqual(r.code, 0, explain("cdktf deploy", r));
      assert.match(r.stdout + r.stderr, new RegExp(`${hung.address.replace(/\./g, "\\.")} did not answer within 20 s \\(connect_timeout\\)`));
      await until(() => other.sandbox.machine().vms["other-web0"]?.process != null, "other-web0 running");
      assert.match(snapshot(other).loaderConf, /^vmm_load="YES"$/m);
    } finally {
      hung.thaw();
    }
    assert.deepEqual(snapshot(hung), hungBefore);
    // With the host back, the next deploy finishes the job.
    const again = await project.deploy();
    assert.equal(again.code, 0, explain("cdktf deploy after the host is back", again));
    await until(() => hung.sandbox.machine().vms["hung-web0"]?.process != null, "hung-web0 running");
  });

  test("the SSH connection cut in the middle of an apply: no torn files, the next apply converges", async () => {
    const relay = new TcpCutter({ host: gpu.listen, port: gpu.port });
    await relay.start();
    try {
      const { project, workDir } = gpuHostProject(fleet, gpu, { BHYVE_HOST_ADDRESS: relay.address });
      works.push(workDir);
      const deploying = project.deploy();
      // fw1 starts after the host settings and the reservations, inside a guest.put call that
      // watches the new bhyve for 1.5 s: cut while that call is in flight.
      await until(() => gpu.sandbox.machine().vms.fw1?.process != null, "fw1 being started", 120_000);
      assert.ok(relay.cut() > 0, "a live connection was cut");
      const r = await deploying;
      assert.notEqual(r.code, 0, explain("cdktf deploy with the cut", r));
      assert.match(r.stdout + r.stderr, /connection|disconnect/i);
      assert.deepEqual(leftovers(gpu), []);
      const conf = readFileSync(join(gpu.sandbox.root, "boot/loader.conf"), "utf8");
      // Whole: the stock lines kept, the managed block complete from marker to marker.
      assert.ok(conf.startsWith(STOCK_LOADER_CONF), "the operator's lines are intact");
      assert.ok(parseLoaderConf(conf).managed, "the managed block is whole");
      assert.ok(conf.endsWith(`${MANAGED_END}\n`));
      assert.match(conf, /^pptdevs="3\/0\/0 3\/0\/1 4\/0\/1"$/m);
      JSON.parse(readFileSync(join(gpu.sandbox.root, "var/db/bhyve-agent/state.json"), "utf8"));

      const again = await project.deploy();
      assert.equal(again.code, 0, explain("cdktf deploy after the cut", again));
      await until(() => gpu.sandbox.machine().vms.fw1?.process != null, "fw1 running");
      const p = await project.terraform("gpu-host", ["plan", "-detailed-exitcode"]);
      // ml1 waits for the reboot that binds its boot-time devices; nothing else is left to do.
      assert.equal(p.code, 2, explain("plan", p));
      assert.match(p.stdout, /Plan: 0 to add, 1 to change, 0 to destroy/);
      assert.match(p.stdout, /bhyve_guest\.ml1_guest_\w+ will be updated in-place/);
      assert.equal((await project.destroy()).code, 0);
    } finally {
      await relay.stop();
    }
  });

  test("two applies at once against one host: both finish, the host has both stacks' guests", async () => {
    // Two stacks (two states) sharing one host: one runs web guests, the other binds a NIC port
    // live and runs a firewall guest on it. The agent's host lock serialises their calls.
    const a = fleetProject(fleet, [{ host: shared, role: "general", webGuests: 2, name: "teama" }]);
    const b = fleetProject(fleet, [{ host: shared, role: "edge", webGuests: 0, name: "teamb" }]);
    works.push(a.workDir, b.workDir);
    const [ra, rb] = await Promise.all([a.project.deploy(), b.project.deploy()]);
    assert.equal(ra.code, 0, explain("deploy a", ra));
    assert.equal(rb.code, 0, explain("deploy b", rb));
    for (const g of ["teama-web0", "teama-web1", "teamb-fw"]) {
      await until(() => shared.sandbox.machine().vms[g]?.process != null, `${g} running`);
    }
    assert.equal(snapshot(shared).drivers["4/0/1"], "ppt");
    for (const p of [a.project, b.project]) {
      const plan = await p.terraform("fleet", ["plan", "-detailed-exitcode"]);
      assert.equal(plan.code, 0, explain("plan", plan));
    }
    // What the two stacks cannot both have is refused by the agent, naming the field.
    const c = fleetProject(fleet, [{ host: shared, role: "edge", webGuests: 0, name: "teamc" }]);
    works.push(c.workDir);
    const rc = await c.project.deploy();
    assert.notEqual(rc.code, 0);
    assert.match(flat(rc), /guest\.passthru\[0\]\.device: 4\/0\/1 is already passed to guest teamb-fw/);
    assert.equal(shared.sandbox.machine().vms["teamc-fw"], undefined);
  });

  test("a guest whose bhyve fails to start: bhyve's own error reaches the operator with the guest's name", async () => {
    // gpu1-ml boots UEFI (bhyve itself opens the disk); its volume is gone.
    const vol = join(gpu.sandbox.root, "dev/zvol/zroot/vm/ml1");
    renameSync(vol, `${vol}.gone`);
    const { project, workDir } = fleetProject(fleet, [{ host: gpu, role: "gpu", webGuests: 0, name: "gpu1" }]);
    works.push(workDir);
    try {
      const r = await project.deploy();
      assert.notEqual(r.code, 0, explain("cdktf deploy", r));
      const out = flat(r);
      assert.match(out, /guest gpu1-ml on [\d.:]+: refused/, explain("cdktf deploy", r));
      assert.match(out, /bhyve exited 4: Could not open backing file: No such file or directory/, explain("cdktf deploy", r));
    } finally {
      renameSync(`${vol}.gone`, vol);
    }
    const again = await project.deploy();
    assert.equal(again.code, 0, explain("cdktf deploy with the volume back", again));
    await until(() => gpu.sandbox.machine().vms["gpu1-ml"]?.process != null, "gpu1-ml running");
    assert.equal((await project.destroy()).code, 0);
  });
});
