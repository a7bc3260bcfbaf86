/**
 * A bhyve command line read back: the same machine however it is spelled, the differences in words,
 * and the guest document a running command line reads as (what adoption declares and checks).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { acpiAlwaysOn, machineDifferences, parseBhyveArgv, type BhyveMachine } from "../../../agent/model/bhyve-argv.js";
import { proposeGuest, renderingDifferences } from "../../../agent/model/adopt.js";
import { renderBhyveArgv } from "../../../agent/model/render.js";
import { checkGuestAlone } from "../../../agent/model/validate.js";

const UUID = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";
const FW = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";
const words = (s: string): string[] => s.split(" ");
const machine = (s: string): BhyveMachine => {
  const r = parseBhyveArgv(words(s));
  assert.ok(r.ok, r.ok ? "" : r.reason);
  return r.machine;
};
const ON14 = { acpiAlways: true };
const ON13 = { acpiAlways: false };

/** A UEFI guest with a zvol, a NIC and a GPU, as vm-bhyve (NEW vm-run) starts it. */
const VM_BHYVE_UEFI = `bhyve -c 4 -m 8G -Hwl bootrom,${FW} -S -U ${UUID} -u -S -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/dev/zvol/zroot/vm/gpu/disk0 -s 15:0,virtio-net,tap0,mac=58:9C:FC:0A:1B:2C -s 20:0,passthru,2/0/0 -s 20:1,passthru,2/0/1 -l com1,/dev/nmdm-gpu.1A gpu`;
/** A guest vm-bhyve loads with bhyveload. */
const VM_BHYVE_LOADED = `bhyve -c 1 -m 512M -AHP -U ${UUID} -u -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/fbsd/disk0.img -l com1,/dev/nmdm-fbsd.1A fbsd`;

describe("parseBhyveArgv and machineDifferences", () => {
  test("getopt clusters, topology and memory spellings, slot and option order, tcp= and MAC case: the same machine", () => {
    const a = machine(`bhyve -c 2 -m 2048 -AHPw -S -U ${UUID} -s 0,hostbridge -s 31,lpc -s 29,fbuf,tcp=127.0.0.1:5900,w=1024,h=768 -s 5,virtio-net,tap3,mac=58:9C:FC:00:00:01 -l com1,/dev/nmdm-x.1A x`);
    const b = machine(`/usr/sbin/bhyve -c cpus=2,sockets=2,cores=1,threads=1 -m 2G -A -H -P -w -S -U ${UUID.toUpperCase()} -s 0:0,hostbridge -s 5:0,virtio-net,tap3,mac=58:9c:fc:00:00:01 -s 29:0,fbuf,h=768,rfb=127.0.0.1:5900,w=1024 -s 31,lpc -l com1,/dev/nmdm-x.1A x`);
    assert.deepEqual(machineDifferences(a, b, ON13), []);
  });

  test("each kind of difference is named: vCPUs, memory, a flag each way, the UUID, -l, a slot changed, added and missing, other options", () => {
    const a = machine(`bhyve -c 2 -m 1G -A -H -P -U ${UUID} -s 0,hostbridge -s 4,virtio-blk,/a -s 5,virtio-net,tap0 -s 31,lpc -l com1,/dev/nmdm-x.1A -o x=1 x`);
    const b = machine(`bhyve -c 4 -m 2G -A -H -S -U 11111111-2222-4333-8444-555555555555 -s 0,hostbridge -s 4,nvme,/a -s 6,virtio-rnd -s 31,lpc -l bootrom,${FW} x`);
    const d = machineDifferences(a, b, ON13);
    const has = (re: RegExp): void => assert.ok(d.some((x) => re.test(x)), `${re} in ${JSON.stringify(d, null, 1)}`);
    has(/^-c: runs 2 vCPUs .* renders 4 vCPUs/);
    has(/^-m: runs 1G, renders 2G/);
    has(/^-P \(exit on PAUSE\): runs with it, renders without/);
    has(/^-S \(wired guest memory\): runs without it, renders with/);
    has(/^-U: runs 0f1e/);
    has(/^-l com1: runs com1,\/dev\/nmdm-x.1A, renders without it/);
    has(/^-l bootrom: runs without it/);
    has(/^-s 4:0: runs virtio-blk,\/a, renders nvme,\/a/);
    has(/^-s 5:0: runs virtio-net,tap0, renders nothing there/);
    has(/^-s 6:0: runs nothing there, renders virtio-rnd/);
    has(/^other options: runs -o x=1, renders none/);
  });

  test("-A counts only where bhyve does not always build ACPI tables (before 14.0); -I never", () => {
    const a = machine(`bhyve -c 1 -m 1G -H -P -I -U ${UUID} -s 0,hostbridge -s 31,lpc x`);
    const b = machine(`bhyve -c 1 -m 1G -A -H -P -U ${UUID} -s 0,hostbridge -s 31,lpc x`);
    assert.deepEqual(machineDifferences(a, b, ON14), []);
    assert.match(machineDifferences(a, b, ON13).join(), /-A \(ACPI tables\): runs without it/);
    assert.equal(acpiAlwaysOn("14.3-RELEASE"), true);
    assert.equal(acpiAlwaysOn("15.0-CURRENT"), true);
    assert.equal(acpiAlwaysOn("13.5-RELEASE-p2"), false);
    assert.equal(acpiAlwaysOn(null), false);
  });

  test("what bhyve would refuse or does not take does not read as a machine", () => {
    for (const bad of ["bhyve", "bhyve -c 2 x y", "bhyve -Q x", "bhyve -c two x", "bhyve -m 1Q x", "bhyve -s 32,lpc x", "bhyve -s 4,virtio-blk,/a -s 4:0,nvme,/b x", "bhyve -l com1,/a -l com1,/b x", "bhyve -c"]) {
      assert.equal(parseBhyveArgv(words(bad)).ok, false, bad);
    }
  });
});

