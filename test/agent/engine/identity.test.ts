/** A guest's UUID (made once by the agent and kept, or given) and the GPU knobs on a sandbox host. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { rebootSandbox } from "../../../sandbox/host.js";
import { autostart, getGuest } from "../../../agent/engine/service.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const guest = (extra: Record<string, unknown> = {}) => ({ name: "gpu1", cpus: 4, memory: "1G", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], restart: "always", ...extra });

describe("guest identity and the GPU knobs", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const argv = (): string[] => readGuest(h.paths, "gpu1").argv ?? [];
  const uuidArg = (): string | undefined => argv()[argv().indexOf("-U") + 1];

  test("the first apply makes a UUID; it stays across re-applies, a changed command line, a restart and a reboot", async () => {
    assert.deepEqual((await h.apply({ guests: [guest()] })).refused, []);
    const first = (await getGuest(h.paths, "gpu1")).uuid!;
    assert.match(first, UUID);
    assert.equal(uuidArg(), first);
    assert.deepEqual((await h.apply({ guests: [guest()] })).changed, [], "a second apply changes nothing");
    // A changed command line restarts the guest, with the same UUID.
    const r = await h.apply({ guests: [guest({ ignore_unknown_msrs: true, rtc: "localtime" })] });
    assert.deepEqual(r.refused, []);
    await until(() => argv().includes("-w"), "restarted with -w");
    assert.ok(!argv().includes("-u"), "localtime: no -u");
    assert.equal(uuidArg(), first);
    await rebootSandbox(h.root);
    await autostart(h.paths, { settleMs: 600 });
    await until(() => h.machine().vms.gpu1?.process != null, "back after the reboot");
    assert.equal(uuidArg(), first);
  });

  test("a UUID given in the document wins, and is kept when it is dropped from the document again", async () => {
    const given = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
    await h.apply({ guests: [guest({ uuid: given.toUpperCase() })] });
    await until(() => uuidArg() === given, "restarted with the given UUID");
    assert.equal((await getGuest(h.paths, "gpu1")).uuid, given);
    assert.deepEqual((await h.apply({ guests: [guest()] })).changed, [], "the kept UUID is the given one: nothing to change");
    assert.equal(uuidArg(), given);
  });

  test("a pin to a host CPU this host does not have is refused before anything changes, naming the field", async () => {
    const before = argv();
    await assert.rejects(h.apply({ guests: [guest({ cpu_pinning: [{ vcpu: 0, host_cpu: 2 }, { vcpu: 1, host_cpu: 24 }] })] }),
      (e: Error & { code?: string }) => /guests\[0\]\.cpu_pinning\[1\]\.host_cpu: host CPU 24 does not exist: this host has 24 \(0-23, hw\.ncpu\)/.test(e.message));
    assert.deepEqual(argv(), before);
    const ok = await h.apply({ guests: [guest({ cpu_pinning: [{ vcpu: 0, host_cpu: 2 }, { vcpu: 3, host_cpu: 23 }], sockets: 1, cores: 2, threads: 2, hostbridge: "amd" })] });
    assert.deepEqual(ok.refused, []);
    await until(() => argv().includes("0,amd_hostbridge"), "restarted with the knobs");
    assert.deepEqual(argv().slice(1, 3), ["-c", "cpus=4,sockets=1,cores=2,threads=2"]);
    assert.ok(argv().join(" ").includes("-p 0:2 -p 3:23"));
  });

  test("deleting the guest removes its UUID with it", async () => {
    const dir = h.paths.guestSpecDir("gpu1");
    assert.ok(existsSync(join(dir, "uuid")));
    await h.apply({ guests: [] });
    assert.ok(!existsSync(join(dir, "uuid")));
  });
});
