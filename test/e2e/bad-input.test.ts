/**
 * Bad input never reaches a host: an invalid stack fails at `cdktf synth` (so `cdktf deploy` never
 * connects), and a hand-edited invalid Terraform configuration fails at `terraform validate` and
 * `terraform plan`, each naming the field. The host's sshd log shows no connection at all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CdktfProject } from "../../provider/cli/lib/cdktf-project.js";
import { prerequisite, repoPath } from "../support/helpers.js";
import { explain, gpuHostProject, removeWork, snapshot, type HostSnapshot } from "./e2e-helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

describe("bad input never reaches a host", prerequisite("bad input never reaches a host", skip), () => {
  const fleet = new SshdFleet();
  const works: string[] = [];
  let host: SshdHost;
  let before0: HostSnapshot;

  before(async () => {
    [host] = (await fleet.start([{ name: "bad", profile: "intel-vtd" }], 71)) as [SshdHost];
    before0 = snapshot(host);
  });
  after(async () => {
    await fleet.stop();
    works.forEach(removeWork);
  });

  const untouched = (): void => {
    assert.doesNotMatch(host.log, /Connection from/, "nothing connected to the host");
    assert.deepEqual(snapshot(host), before0);
  };

  test("an invalid stack fails at synth, naming construct and field; cdktf deploy never connects", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-e2e-"));
    works.push(workDir);
    const project = new CdktfProject({
      main: repoPath("test/e2e/apps/broken-stack.ts"),
      workDir,
      env: { BHYVE_HOST_ADDRESS: host.address, BHYVE_HOST_KEY: host.hostKeyFingerprint, BHYVE_SSH_KEY_FILE: fleet.keyFile, BHYVE_SSH_USER: fleet.account.user },
    });
    const r = await project.deploy();
    assert.notEqual(r.code, 0, explain("cdktf deploy", r));
    const out = r.stdout + r.stderr;
    assert.match(out, /\[broken\/ml1\] passthru\[1\]\.device: 3\/0\/1 is not reserved on this host; add it to ppt/, explain("cdktf deploy", r));
    assert.match(out, /\[broken\/ml1\] disks\[0\]\.slot: slot 6 is already taken by passthru\[0\] \(3\/0\/0\)/);
    untouched();
  });

  test("a hand-edited invalid cdk.tf.json fails at terraform validate and plan, naming the attribute", async () => {
    const { project, workDir } = gpuHostProject(fleet, host);
    works.push(workDir);
    const s = await project.synth();
    assert.equal(s.code, 0, explain("cdktf synth", s));
    const file = join(project.stackDir("gpu-host"), "cdk.tf.json");
    const json = JSON.parse(readFileSync(file, "utf8")) as { resource: { bhyve_guest: Record<string, { name: string; passthru: Array<{ slot: number }>; memory: string }> } };
    const fw1 = Object.values(json.resource.bhyve_guest).find((g) => g.name === "fw1")!;
    fw1.passthru[0]!.slot = 32;
    writeFileSync(file, JSON.stringify(json, null, 2));

    const init = await project.terraform("gpu-host", ["init", "-input=false"]);
    assert.equal(init.code, 0, explain("terraform init", init));
    for (const args of [["validate"], ["plan", "-input=false"]]) {
      const r = await project.terraform("gpu-host", args);
      assert.equal(r.code, 1, explain(`terraform ${args[0]}`, r));
      const out = (r.stdout + r.stderr).replace(/\s+/g, " ");
      assert.match(out, /passthru\[0\]\.slot/, explain(`terraform ${args[0]}`, r));
      assert.match(out, /32/);
    }
    untouched();
  });
});
