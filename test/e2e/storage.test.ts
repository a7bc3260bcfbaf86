/**
 * Storage and first boot end to end (examples/storage, behind the real sshd and the real
 * terraform): a cloned root volume, a reserved data volume, a sparse image file and cloud-init
 * seeds are made at deploy; the plan after is empty; a larger size grows the clone, a smaller one
 * is refused with both sizes; a volume shrunk behind Terraform's back is drift; destroy removes the
 * clone (on_delete = destroy) and keeps the data volume and the file.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CdktfProject } from "../../provider/cli/lib/cdktf-project.js";
import { readSandboxIso } from "../../sandbox/tools/makefs.js";
import { FAST_CONFIG, until } from "../support/agent-host.js";
import { prerequisite, repoPath } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";
import { explain, removeWork } from "./e2e-helpers.js";

const skip = sshdSkipReason();
const GiB = 2 ** 30;

describe("disks and cloud-init deployed over sshd: made, grown, shrink refused, drift, kept or destroyed", prerequisite("disks and cloud-init over sshd", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let work = "";
  let project: CdktfProject;
  const plan = () => project.terraform("storage", ["plan", "-detailed-exitcode"]);
  const zfs = (...args: string[]) => host.sandbox.run("zfs", args);
  const volsize = (ds: string) => zfs("list", "-H", "-p", "-o", "volsize", ds).stdout.trim();

  before(async () => {
    [host] = (await fleet.start([{ name: "store1", profile: "intel-vtd" }], 47)) as [SshdHost];
    writeFileSync(join(host.sandbox.root, "usr/local/etc/bhyve-agent.conf"), `${FAST_CONFIG}policy:\n  zvol_parents: [zroot/vm, zroot/images]\n`);
    work = mkdtempSync(join(tmpdir(), "cdktf-bhyve-e2e-"));
    project = new CdktfProject({
      main: repoPath("examples/storage/main.ts"),
      workDir: work,
      env: { BHYVE_HOST_ADDRESS: host.address, BHYVE_HOST_KEY: host.hostKeyFingerprint, BHYVE_SSH_KEY_FILE: fleet.keyFile, BHYVE_SSH_USER: fleet.account.user },
    });
    const d = await project.deploy();
    assert.equal(d.code, 0, explain("cdktf deploy", d));
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
  });

  test("deployed: the clone, the reserved volume, the file and both seeds are there, each guest runs on them; the plan is empty", async () => {
    assert.equal(zfs("list", "-H", "-p", "-o", "origin,volsize,bhyve-agent:guest", "zroot/vm/www1/root").stdout, `zroot/images/freebsd-14.3@base\t${20 * GiB}\twww1\n`);
    assert.notEqual(zfs("list", "-H", "-p", "-o", "refreservation", "zroot/vm/www1/data").stdout, "0\n");
    assert.ok(existsSync(join(host.sandbox.root, "vm/www2/disk0.img")));
    const seed = readSandboxIso(readFileSync(join(host.sandbox.root, "var/db/bhyve-agent/guests/www1/seed.iso")));
    assert.equal(seed!.label, "CIDATA");
    assert.match(seed!.files["user-data"]!, /^#cloud-config\nhostname: www1\npackages:\n {2}- nginx\n/);
    assert.match(seed!.files["meta-data"]!, /^local-hostname: www1\ninstance-id: iid-www1-[0-9a-f]{16}\n$/);
    for (const g of ["www1", "www2"]) await until(() => host.sandbox.machine().vms[g]?.process != null, `${g} running`);
    const p = await plan();
    assert.equal(p.code, 0, explain("plan after deploy", p));
  });

  test("a larger size grows the clone in place; a smaller one fails the apply with both sizes and changes nothing", async () => {
    assert.equal((await project.synth({ BHYVE_ROOT_SIZE: "30G" })).code, 0);
    const p = await plan();
    assert.equal(p.code, 2, explain("plan of the larger size", p));
    assert.match(p.stdout, /~ size\s+= "20G" -> "30G"/);
    const a = await project.terraform("storage", ["apply", "-auto-approve"]);
    assert.equal(a.code, 0, explain("apply", a));
    assert.equal(volsize("zroot/vm/www1/root"), String(30 * GiB));
    assert.equal((await project.synth({ BHYVE_ROOT_SIZE: "10G" })).code, 0);
    // Refused at plan (the read size is in the state), before anything reaches the host; the agent refuses it too.
    const shrink = await plan();
    assert.equal(shrink.code, 1, explain("plan of the smaller size", shrink));
    assert.match(shrink.stderr.replace(/[\s│]+/g, " "), /A disk cannot shrink \(E_SHRINK\) .*size 10G is smaller than the 30G volume zroot\/vm\/www1\/root has: disks only grow/);
    assert.match(shrink.stderr, /with bhyve_guest\.www1/);
    assert.equal(volsize("zroot/vm/www1/root"), String(30 * GiB));
    assert.equal((await project.synth({ BHYVE_ROOT_SIZE: "30G" })).code, 0);
  });

  test("a volume shrunk behind Terraform's back shows in the plan, and apply grows it back", async () => {
    assert.equal(zfs("set", "volsize=25G", "zroot/vm/www1/root").status, 0);
    const p = await plan();
    assert.equal(p.code, 2, explain("plan after the drift", p));
    assert.match(p.stdout, /~ size\s+= "25G" -> "30G"/);
    const a = await project.terraform("storage", ["apply", "-auto-approve"]);
    assert.equal(a.code, 0, explain("apply", a));
    assert.equal(volsize("zroot/vm/www1/root"), String(30 * GiB));
    assert.equal((await plan()).code, 0);
    // A property no attribute carries: the guest's status says so, and apply sets it back.
    assert.equal(zfs("set", "volmode=geom", "zroot/vm/www1/data").status, 0);
    const vm = await plan();
    assert.equal(vm.code, 2, explain("plan after the volmode change", vm));
    assert.match(vm.stdout, /status\s+= "disk-drift" -> \(known after apply\)/);
    assert.equal((await project.terraform("storage", ["apply", "-auto-approve"])).code, 0);
    assert.equal(zfs("list", "-H", "-o", "volmode", "zroot/vm/www1/data").stdout, "dev\n");
    assert.equal((await plan()).code, 0);
  });

  test("destroy: the plan says which disk goes; the clone is destroyed, the data volume and the file are kept", async () => {
    const p = await project.terraform("storage", ["plan", "-destroy"]);
    assert.equal(p.code, 0, explain("plan -destroy", p));
    assert.match(p.stdout.replace(/\s+/g, " "), /Deleting guest www1 destroys a disk .*volume zroot\/vm\/www1\/root/);
    const d = await project.terraform("storage", ["destroy", "-auto-approve"]);
    assert.equal(d.code, 0, explain("destroy", d));
    assert.equal(zfs("list", "zroot/vm/www1/root").status, 1, "the clone is gone");
    assert.equal(volsize("zroot/vm/www1/data"), String(10 * GiB), "kept");
    assert.ok(existsSync(join(host.sandbox.root, "vm/www2/disk0.img")), "kept");
  });
});
