/** A guest's UUID (made once by the agent and kept, or given) and the GPU knobs on a sandbox host. */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { guestAction, rebootSandbox } from "../../../sandbox/host.js";
import { autostart, getGuest } from "../../../agent/engine/service.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { ensureVncPort, storedVncPort } from "../../../agent/guests/identity.js";
import { checkDocumentData } from "../../../agent/model/validate.js";
import type { Guest } from "../../../agent/model/types.js";
import { freePortIn, rfbHandshake } from "../../support/rfb-client.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const guest = (extra: Record<string, unknown> = {}) => ({ name: "gpu1", cpus: 4, memory: "1G", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], restart: "always", ...extra });

describe("guest identity and the GPU knobs", () => {
  const h = new AgentHost("intel-vtd");
  mkdirSync(join(h.root, "vm"), { recursive: true });
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

  test("UEFI variables: a copy of the template made at the first start, kept across restarts; a removed one is drift the next apply heals", async () => {
    await h.apply({ guests: [guest()] });
    await until(() => argv().includes("0,hostbridge") && h.machine().vms.gpu1?.process != null, "running the plain configuration");
    const vars = join(h.paths.guestSpecDir("gpu1"), "uefi-vars.fd");
    assert.ok(existsSync(vars), "made when the guest first started");
    assert.equal(statSync(vars).size, 128 * 1024);
    assert.equal(argv()[argv().lastIndexOf("-l") + 1], `bootrom,${FW},/var/db/bhyve-agent/guests/gpu1/uefi-vars.fd`);
    // The guest writes a boot entry (bhyve maps the file shared); a restart keeps it.
    writeFileSync(vars, Buffer.concat([Buffer.from("boot entry: debian\n"), Buffer.alloc(128 * 1024 - 19)]));
    const before = readGuest(h.paths, "gpu1").restarts;
    await guestAction(h.root, "gpu1", "crash");
    await until(() => readGuest(h.paths, "gpu1").restarts > before && h.machine().vms.gpu1?.process != null, "restarted");
    assert.match(readFileSync(vars, "utf8"), /^boot entry: debian/);
    rmSync(vars);
    assert.equal((await getGuest(h.paths, "gpu1")).uefi_vars_present, false);
    const r = await h.apply({ guests: [guest()] });
    assert.deepEqual(r.changed.map((c) => c.what), ["guest gpu1"], JSON.stringify(r.changed));
    assert.match(r.changed[0]!.detail, /UEFI variables file was gone: made again from the template/);
    assert.equal((await getGuest(h.paths, "gpu1")).uefi_vars_present, true);
  });

  test("uefi_vars: false runs on the firmware alone; a bootrom without a template beside it is refused by name", async () => {
    await h.apply({ guests: [guest({ uefi_vars: false })] });
    await until(() => argv()[argv().lastIndexOf("-l") + 1] === `bootrom,${FW}`, "restarted without variables");
    assert.equal((await getGuest(h.paths, "gpu1")).uefi_vars_present, null);
    copyFileSync(join(h.root, FW), join(h.root, "vm/custom.fd"));
    const r = await h.apply({ guests: [guest(), guest({ name: "custom", bootrom: "/vm/custom.fd", disks: [{ path: "/dev/zvol/zroot/vm/disk1" }] })] });
    assert.deepEqual(r.refused.map((x) => x.what), ["guest custom"]);
    assert.match(r.refused[0]!.detail, /keeps its UEFI variables in a copy of \/vm\/BHYVE_UEFI_VARS\.fd, which cannot be used \(it does not exist\); install edk2-bhyve .* or set uefi_vars: false/);
    assert.equal(h.machine().vms.custom?.process ?? null, null, "not started");
    await h.apply({ guests: [guest()] });
  });

  test("a boot order runs on 14; a 13.x host refuses it by field and release before anything changes", async () => {
    const r = await h.apply({ guests: [guest({ disks: [{ path: "/dev/zvol/zroot/vm/disk0", bootindex: 0 }] })] });
    assert.deepEqual(r.refused, []);
    await until(() => argv().some((a) => a.endsWith(",bootindex=0")), "restarted with the boot order");
    const old = new AgentHost("freebsd13");
    try {
      await assert.rejects(old.apply({ guests: [{ ...guest({ name: "old1", disks: [{ path: "/dev/zvol/zroot/vm/disk1", bootindex: 0 }] }) }] }),
        (e: Error) => /guests\[0\]\.disks\[0\]\.bootindex: a boot order needs FreeBSD 14\.0 or later \(bhyve before it ignores bootindex\); this host runs 13\.5-RELEASE/.test(e.message));
      assert.equal(Object.keys(old.machine().vms).length, 0);
    } finally {
      await old.destroy();
    }
    await h.apply({ guests: [guest()] });
  });

  test("a lost UUID file while the guest runs: the next apply keeps the UUID it runs with, and restarts nothing", async () => {
    const before = uuidArg()!;
    rmSync(join(h.paths.guestSpecDir("gpu1"), "uuid"));
    assert.deepEqual((await h.apply({ guests: [guest()] })).changed, []);
    assert.equal((await getGuest(h.paths, "gpu1")).uuid, before);
    assert.equal(readFileSync(join(h.paths.guestSpecDir("gpu1"), "uuid"), "utf8"), `${before}\n`);
  });

  test("deleting the guest removes its UUID and UEFI variables with it", async () => {
    const dir = h.paths.guestSpecDir("gpu1");
    assert.ok(existsSync(join(dir, "uuid")) && existsSync(join(dir, "uefi-vars.fd")));
    await h.apply({ guests: [] });
    assert.ok(!existsSync(dir));
  });
});

