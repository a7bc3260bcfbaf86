/** Values the host would refuse anyway are refused before any change, with the host's figure. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { gatherFacts } from "../../../agent/host/facts.js";
import { AgentHost, FW } from "../../support/agent-host.js";

describe("host limits at apply: vCPUs and physical memory", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("facts carry hw.ncpu and the vCPU limit", async () => {
    const f = await gatherFacts(h.paths);
    assert.ok(f.cpu.ncpu! > 0);
    assert.equal(f.cpu.max_vcpus, f.cpu.ncpu, "vmm not loaded: the tunable's default, hw.ncpu");
  });

  test("more vCPUs than hw.vmm.maxcpu, more memory than hw.physmem: refused with the figures, nothing written", async () => {
    const f = await gatherFacts(h.paths);
    const conf = readFileSync(h.paths.loaderConf, "utf8");
    await assert.rejects(h.apply({ guests: [{ name: "big", cpus: f.cpu.max_vcpus! + 1, memory: "4T", bootrom: FW }] }), (err: Error & { code?: string; problems?: Array<{ path: string; message: string }> }) => {
      assert.equal(err.code, "E_SPEC_INVALID");
      assert.deepEqual(err.problems!.map((p) => p.path), ["guests[0].cpus", "guests[0].memory"]);
      assert.match(err.problems![0]!.message, new RegExp(`^${f.cpu.max_vcpus! + 1} vCPUs is more than this host allows one guest: ${f.cpu.max_vcpus} `));
      assert.match(err.problems![1]!.message, /^4096\.0 GiB is more than this host's physical memory, [\d.]+ GiB \(hw\.physmem\)$/);
      return true;
    });
    assert.equal(readFileSync(h.paths.loaderConf, "utf8"), conf);
    const ok = await h.apply({ guests: [{ name: "fits", cpus: f.cpu.max_vcpus!, memory: "1G", bootrom: FW }] });
    assert.deepEqual(ok.refused, []);
  });
});