describe("proposeGuest: the guest a running command line reads as", () => {
  test("vm-bhyve's UEFI passthrough guest: every field that makes the rendering the same machine", () => {
    const p = proposeGuest(words(VM_BHYVE_UEFI), ON14);
    assert.deepEqual(p.unsupported, []);
    assert.deepEqual(p.document, {
      name: "gpu", cpus: 4, memory: "8G", wired: true, rtc: "utc", ignore_unknown_msrs: true, exit_on_pause: false, uuid: UUID,
      bootrom: FW, uefi_vars: false, console: true, hostbridge: "standard",
      disks: [{ path: "/dev/zvol/zroot/vm/gpu/disk0", type: "virtio-blk", slot: 4 }],
      nics: [{ tap: "tap0", model: "virtio-net", slot: 15, mac: "58:9c:fc:0a:1b:2c" }],
      passthru: [{ device: "2/0/0", slot: 20, function: 0 }, { device: "2/0/1", slot: 20, function: 1 }],
    });
    // The model's own rendering of that document is the running machine.
    const g = checkGuestAlone(p.document);
    assert.ok(g.ok);
    assert.deepEqual(renderingDifferences(words(VM_BHYVE_UEFI), g.guest, ON14), []);
    assert.notDeepEqual(renderBhyveArgv(g.guest), words(VM_BHYVE_UEFI), "spelled differently, the same machine");
  });

  test("a guest vm-bhyve loads with bhyveload reads as a bhyveload guest, -A kept on a 13.x host too", () => {
    for (const o of [ON13, ON14]) {
      const p = proposeGuest(words(VM_BHYVE_LOADED), o);
      assert.deepEqual(p.unsupported, []);
      assert.equal(p.document?.bootrom, undefined);
      assert.equal(p.document?.exit_on_pause, true);
    }
  });

  test("a vm-bhyve UEFI guest on a 13.x host runs without -A, which the agent always passes: not adoptable, said so", () => {
    const p = proposeGuest(words(VM_BHYVE_UEFI), ON13);
    assert.match(p.unsupported.join(), /without -A \(ACPI tables\)/);
  });

  test("what the model cannot express is each named: disks on one slot, devices it lacks, options, another console, another variables file, a long name, no UUID", () => {
    const cases: Array<[string, RegExp]> = [
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc -s 26:0,virtio-rnd -l com1,/dev/nmdm-x.1A x`, /no virtio-rnd device/],
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc -s 3:0,ahci-cd,/vm/.iso/x.iso,ro -l com1,/dev/nmdm-x.1A x`, /no disk option ro/],
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc -l com1,/dev/nmdm0A x`, /its com1 is \/dev\/nmdm0A/],
      [`bhyve -c 1 -m 512M -Hwl bootrom,${FW},/vm/x/uefi-vars.fd -U ${UUID} -s 0,hostbridge -s 31,lpc x`, /keeps its UEFI variables in \/vm\/x\/uefi-vars.fd/],
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc a-name-that-is-longer-than-31-characters`, /is not a guest name here/],
      [`bhyve -c 1 -m 512M -AHP -s 0,hostbridge -s 31,lpc x`, /without -U/],
      [`bhyve -c 1 -m 512M -AHPD -U ${UUID} -s 0,hostbridge -s 31,lpc x`, /-D \(destroy the VM on guest power-off\)/],
      [`bhyve -c 1 -m 512M -Hwl bootrom,${FW} -U ${UUID} -s 0,hostbridge -s 31,lpc -s 30:0,fbuf,tcp=0.0.0.0:5900 -s 29:0,xhci,tablet x`, /the model puts fbuf at 29 and xhci,tablet at 30/],
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc -s 5:0,virtio-net,vale0:x x`, /NICs are on tap interfaces/],
      [`bhyve -c 1 -m 512M -AHP -U ${UUID} -s 31,lpc x`, /without a host bridge/],
      [`bhyve -c 1 -m 100M -AHP -U ${UUID} -s 0,hostbridge -s 31,lpc x`, /does not pass the model: .*memory/],
    ];
    for (const [argv, re] of cases) {
      const p = proposeGuest(words(argv), ON14);
      assert.match(p.unsupported.join(" | "), re, argv);
    }
  });

  test("vm-bhyve's packing: a loaded guest's disks at 4:0 and 4:1, NICs at 15:0 and 15:1, read with their functions and rendered back the same", () => {
    const argv = words(`/usr/sbin/bhyve -c 2 -m 1G -AHP -U ${UUID} -u -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/r/disk0.img -s 4:1,virtio-blk,/vm/r/disk1.img -s 15:0,virtio-net,tap0,mac=58:9c:fc:00:00:01 -s 15:1,virtio-net,tap1,mac=58:9c:fc:00:00:02 -l com1,/dev/nmdm-r.1A r`);
    const p = proposeGuest(argv, ON14);
    assert.deepEqual(p.unsupported, []);
    assert.deepEqual((p.document!.disks as unknown[])[1], { path: "/vm/r/disk1.img", type: "virtio-blk", slot: 4, function: 1 });
    assert.deepEqual((p.document!.nics as unknown[])[1], { tap: "tap1", model: "virtio-net", slot: 15, function: 1, mac: "58:9c:fc:00:00:02" });
    // A slot's function 0 is needed: a second disk alone at 4:1 is refused by the model.
    const half = checkGuestAlone({ name: "r", cpus: 1, memory: "1G", disks: [{ path: "/vm/r/a", slot: 5 }, { path: "/vm/r/b", slot: 4, function: 1 }] });
    assert.equal(half.ok, false);
    assert.match(JSON.stringify(!half.ok && half.problems), /disks\[1\]\.function.*slot 4 has no function 0/);
    const noSlot = checkGuestAlone({ name: "r", cpus: 1, memory: "1G", nics: [{ tap: "tap0", function: 1 }] });
    assert.match(JSON.stringify(!noSlot.ok && noSlot.problems), /nics\[0\]\.function.*give slot as well/);
  });

  test("a command line that does not parse is said, with no document", () => {
    const p = proposeGuest(["/usr/sbin/bhyve", "-Q", "x"], ON14);
    assert.equal(p.document, null);
    assert.match(p.unsupported[0]!, /-Q is not a bhyve option/);
  });
});
