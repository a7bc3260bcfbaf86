/**
 * Drift on a host deployed with `cdktf deploy` (examples/gpu-host, behind the real sshd): each
 * change made behind Terraform's back shows in `terraform plan -detailed-exitcode` (exit 2) with
 * the attribute that changed, and the next apply heals it (the plan after is empty again).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { guestAction, rebootSandbox } from "../../sandbox/host.js";
import { until } from "../support/agent-host.js";
import { explain, gpuHostProject, removeWork, snapshot } from "./e2e-helpers.js";
import { prerequisite } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

describe("drift on a deployed gpu-host, shown by the plan and healed by apply", prerequisite("drift on a deployed gpu-host, shown by the plan and healed by apply", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let work = "";
  let project: ReturnType<typeof gpuHostProject>["project"];
  const plan = () => project.terraform("gpu-host", ["plan", "-detailed-exitcode"]);
  const running = (name: string): boolean => host.sandbox.machine().vms[name]?.process != null;
  // A VM outlives its bhyve process and holds its passthru devices until the monitor destroys it.
  const destroyed = (name: string): boolean => host.sandbox.machine().vms[name] === undefined;
  /** Powers `name` off from inside once it runs, and waits until its monitor has destroyed the VM. */
  const powerOff = async (name: string): Promise<void> => {
    await until(() => running(name), `${name} running`);
    await guestAction(host.sandbox.root, name, "poweroff");
    await until(() => destroyed(name), `${name} powered off and its VM destroyed`);
  };

  before(async () => {
    [host] = (await fleet.start([{ name: "drift", profile: "intel-vtd" }], 41)) as [SshdHost];
    ({ project, workDir: work } = gpuHostProject(fleet, host));
    const d = await project.deploy();
    assert.equal(d.code, 0, explain("cdktf deploy", d));
    assert.equal(await host.reboot(), 0, "autostart");
    await until(() => running("ml1") && running("fw1"), "both guests running");
    const p = await plan();
    assert.equal(p.code, 0, explain("plan after deploy and reboot", p));
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
  });

  const bhyvePid = (name: string): number => host.sandbox.machine().vms[name]!.process!.pid;

  const cases: Array<[string, () => Promise<void> | void, RegExp[]]> = [
    ["a managed loader.conf line edited by hand", () => {
      const f = join(host.sandbox.root, "boot/loader.conf");
      writeFileSync(f, readFileSync(f, "utf8").replace('pptdevs="3/0/0 3/0/1 4/0/1"', 'pptdevs="3/0/0 3/0/1"'));
    }, [/loader_conf_in_sync\s+= false -> true/]],
    ["a device unbound from ppt with devctl", async () => {
      await powerOff("fw1");
      const r = host.sandbox.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]);
      assert.equal(r.status, 0, r.stderr);
    }, [/bound\s+= false -> true/, /state\s+= "stopped" -> "running"/]],
    ["a guest powered off from inside", () => powerOff("fw1"), [/# bhyve_guest\.fw1_guest_\w+ will be updated in-place/, /state\s+= "stopped" -> "running"/]],
    ["a guest crashed into crash-loop", async () => {
      // ml1 restarts always; the monitor gives up after crash_limit crashes within the window.
      for (let i = 0; i < 3; i++) {
        await until(() => running("ml1"), "ml1 up before the crash");
        await guestAction(host.sandbox.root, "ml1", "crash");
        await until(() => !running("ml1") || host.sandbox.machine().vms.ml1?.process?.pid === undefined, "ml1 crashed");
      }
      await until(() => /crash/.test(readFileSync(join(host.sandbox.root, "var/run/bhyve-agent/guests/ml1/status"), "utf8")), "ml1 in crash-loop");
    }, [/# bhyve_guest\.ml1_guest_\w+ will be updated in-place/, /status\s+= "crash[\w-]*" -> \(known after apply\)/]],
    ["a guest killed (SIGKILL to its bhyve)", async () => {
      await until(() => running("fw1"), "fw1 running");
      process.kill(bhyvePid("fw1"), "SIGKILL");
      await until(() => !running("fw1"), "fw1 gone");
    }, [/# bhyve_guest\.fw1_guest_\w+ will be updated in-place/, /status\s+= "(crashed|stopped)" -> \(known after apply\)/]],
    ["a guest deleted behind Terraform's back", () => {
      const r = host.sandbox.cli(["rpc"], `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "guest.delete", params: { name: "fw1" } })}\n`);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /"error"/);
    }, [/# bhyve_guest\.fw1_guest_\w+ will be created/]],
    // Every reservation is in pptdevs, so a reboot binds `live` devices too; a live binding is lost
    // across a reboot only when loader.conf no longer lists it, here after a hand edit.
    ["a host rebooted without the agent's rc.d script, after a hand edit dropped a device from pptdevs (live binding lost, boot ones applied, guests down)", async () => {
      const f = join(host.sandbox.root, "boot/loader.conf");
      writeFileSync(f, readFileSync(f, "utf8").replace('pptdevs="3/0/0 3/0/1 4/0/1"', 'pptdevs="3/0/0 3/0/1"'));
      assert.equal(host.sandbox.cli(["shutdown"]).status, 0);
      await rebootSandbox(host.sandbox.root);
      const s = snapshot(host);
      assert.equal(s.drivers["4/0/1"], "igb", "the live binding is gone");
      assert.equal(s.drivers["3/0/0"], "ppt", "the boot binding is made by the loader");
      assert.ok(!running("ml1") && !running("fw1"), "no guest runs without autostart");
    }, [/loader_conf_in_sync\s+= false -> true/, /bound\s+= false -> true/, /# bhyve_guest\.ml1_guest_\w+ will be updated in-place/, /# bhyve_guest\.fw1_guest_\w+ will be updated in-place/]],
  ];

  for (const [what, cause, shows] of cases) {
    test(`drift: ${what}`, async () => {
      await cause();
      const p = await plan();
      assert.equal(p.code, 2, explain("terraform plan", p));
      for (const re of shows) assert.match(p.stdout, re);
      const a = await project.terraform("gpu-host", ["apply", "-auto-approve", "-input=false"]);
      assert.equal(a.code, 0, explain("terraform apply", a));
      await until(() => running("ml1") && running("fw1"), "both guests running again");
      assert.equal(snapshot(host).drivers["4/0/1"], "ppt");
      const again = await plan();
      assert.equal(again.code, 0, explain("terraform plan after the heal", again));
    });
  }
});
