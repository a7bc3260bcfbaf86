import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bhyveProvider } from "../../../provider/resources/provider.js";
import { conform, isUnknown, UNKNOWN } from "../../../provider/plugin/values.js";
import { blockType } from "../../../provider/plugin/schema.js";
import type { ObjectValue, ResourceDef } from "../../../provider/plugin/types.js";

const P = bhyveProvider();
const KEY = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78";
const obj = (r: ResourceDef, v: Record<string, unknown>): ObjectValue => conform(blockType(r.schema), v) as ObjectValue;
const guestR = P.resources.bhyve_guest!;
const pptR = P.resources.bhyve_ppt_device!;
const hostR = P.resources.bhyve_host!;

const GUEST = { address: "127.0.0.1:2201", host_key: KEY, name: "ml1", cpus: 8, memory: "32G", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", disk: [{ path: "/dev/zvol/zroot/vm/ml1", type: "nvme" }], nic: [], passthru: [{ device: "3/0/0", slot: 6 }, { device: "3/0/1", slot: 6 }], uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8" };

describe("bhyve_guest", () => {
  test("validation runs the spec model and names the attribute at fault", () => {
    const diags = guestR.validate(obj(guestR, { ...GUEST, passthru: [{ device: "3/0/0", slot: 31 }], cpus: 0 }));
    assert.deepEqual(diags.map((d) => [d.attribute, d.detail]), [
      [["cpus"], "cpus: 0 is out of range (1-4096)"],
      [["passthru", 0, "slot"], "passthru[0].slot: slot 31 is reserved for the LPC bridge"],
    ]);
    assert.deepEqual(guestR.validate(obj(guestR, { ...GUEST, cpus: UNKNOWN })), [], "unknown values wait for the plan");
    assert.match(guestR.validate(obj(guestR, { ...GUEST, host_key: "MD5:aa" }))[0]!.detail!, /not a SHA256 fingerprint/);
  });

  test("create: defaults from the configuration, the exact command line, status known after apply", async () => {
    const config = obj(guestR, GUEST);
    const { planned, requiresReplace, diagnostics } = await guestR.plan(null, config, config);
    assert.deepEqual(requiresReplace, []);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual([planned.state, planned.restart, planned.start_order, planned.id], ["running", "on-reboot", 0, "127.0.0.1:2201/ml1"]);
    assert.deepEqual((planned.passthru as ObjectValue[]).map((p) => p.function), [0, 1], "function defaults to the host function");
    assert.deepEqual(planned.command_line, ["/usr/sbin/bhyve", "-c", "8", "-m", "32G", "-S", "-A", "-H", "-P", "-u", "-U", "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "-s", "0,hostbridge", "-s", "4:0,nvme,/dev/zvol/zroot/vm/ml1", "-s", "6:0,passthru,3/0/0", "-s", "6:1,passthru,3/0/1", "-s", "31,lpc", "-l", "com1,/dev/nmdm-ml1.1A", "-l", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/var/db/bhyve-agent/guests/ml1/uefi-vars.fd", "ml1"]);
    assert.ok(isUnknown(planned.argv) && isUnknown(planned.status) && isUnknown(planned.restarts));
  });

  test("a UUID left to the agent: unknown, and so the command line, until the agent makes one; then kept from the prior state", async () => {
    const config = obj(guestR, { ...GUEST, uuid: null });
    const { planned } = await guestR.plan(null, config, config);
    assert.ok(isUnknown(planned.uuid) && isUnknown(planned.command_line));
    const prior: ObjectValue = { ...planned, uuid: "0f0e0d0c-0b0a-4908-8706-050403020100", command_line: [], argv: [], status: "running", restarts: 0 };
    const again = (await guestR.plan(prior, config, config)).planned;
    assert.equal(again.uuid, prior.uuid);
    assert.deepEqual((again.command_line as string[]).slice(9, 12), ["-u", "-U", prior.uuid]);
    const given = (await guestR.plan(prior, { ...config, uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8" }, { ...config, uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8" })).planned;
    assert.equal(given.uuid, "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "a configured UUID wins");
  });

  test("a framebuffer port left to the agent: unknown, and so the command line, until it allocates one; then kept; a given one wins", async () => {
    const config = obj(guestR, { ...GUEST, framebuffer: [{ width: 1280, height: 800 }] });
    const { planned, diagnostics } = await guestR.plan(null, config, config);
    assert.deepEqual(diagnostics, []);
    const fb = (planned.framebuffer as ObjectValue[])[0]!;
    assert.deepEqual([fb.width, fb.height, fb.wait, fb.listen], [1280, 800, false, "127.0.0.1"], "defaults from the model");
    assert.ok(isUnknown(fb.port) && isUnknown(planned.command_line));
    const prior: ObjectValue = { ...planned, framebuffer: [{ ...fb, port: 5903 }], command_line: [], argv: [], status: "running", restarts: 0 };
    const again = (await guestR.plan(prior, config, config)).planned;
    assert.equal((again.framebuffer as ObjectValue[])[0]!.port, 5903);
    assert.ok((again.command_line as string[]).includes("29:0,fbuf,rfb=127.0.0.1:5903,w=1280,h=800"));
    assert.ok((again.command_line as string[]).includes("30:0,xhci,tablet"));
    const given = obj(guestR, { ...GUEST, framebuffer: [{ port: 5999 }] });
    assert.equal(((await guestR.plan(prior, given, given)).planned.framebuffer as ObjectValue[])[0]!.port, 5999);
    const bad = obj(guestR, { ...GUEST, bootrom: null, framebuffer: [{}] });
    assert.deepEqual(guestR.validate(bad).map((d) => d.attribute), [["framebuffer", 0]], "a bhyveload guest has no framebuffer, named by attribute");
  });

  test("drift on the UUID: the guest runs with another -U than the one the agent keeps, so an update is planned", async () => {
    const config = obj(guestR, { ...GUEST, uuid: null });
    const kept = "0f0e0d0c-0b0a-4908-8706-050403020100";
    const first = (await guestR.plan({ ...obj(guestR, GUEST), uuid: kept, status: "running", argv: [], command_line: [], restarts: 0 }, config, config)).planned;
    const running: ObjectValue = { ...first, argv: first.command_line!, status: "running", restarts: 0 };
    assert.deepEqual((await guestR.plan(running, { ...config, state: "running" }, config)).planned, running, "the same UUID: no change");
    const other = (running.argv as string[]).map((a) => (a === kept ? "11111111-2222-4333-8444-555555555555" : a));
    const { planned } = await guestR.plan({ ...running, argv: other }, { ...config, state: "running" }, config);
    assert.ok(isUnknown(planned.argv) && isUnknown(planned.status), "an update that restarts it with the kept UUID");
    assert.equal(planned.uuid, kept);
  });

  test("no change when the guest runs as configured", async () => {
    const config = obj(guestR, GUEST);
    const first = (await guestR.plan(null, config, config)).planned;
    const prior: ObjectValue = { ...first, argv: first.command_line!, status: "running", restarts: 0 };
    const again = await guestR.plan(prior, { ...config, state: "running" }, config);
    assert.deepEqual(again.planned, prior);
  });

  test("drift: stopped, crashed, or running another command line plans an update", async () => {
    const config = obj(guestR, GUEST);
    const first = (await guestR.plan(null, config, config)).planned;
    const running: ObjectValue = { ...first, argv: first.command_line!, status: "running", restarts: 0 };
    const cases: ObjectValue[] = [
      { ...running, state: "stopped", status: "stopped", argv: [] },
      { ...running, state: "stopped", status: "crashed", argv: [] },
      { ...running, argv: [...(running.argv as string[]).slice(0, -1), "other"] },
    ];
    for (const prior of cases) {
      // Terraform proposes the read value for optional+computed attributes: state "stopped" here.
      const { planned } = await guestR.plan(prior, { ...config, state: prior.state! }, config);
      assert.equal(planned.state, "running");
      assert.ok(isUnknown(planned.argv), "argv known after apply");
      assert.ok(isUnknown(planned.status));
    }
  });

  test("a changed command line warns that the guest restarts; name and address force replacement", async () => {
    const config = obj(guestR, GUEST);
    const first = (await guestR.plan(null, config, config)).planned;
    const prior: ObjectValue = { ...first, argv: first.command_line!, status: "running", restarts: 0 };
    const bigger = obj(guestR, { ...GUEST, cpus: 16 });
    const r = await guestR.plan(prior, bigger, bigger);
    assert.equal(r.diagnostics[0]!.severity, "warning");
    assert.match(r.diagnostics[0]!.summary, /Guest ml1 will be restarted/);
    assert.equal((r.planned.command_line as string[])[2], "16");
    const renamed = obj(guestR, { ...GUEST, name: "ml2" });
    assert.deepEqual((await guestR.plan(prior, renamed, renamed)).requiresReplace, [["name"]]);
    const moved = obj(guestR, { ...GUEST, address: "127.0.0.1:2202" });
    assert.deepEqual((await guestR.plan(prior, moved, moved)).requiresReplace, [["address"]]);
  });

  test("a stopped guest plans no command running", async () => {
    const config = obj(guestR, { ...GUEST, state: "stopped" });
    const { planned } = await guestR.plan(null, config, config);
    assert.deepEqual(planned.argv, []);
  });
});

describe("bhyve_ppt_device", () => {
  const DEV = { address: "127.0.0.1:2201", host_key: KEY, device: "pci0:4:0:1", bind: "live", vendor_id: "0x8086" };

  test("validation", () => {
    assert.deepEqual(pptR.validate(obj(pptR, DEV)), []);
    const bad = pptR.validate(obj(pptR, { ...DEV, device: "4:0:1", vendor_id: "8086", bind: "now" }));
    assert.deepEqual(bad.map((d) => d.attribute), [["device"], ["vendor_id"], ["bind"]]);
  });

  test("live: bound planned true; a lost binding or a lost pptdevs entry plans an update", async () => {
    const config = obj(pptR, DEV);
    const created = await pptR.plan(null, config, config);
    assert.equal(created.planned.bound, true);
    assert.equal(created.planned.id, "127.0.0.1:2201/4/0/1");
    const prior: ObjectValue = { ...created.planned, driver: "ppt0", description: "I350", bound: true };
    assert.deepEqual((await pptR.plan(prior, { ...config }, config)).planned, prior);
    const unbound = await pptR.plan({ ...prior, bound: false, driver: "igb1" }, { ...config }, config);
    assert.equal(unbound.planned.bound, true);
    assert.ok(isUnknown(unbound.planned.driver));
    const dropped = await pptR.plan({ ...prior, bind: "none" }, { ...config, bind: "none" }, config);
    assert.equal(dropped.planned.bind, "live");
  });

  test("boot: a warning that it takes a reboot; the same device written differently is no replacement", async () => {
    const config = obj(pptR, { ...DEV, bind: null });
    const r = await pptR.plan(null, config, config);
    assert.equal(r.planned.bind, "boot");
    assert.ok(isUnknown(r.planned.bound));
    assert.match(r.diagnostics[0]!.summary, /Reserved at the next boot/);
    const prior: ObjectValue = { ...r.planned, bound: false, driver: "igb1", description: "I350" };
    const respelled = obj(pptR, { ...DEV, bind: null, device: "4/0/1" });
    assert.deepEqual((await pptR.plan(prior, respelled, respelled)).requiresReplace, []);
    const other = obj(pptR, { ...DEV, bind: null, device: "4/0/0" });
    assert.deepEqual((await pptR.plan(prior, other, other)).requiresReplace, [["device"]]);
  });
});

describe("bhyve_host", () => {
  test("defaults, and an out-of-sync loader.conf plans an update", async () => {
    const config = obj(hostR, { address: "127.0.0.1:2201", host_key: KEY });
    const created = await hostR.plan(null, config, config);
    assert.deepEqual([created.planned.vmm_load, created.planned.amdvi_enable, created.planned.loader_conf_in_sync], [true, "auto", true]);
    const prior: ObjectValue = { ...created.planned, agent_version: "0.1.0", cpu_vendor: "intel", iommu: "vt-d enabled", nested_paging: "ept", passthru_ready: true, reboot_required: false, problems: [] };
    assert.deepEqual((await hostR.plan(prior, { ...config, vmm_load: true, amdvi_enable: "auto" }, config)).planned, prior);
    const edited = await hostR.plan({ ...prior, loader_conf_in_sync: false }, { ...config, vmm_load: true, amdvi_enable: "auto" }, config);
    assert.equal(edited.planned.loader_conf_in_sync, true);
    assert.ok(isUnknown(edited.planned.reboot_required));
    assert.deepEqual(hostR.validate(obj(hostR, { address: "a b", host_key: KEY, amdvi_enable: "yes" })).map((d) => d.attribute), [["address"], ["amdvi_enable"]]);
  });
});

test("provider configuration checks", () => {
  assert.deepEqual(P.validateConfig({ connect_timeout: "15s", command_timeout: "10m" }), []);
  assert.deepEqual(P.validateConfig({ connect_timeout: "soon", ssh_private_key: "k", ssh_private_key_file: "/k" }).map((d) => d.attribute), [["connect_timeout"], ["ssh_private_key_file"]]);
});