describe("a guest's framebuffer: its port allocated once and kept, its VNC server served by its bhyve", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const desk = (name: string, fb: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ name, cpus: 1, memory: "512M", bootrom: FW, disks: [{ path: name === "d1" ? "/dev/zvol/zroot/vm/disk0" : name === "d2" ? "/dev/zvol/zroot/vm/disk1" : `/vm/${name}.img` }], framebuffer: fb, ...extra });

  test("allocation: the lowest port from 5900 that no other guest has (given or kept); kept; a kept one another guest claims moves", () => {
    const state = (guests: unknown[]) => {
      const r = checkDocumentData({ guests });
      assert.ok(r.ok, JSON.stringify(r));
      return r.state;
    };
    const s1 = state([desk("a", { port: 5900 }), desk("b"), desk("c")]);
    const [a, b, c] = s1.guests as [Guest, Guest, Guest];
    assert.equal(ensureVncPort(h.paths, a, s1, [])!.port, 5900);
    assert.equal(ensureVncPort(h.paths, b, s1, ["a"])!.port, 5901, "5900 is a's (given)");
    assert.equal(ensureVncPort(h.paths, c, s1, ["a", "b"])!.port, 5902, "5901 is b's (kept)");
    assert.equal(ensureVncPort(h.paths, b, s1, ["a", "b", "c"])!.port, 5901, "kept");
    rmSync(h.paths.guestSpecDir("c"), { recursive: true, force: true });
    assert.throws(() => ensureVncPort(h.paths, c, s1, ["a", "b"], undefined, [5900, 5901]), /no free port in 5900-5901 \(policy framebuffer_ports\) for guest c's framebuffer/);
    assert.equal(ensureVncPort(h.paths, c, s1, ["a", "b"])!.port, 5902);
    assert.equal(storedVncPort(h.paths, "b"), 5901);
    const s2 = state([desk("a", { port: 5901 }), desk("b"), desk("c")]);
    assert.equal(ensureVncPort(h.paths, s2.guests[1]!, s2, ["a", "b", "c"])!.port, 5900, "a claims b's port: b takes the lowest free one");
    assert.equal(ensureVncPort(h.paths, state([desk("e", {}, { framebuffer: undefined })]).guests[0]!, s2, []), undefined, "no framebuffer, no port");
    for (const n of ["a", "b", "c"]) rmSync(h.paths.guestSpecDir(n), { recursive: true, force: true });
  });

  test("a running guest serves VNC at the port the agent keeps (guest.get says where); re-applies and a lost port file change nothing", async () => {
    const given = await freePortIn(5950, 5974);
    assert.deepEqual((await h.apply({ guests: [desk("d1", { port: given }), desk("d2", { width: 800, height: 600 })] })).refused, []);
    await until(() => h.machine().vms.d1?.process != null && h.machine().vms.d2?.process != null, "both running");
    const v = (await getGuest(h.paths, "d2")).vnc!;
    assert.deepEqual(v, { listen: "127.0.0.1", port: 5900 });
    assert.ok((readGuest(h.paths, "d2").argv ?? []).includes("29:0,fbuf,rfb=127.0.0.1:5900,w=800,h=600"));
    const s = await rfbHandshake("127.0.0.1", v.port!);
    s.close();
    assert.deepEqual([s.width, s.height], [800, 600]);
    assert.equal((await getGuest(h.paths, "d1")).vnc!.port, given);
    assert.deepEqual((await h.apply({ guests: [desk("d1", { port: given }), desk("d2", { width: 800, height: 600 })] })).changed, []);
    rmSync(join(h.paths.guestSpecDir("d2"), "vnc-port"));
    assert.deepEqual((await h.apply({ guests: [desk("d1", { port: given }), desk("d2", { width: 800, height: 600 })] })).changed, [], "the port its bhyve serves is kept again");
    assert.equal(storedVncPort(h.paths, "d2"), 5900);
    await h.apply({ guests: [] });
    assert.ok(!existsSync(h.paths.guestSpecDir("d2")), "the port goes with the guest");
  });
});
