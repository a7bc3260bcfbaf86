/**
 * Adopting a running host end to end, behind the real sshd and the real terraform: vm-bhyve runs
 * three guests started by hand (a UEFI guest on a vm-bhyve switch, a guest it loads with bhyveload,
 * and a GPU passthrough guest, its devices reserved by a pptdevs line written by hand) and a fourth
 * the model cannot express. `cdktf-bhyve adopt` reads the host through the deploy key and writes an
 * app; `cdktf deploy` of that app restarts nothing (the same bhyve processes, now under the agent's
 * monitors), the plan after it is empty, and the fourth VM is left to vm-bhyve. Destroy then stops
 * and destroys the adopted guests like any of the agent's.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readGuest } from "../../agent/guests/lifecycle.js";
import { isZombie, processAlive } from "../../agent/host/pid-lock.js";
import { CdktfProject } from "../../provider/cli/lib/cdktf-project.js";
import { rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { setupVmBhyve, vmBhyveStart, writeVmBhyveGuest, type VmBhyveStarted } from "../../sandbox/vm-bhyve.js";
import { runBin } from "../support/cli.js";
import { until } from "../support/agent-host.js";
import { VM_BHYVE_GUESTS } from "../support/vm-bhyve-guests.js";
import { linkAppDependencies, prerequisite } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";
import { explain, removeWork } from "./e2e-helpers.js";

const skip = sshdSkipReason();
/** A process that runs (not one that ended and waits to be collected: pid 1 collects orphans when it gets to it). */
const runs = (pid: number): boolean => processAlive(pid) && !isZombie(pid);
const CONFS = VM_BHYVE_GUESTS;
const ADOPTED = ["fbsd", "gpu", "web"];

describe("cdktf-bhyve adopt over sshd: three hand-made VMs taken over, nothing restarts, the next plan is empty", prerequisite("adoption over sshd", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let app = "";
  let work = "";
  let project: CdktfProject;
  const started: Record<string, VmBhyveStarted> = {};
  const bhyvePid = (name: string) => host.sandbox.machine().vms[name]?.process?.pid ?? null;
  const stack = () => `adopted-${host.address.replace(/[^A-Za-z0-9]+/g, "-")}`;

  before(async () => {
    [host] = (await fleet.start([{ name: "adopt1", profile: "intel-vtd" }], 91)) as [SshdHost];
    const root = host.sandbox.root;
    // The operator's own setup, before the agent manages anything: pptdevs by hand, vm-bhyve, its guests.
    writeFileSync(join(root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="3/0/0 3/0/1"\n`);
    await rebootSandbox(root);
    setupVmBhyve(root, { switches: ["public"] });
    for (const [name, conf] of Object.entries(CONFS)) {
      writeVmBhyveGuest(root, name, conf);
      started[name] = await vmBhyveStart(root, name);
    }
    app = mkdtempSync(join(tmpdir(), "cdktf-bhyve-adopted-app-"));
    work = mkdtempSync(join(tmpdir(), "cdktf-bhyve-e2e-"));
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
    removeWork(app);
  });

  test("adopt writes the app: the three as guests with adopt, the GPU's functions reserved, the fourth left alone with why", () => {
    const r = runBin("cdktf-bhyve", ["adopt", host.address, "--host-key", host.hostKeyFingerprint, "--out", app, "--ssh-key-file", fleet.keyFile, "--ssh-user", fleet.account.user]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /adopts fbsd, gpu, web; leaves rnd alone/);
    const main = readFileSync(join(app, "main.ts"), "utf8");
    assert.equal(main.match(/^\s+adopt: true,$/gm)?.length, 3, main);
    assert.match(main, /host\.reservePpt\("ppt-3-0-0", \{ device: "3\/0\/0", vendorId: "0x10de", deviceId: "0x1e07", bind: "boot" \}\)/);
    assert.match(main, /\/\/ VM rnd is left alone[^\n]*\n\s*\/\/\s+- -s 26:0,virtio-rnd: the model has no virtio-rnd device/);
    // Reading the host changed nothing.
    for (const [n, s] of Object.entries(started)) assert.ok(runs(s.runnerPid), `${n}'s runner`);
  });

  test("deploy adopts them: the same bhyve processes under the agent's monitors, vm-bhyve's runners stopped; the plan after is empty", async () => {
    linkAppDependencies(app);
    project = new CdktfProject({ main: join(app, "main.ts"), workDir: work, env: { BHYVE_SSH_KEY_FILE: fleet.keyFile, BHYVE_SSH_USER: fleet.account.user } });
    const d = await project.deploy();
    assert.equal(d.code, 0, explain("cdktf deploy", d));
    // What the guest's monitor and vm-bhyve recorded, for a failure's message.
    const story = (n: string) => ["var/run/bhyve-agent/guests/" + n + "/events", "var/run/bhyve-agent/guests/" + n + "/bhyve.argv", "var/db/bhyve-agent/guests/" + n + "/bhyve.argv", "var/db/bhyve-agent/guests/" + n + "/bhyveload.argv", "var/db/bhyve-agent/guests/" + n + "/monitor.conf", "var/db/bhyve-agent/audit.log", `vm/${n}/vm-bhyve.log`].map((f) => { try { return `${f}:\n${readFileSync(join(host.sandbox.root, f), "utf8")}`; } catch { return `${f}: none`; } }).join("\n");
    for (const n of ADOPTED) {
      assert.equal(bhyvePid(n), started[n]!.bhyvePid, `${n} was not restarted\n${story(n)}`);
      const g = readGuest(host.sandbox.paths, n);
      assert.deepEqual([g.state, g.pid, g.vm_foreign], ["running", started[n]!.bhyvePid, false], n);
      await until(() => !runs(started[n]!.runnerPid), `${n}'s vm-bhyve runner stopped`);
    }
    assert.deepEqual(Object.keys(host.sandbox.machine().pci.filter((f) => f.driver === "ppt")).length, 2);
    assert.equal(bhyvePid("rnd"), started.rnd!.bhyvePid);
    assert.ok(runs(started.rnd!.runnerPid), "the VM not adopted is still vm-bhyve's");
    assert.equal(readGuest(host.sandbox.paths, "rnd").vm_foreign, true);
    const p = await project.terraform(stack(), ["plan", "-detailed-exitcode"]);
    assert.equal(p.code, 0, explain("plan after the adopting deploy", p));
    for (const n of ADOPTED) assert.equal(bhyvePid(n), started[n]!.bhyvePid, `${n} still the same bhyve`);
  });

  test("destroy stops and destroys the adopted guests as the agent's own; vm-bhyve's fourth runs on", async () => {
    const d = await project.terraform(stack(), ["destroy", "-auto-approve"]);
    assert.equal(d.code, 0, explain("destroy", d));
    for (const n of ADOPTED) {
      assert.equal(runs(started[n]!.bhyvePid), false, `${n}'s bhyve powered off`);
      assert.equal(host.sandbox.machine().vms[n], undefined, `${n}'s VM destroyed`);
    }
    assert.equal(bhyvePid("rnd"), started.rnd!.bhyvePid);
  });
});
