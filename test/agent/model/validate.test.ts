import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkDocumentData, checkDocumentText, formatProblems, renderBhyveArgv, type HostContext } from "../../../agent/model/index.js";
import { instanceId, seedFiles } from "../../../agent/model/cloud-init.js";
import { clone, repoPath } from "../../support/helpers.js";
import { readFileSync } from "node:fs";

/** A valid document: GPU + audio to ml1, NIC port to fw1. */
const BASE = {
  host: { vmm_load: true, amdvi_enable: "auto" },
  ppt: [
    { device: "3/0/0", vendor_id: 0x10de, device_id: 0x1e07, bind: "boot" },
    { device: "3/0/1", bind: "boot" },
    { device: "4/0/1", bind: "live" },
  ],
  guests: [
    {
      name: "ml1", cpus: 8, memory: "32G", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
      disks: [{ path: "/dev/zvol/zroot/ml1", type: "nvme" }],
      nics: [{ tap: "tap0", model: "virtio-net", mac: "58:9c:fc:00:00:01" }],
      passthru: [{ device: "3/0/0", slot: 6 }, { device: "3/0/1", slot: 6 }],
      state: "running", restart: "always", start_order: 10,
    },
    {
      name: "fw1", cpus: 2, memory: "2G",
      disks: [{ path: "/dev/zvol/zroot/fw1" }],
      nics: [{ tap: "tap1" }],
      passthru: [{ device: "4/0/1", slot: 7, function: 0 }],
    },
  ],
};
type Doc = typeof BASE & Record<string, any>;

function problems(mutate: (d: any) => void, ctx: HostContext = {}): string[] {
  const d = clone(BASE) as Doc;
  mutate(d);
  const r = checkDocumentData(d, ctx);
  return r.ok ? [] : formatProblems(r.problems).split("\n");
}

/** Asserts the mutation yields exactly one problem line matching `expected`. */
function refuses(mutate: (d: any) => void, expected: RegExp | string, ctx: HostContext = {}): void {
  const got = problems(mutate, ctx);
  assert.equal(got.length, 1, `expected one problem, got:\n${got.join("\n")}`);
  if (typeof expected === "string") assert.equal(got[0], expected);
  else assert.match(got[0]!, expected);
}

test("the base document and the gpu-host example are valid", () => {
  assert.deepEqual(problems(() => {}), []);
  const r = checkDocumentText(readFileSync(repoPath("examples/gpu-host/host.yaml"), "utf8"));
  assert.ok(r.ok, r.ok ? "" : formatProblems(r.problems));
});

test("defaults are applied", () => {
  const r = checkDocumentData({ guests: [{ name: "a", cpus: 1, memory: "1G", disks: [{ path: "/vm/a.img" }] }] });
  assert.ok(r.ok);
  assert.deepEqual(r.state.host, { vmmLoad: true, amdviEnable: "auto", requireIommu: true, requireNestedPaging: true });
  const g = r.state.guests[0]!;
  assert.equal(g.state, "running");
  assert.equal(g.restart, "on-reboot");
  assert.equal(g.startOrder, 0);
  assert.equal(g.wired, false);
  assert.equal(g.disks[0]!.type, "virtio-blk");
  assert.equal(g.memory, 2 ** 30);
  const withPassthru = checkDocumentData(clone(BASE));
  assert.ok(withPassthru.ok);
  assert.equal(withPassthru.state.ppt[1]!.bind, "boot");
  assert.equal(withPassthru.state.guests[1]!.wired, true, "passthrough makes memory wired by default");
  assert.equal(withPassthru.state.guests[0]!.passthru[1]!.function, 1, "function defaults to the host function");
  assert.equal(withPassthru.state.guests[1]!.nics[0]!.model, "virtio-net");
  assert.deepEqual(checkDocumentData(null), { ok: true, state: { host: r.state.host, ppt: [], switches: [], guests: [] } });
});

describe("shape: keys and types, each named by its path", () => {
  test("unknown keys at every level", () => {
    refuses((d) => (d.hosts = {}), /^hosts: unknown key; expected one of: host, ppt, switches, guests$/);
    refuses((d) => (d.host.vmm = true), /^host\.vmm: unknown key/);
    refuses((d) => (d.ppt[0].driver = "ppt"), /^ppt\[0\]\.driver: unknown key/);
    refuses((d) => (d.guests[0].ram = "1G"), /^guests\[0\]\.ram: unknown key/);
    refuses((d) => (d.guests[0].disks[0].sise = 1), /^guests\[0\]\.disks\[0\]\.sise: unknown key/);
    refuses((d) => (d.guests[0].disks[0].size = 1), /^guests\[0\]\.disks\[0\]\.size: only a disk the agent makes \(zvol or file\) has size/);
    refuses((d) => (d.guests[0].nics[0].bridge = "bridge0"), /^guests\[0\]\.nics\[0\]\.bridge: unknown key/);
    refuses((d) => (d.guests[0].passthru[0].func = 0), /^guests\[0\]\.passthru\[0\]\.func: unknown key/);
  });

  test("wrong types", () => {
    refuses((d) => (d.guests[0].cpus = "8"), 'guests[0].cpus: expected a whole number, got the string "8"');
    refuses((d) => (d.host.vmm_load = "yes"), 'host.vmm_load: expected true or false, got the string "yes"');
    refuses((d) => (d.host.amdvi_enable = "on"), /^host\.amdvi_enable: expected auto, true or false/);
    refuses((d) => (d.guests[0].memory = ["32G"]), "guests[0].memory: expected a size such as 32G, got a list");
    refuses((d) => (d.guests[1].state = "paused"), /^guests\[1\]\.state: expected one of running, stopped/);
    refuses((d) => (d.guests[1].restart = "on-failure"), /^guests\[1\]\.restart: expected one of always, on-reboot, never/);
    refuses((d) => (d.guests[0].disks[0].type = "virtio-scsi"), /^guests\[0\]\.disks\[0\]\.type: expected one of/);
    refuses((d) => (d.guests[0].nics[0].model = "rtl8139"), /^guests\[0\]\.nics\[0\]\.model: expected one of/);
    refuses((d) => (d.ppt[2].bind = "now"), /^ppt\[2\]\.bind: expected one of live, boot/);
    refuses((d) => (d.guests = { ml1: {} }), "guests: expected a list, got a mapping");
    refuses((d) => (d.ppt[0] = "3/0/0"), 'ppt[0]: expected a mapping, got the string "3/0/0"');
    refuses((d) => (d.guests[0].start_order = 1.5), /^guests\[0\]\.start_order: expected a whole number/);
    const top = checkDocumentData([1, 2]);
    assert.ok(!top.ok);
    assert.equal(formatProblems(top.problems), "document: expected a mapping, got a list");
  });

  test("required keys", () => {
    refuses((d) => delete d.guests[1].memory, "guests[1].memory: is required");
    refuses((d) => delete d.ppt[1].device, "ppt[1].device: is required");
    refuses((d) => delete d.guests[0].passthru[1].slot, "guests[0].passthru[1].slot: is required");
    refuses((d) => delete d.guests[1].disks[0].path, "guests[1].disks[0].path: is required: give path (a disk that exists), zvol (a volume the agent makes) or file (an image file the agent makes)");
    refuses((d) => delete d.guests[1].nics[0].tap, "guests[1].nics[0].switch: a NIC needs a switch (the agent makes and attaches its tap) or a tap (one you manage)");
  });

  test("names, counts and sizes", () => {
    refuses((d) => (d.guests[1].name = "fw 1"), /^guests\[1\]\.name: "fw 1" is not a guest name/);
    refuses((d) => (d.guests[1].name = "-fw1"), /^guests\[1\]\.name: "-fw1" is not a guest name/);
    refuses((d) => (d.guests[1].name = "a".repeat(32)), /is not a guest name/);
    assert.deepEqual(problems((d) => (d.guests[1].name = "a".repeat(31))), []);
    refuses((d) => (d.guests[1].cpus = 0), "guests[1].cpus: 0 is out of range (1-4096)");
    refuses((d) => (d.guests[1].memory = "64M"), "guests[1].memory: 64M is below the smallest guest, 128M");
    assert.deepEqual(problems((d) => (d.guests[1].memory = "128M")), []);
    refuses((d) => (d.guests[1].memory = 134217729 + 2 ** 20), /is not a whole number of megabytes/);
    refuses((d) => (d.guests[1].memory = "2GB"), /^guests\[1\]\.memory: "2GB" is not a size/);
  });

  test("MAC addresses: syntax and unicast", () => {
    refuses((d) => (d.guests[0].nics[0].mac = "58:9c:fc:00:00"), /is not a MAC address/);
    refuses((d) => (d.guests[0].nics[0].mac = "58-9c-fc-00-00-01"), /is not a MAC address/);
    refuses((d) => (d.guests[0].nics[0].mac = "01:00:5e:00:00:01"), /is a multicast address/);
    refuses((d) => (d.guests[0].nics[0].mac = "00:00:00:00:00:00"),
      'guests[0].nics[0].mac: "00:00:00:00:00:00" is the all-zero address, which no NIC can have; write a unicast MAC or leave mac out');
    refuses((d) => (d.guests[1].nics[0].mac = "ff:FF:ff:ff:ff:ff"), 'guests[1].nics[0].mac: "ff:FF:ff:ff:ff:ff" is the broadcast address; a NIC needs a unicast MAC');
    refuses((d) => (d.guests[1].nics[0].mac = "33:33:00:00:00:01"), /^guests\[1\]\.nics\[0\]\.mac: .* is a multicast address/);
    const r = checkDocumentData({ ...clone(BASE), guests: [{ ...clone(BASE.guests[0]!), nics: [{ tap: "tap0", mac: "58:9C:FC:00:00:0A" }] }] });
    assert.ok(r.ok);
    assert.equal(r.state.guests[0]!.nics[0]!.mac, "58:9c:fc:00:00:0a");
  });

  test("interface names", () => {
    refuses((d) => (d.guests[1].nics[0].tap = "tap 1"), /^guests\[1\]\.nics\[0\]\.tap: "tap 1" is not an interface name/);
    refuses((d) => (d.guests[1].nics[0].tap = "t".repeat(16)), /is not an interface name/);
  });

  test("host paths must be absolute and fit in a bhyve option", () => {
    refuses((d) => (d.guests[0].bootrom = "BHYVE_UEFI.fd"), /^guests\[0\]\.bootrom: "BHYVE_UEFI\.fd" is not an absolute path/);
    refuses((d) => (d.guests[0].disks[0].path = "/vm/a,b.img"), /contains a comma/);
    refuses((d) => (d.guests[0].disks[0].path = "/vm/a b.img"), /white space or control characters/);
    refuses((d) => (d.guests[0].disks[0].path = "/vm/../etc/x"), /contains "\.\."/);
    refuses((d) => (d.guests[0].passthru[0].rom = "/vm/rom,x"), /^guests\[0\]\.passthru\[0\]\.rom: .*comma/);
  });

  test("host paths must fit in PATH_MAX (1024 bytes with the NUL)", () => {
    const ok = checkDocumentData({ ...clone(BASE), guests: [{ ...clone(BASE.guests[1]!), disks: [{ path: `/${"d".repeat(1022)}` }] }] });
    assert.ok(ok.ok);
    refuses((d) => (d.guests[1].disks[0].path = `/${"d".repeat(1023)}`),
      "guests[1].disks[0].path: is 1024 bytes long; a host path must be shorter than 1024 bytes (PATH_MAX)");
    // Counted in bytes: 400 three-byte characters are 1201 bytes.
    refuses((d) => (d.guests[0].passthru[0].rom = `/${"\u65e5".repeat(400)}`), /^guests\[0\]\.passthru\[0\]\.rom: is 1201 bytes long/);
    refuses((d) => (d.guests[0].bootrom = `/${"b".repeat(5000)}`), /^guests\[0\]\.bootrom: is 5001 bytes long/);
  });

  test("device addresses", () => {
    refuses((d) => (d.ppt[0].device = "3:0:0"), /^ppt\[0\]\.device: "3:0:0" is not a PCI address/);
    refuses((d) => (d.ppt[0].device = 3), /^ppt\[0\]\.device: expected a string, got the number 3/);
    refuses((d) => (d.ppt[0].vendor_id = 0x10000), /^ppt\[0\]\.vendor_id: expected a 16-bit PCI id/);
    const r = checkDocumentData({ ...clone(BASE), ppt: [{ device: "pci0:3:0:0", vendor_id: "0x10de" }, ...clone(BASE.ppt).slice(1)] });
    assert.ok(r.ok);
    assert.equal(r.state.ppt[0]!.vendorId, 0x10de);
  });

  test("guest slots and functions in range; 0 and 31 reserved", () => {
    refuses((d) => (d.guests[1].passthru[0].slot = 0), "guests[1].passthru[0].slot: slot 0 is reserved for the host bridge");
    refuses((d) => (d.guests[1].passthru[0].slot = 31), "guests[1].passthru[0].slot: slot 31 is reserved for the LPC bridge");
    refuses((d) => (d.guests[1].passthru[0].slot = 32), "guests[1].passthru[0].slot: 32 is out of range (0-31)");
    refuses((d) => (d.guests[1].passthru[0].function = 8), "guests[1].passthru[0].function: 8 is out of range (0-7)");
    refuses((d) => (d.guests[0].disks[0].slot = 31), "guests[0].disks[0].slot: slot 31 is reserved for the LPC bridge");
  });

  test("an ARI host function needs an explicit guest function", () => {
    const base = clone(BASE);
    base.ppt.push({ device: "5/0/21", bind: "boot" });
    base.guests[1]!.passthru.push({ device: "5/0/21", slot: 8 } as any);
    const r = checkDocumentData(base);
    assert.ok(!r.ok);
    assert.equal(formatProblems(r.problems),
      "guests[1].passthru[1].function: the host function 21 (ARI) cannot be a guest function; set function to 0-7");
    (base.guests[1]!.passthru[1] as any).function = 0;
    assert.ok(checkDocumentData(base).ok);
  });
});

describe("rules across the document", () => {
  test("every problem is reported at once", () => {
    const got = problems((d) => {
      d.guests[0].cpus = 0;
      d.guests[1].name = "ml1";
      d.guests[1].nics[0].tap = "tap0";
      d.guests[0].passthru[0].slot = 31;
      d.ppt[2].bind = "later";
      d.surprise = 1;
    });
    assert.deepEqual(got, [
      "surprise: unknown key; expected one of: host, ppt, switches, guests",
      "ppt[2].bind: expected one of live, boot, got the string \"later\"",
      "guests[0].cpus: 0 is out of range (1-4096)",
      "guests[0].passthru[0].slot: slot 31 is reserved for the LPC bridge",
      'guests[1].name: duplicate guest name "ml1" (also guests[0])',
      "guests[1].nics[0].tap: tap0 is already used by guest ml1",
    ]);
  });

  test("a passthru device must be reserved on the host", () => {
    refuses((d) => d.ppt.splice(2, 1), "guests[1].passthru[0].device: 4/0/1 is not reserved on this host; add it to ppt");
  });

  test("a device is passed to one guest only", () => {
    refuses((d) => (d.guests[1].passthru[0] = { device: "3/0/0", slot: 7 }),
      "guests[1].passthru[0].device: 3/0/0 is already passed to guest ml1");
    refuses((d) => d.guests[0].passthru.push({ device: "3/0/0", slot: 7 }),
      "guests[0].passthru[2].device: 3/0/0 is already passed to this guest in passthru[0]");
  });

  test("the functions of a multi-function device stay in one guest", () => {
    refuses((d) => {
      d.guests[0].passthru.pop();
      d.guests[1].passthru.push({ device: "3/0/1", slot: 8, function: 0 });
    }, /^guests\[1\]\.passthru\[1\]\.device: 3\/0\/1 is a function of the device at 3\/0, whose function 3\/0\/0 is passed to guest ml1; pass all functions/);
  });

  test("slot and function collisions between passthru, disks and NICs", () => {
    refuses((d) => (d.guests[0].passthru[1].function = 0),
      "guests[0].passthru[1].slot: slot 6 function 0 is already taken by passthru[0] (3/0/0)");
    refuses((d) => (d.guests[0].disks[0].slot = 6), "guests[0].disks[0].slot: slot 6 is already taken by passthru[0] (3/0/0)");
    refuses((d) => {
      d.guests[0].disks[0].slot = 9;
      d.guests[0].nics[0].slot = 9;
    }, "guests[0].nics[0].slot: slot 9 is already taken by disks[0] (/dev/zvol/zroot/ml1)");
  });

  test("a passthru slot needs a function 0", () => {
    refuses((d) => {
      d.guests[0].passthru.shift();
      d.ppt.shift();
    }, /^guests\[0\]\.passthru\[0\]\.function: slot 6 has no function 0, so the guest will not see passthru\[0\] \(3\/0\/1\)/);
  });

  test("passthrough needs wired memory", () => {
    refuses((d) => (d.guests[1].wired = false), /^guests\[1\]\.wired: must be true for a guest with passthrough/);
    const r = checkDocumentData({ guests: [{ name: "a", cpus: 1, memory: "1G", wired: true, disks: [{ path: "/vm/a" }] }] });
    assert.ok(r.ok);
    assert.equal(r.state.guests[0]!.wired, true, "wired can be asked for without passthrough");
  });

  test("a guest without bootrom needs a disk for bhyveload", () => {
    refuses((d) => (d.guests[1].disks = []), /^guests\[1\]\.disks: a guest without a bootrom boots with bhyveload, which needs a disk/);
    assert.deepEqual(problems((d) => (d.guests[0].disks = [])), [], "a UEFI guest may have no disk (network boot)");
  });

  test("duplicates: reservations, taps, MACs", () => {
    refuses((d) => d.ppt.push({ device: "pci0:3:0:0" }), "ppt[3].device: 3/0/0 is already reserved in ppt[0]");
    refuses((d) => d.guests[0].nics.push({ tap: "tap0" }), "guests[0].nics[1].tap: tap0 is already used by another NIC of this guest");
    refuses((d) => (d.guests[1].nics[0].mac = "58:9c:fc:00:00:01"), "guests[1].nics[0].mac: 58:9c:fc:00:00:01 is already used by guest ml1");
  });

  test("the same disk in two guests, or twice in one, is refused, naming both", () => {
    refuses((d) => (d.guests[1].disks[0].path = "/dev/zvol/zroot/ml1"),
      "guests[1].disks[0].path: /dev/zvol/zroot/ml1 is also guests[0].disks[0].path; two disks on one backing store would corrupt it");
    refuses((d) => d.guests[0].disks.push({ path: "/dev/zvol/zroot/ml1", type: "ahci-hd" }),
      "guests[0].disks[1].path: /dev/zvol/zroot/ml1 is also guests[0].disks[0].path; two disks on one backing store would corrupt it");
    // Spellings of one path are compared in their lexical normal form.
    for (const spelling of ["/dev//zvol/zroot/ml1", "/dev/./zvol/zroot/./ml1", "/dev/zvol/zroot/ml1/", "//dev/zvol//zroot//ml1//"]) {
      refuses((d) => (d.guests[1].disks[0].path = spelling),
        `guests[1].disks[0].path: ${spelling} is also guests[0].disks[0].path (/dev/zvol/zroot/ml1); two disks on one backing store would corrupt it`);
    }
    // Every further use names the first.
    const got = problems((d) => {
      d.guests[0].disks.push({ path: "/dev/zvol/zroot/fw1" });
      d.guests[1].disks.push({ path: "/dev/zvol/zroot/fw1", slot: 9 });
    });
    assert.deepEqual(got, [
      "guests[1].disks[0].path: /dev/zvol/zroot/fw1 is also guests[0].disks[1].path; two disks on one backing store would corrupt it",
      "guests[1].disks[1].path: /dev/zvol/zroot/fw1 is also guests[0].disks[1].path; two disks on one backing store would corrupt it",
    ]);
    // Paths that only look alike are different disks.
    assert.deepEqual(problems((d) => (d.guests[1].disks[0].path = "/dev/zvol/zroot/ml10")), []);
    // A CD image is read only: guests may share an install ISO, but not with a writable disk.
    assert.deepEqual(problems((d) => {
      d.guests[0].disks.push({ path: "/vm/iso/install.iso", type: "ahci-cd" });
      d.guests[1].disks.push({ path: "/vm/iso/install.iso", type: "ahci-cd", slot: 9 });
    }), []);
    refuses((d) => {
      d.guests[0].disks.push({ path: "/vm/iso/install.iso", type: "ahci-cd" });
      d.guests[1].disks.push({ path: "/vm/iso/install.iso", slot: 9 });
    }, "guests[1].disks[1].path: /vm/iso/install.iso is also guests[0].disks[1].path; two disks on one backing store would corrupt it");
  });

  test("reservations need vmm loaded from loader.conf", () => {
    refuses((d) => (d.host.vmm_load = false), /^host\.vmm_load: must be true when devices are reserved/);
    const r = checkDocumentData({ host: { vmm_load: false } });
    assert.ok(r.ok);
  });

  test("more reservations than pptdevs, pptdevs2 and pptdevs3 hold", () => {
    const many = (n: number) => (d: any) => {
      d.ppt = Array.from({ length: n }, (_, i) => ({ device: `${100 + (i >> 3)}/${(i >> 1) % 4 + 10}/${i % 8}` }));
      d.guests = [];
    };
    assert.deepEqual(problems(many(42)), []);
    refuses(many(43), /^ppt: 43 devices need 4 loader variables of at most 128 characters, but the kernel reads only pptdevs, pptdevs2, pptdevs3/);
  });
});

describe("rules that need host facts", () => {
  const inventory: HostContext = {
    cpuVendor: "intel",
    maxUserWired: 40 * 2 ** 30,
    pci: [
      { address: { bus: 3, slot: 0, function: 0 }, vendorId: 0x10de, deviceId: 0x1e07, headerType: 0 },
      { address: { bus: 3, slot: 0, function: 1 }, vendorId: 0x10de, deviceId: 0x10f7, headerType: 0 },
      { address: { bus: 4, slot: 0, function: 1 }, vendorId: 0x8086, deviceId: 0x1521, headerType: 0 },
      { address: { bus: 0, slot: 1, function: 0 }, vendorId: 0x8086, deviceId: 0x0e02, headerType: 1 },
    ],
  };

  test("the base document fits the host", () => {
    assert.deepEqual(problems(() => {}, inventory), []);
  });

  test("a reserved device must exist and be an endpoint with the expected ids", () => {
    refuses((d) => d.ppt.push({ device: "9/0/0" }), /^ppt\[3\]\.device: there is no PCI device at 9\/0\/0 on this host/, inventory);
    refuses((d) => d.ppt.push({ device: "0/1/0" }), /^ppt\[3\]\.device: 0\/1\/0 is a bridge \(header type 1\); only endpoints/, inventory);
    refuses((d) => (d.ppt[0].vendor_id = 0x1002), "ppt[0].vendor_id: expected 0x1002, but the device at 3/0/0 has 0x10de", inventory);
    refuses((d) => (d.ppt[0].device_id = 0x1eb8), "ppt[0].device_id: expected 0x1eb8, but the device at 3/0/0 has 0x1e07", inventory);
  });

  test("wired memory of running guests stays under vm.max_user_wired", () => {
    refuses((d) => (d.guests[1].memory = "9G"),
      /^guests\[0\]\.memory: wired memory of the running guests reaches 41G with this guest, over the host's vm\.max_user_wired of 40G/,
      inventory);
    assert.deepEqual(problems((d) => {
      d.guests[1].memory = "9G";
      d.guests[0].state = "stopped";
    }, inventory), [], "stopped guests wire nothing");
  });
});

describe("switches: declared once, one per uplink and VLAN, named by the NICs on them", () => {
  const withSwitches = (d: any): void => {
    d.switches = [{ name: "lan", uplink: "igb1" }, { name: "dmz", uplink: "igb1", vlan: 20, mtu: 9000 }, { name: "internal" }];
    d.guests[1].nics = [{ switch: "lan" }, { switch: "dmz", model: "e1000", mac: "58:9c:fc:00:00:02" }];
  };
  test("a valid document with switches decodes them, and the NICs keep their switch", () => {
    const d = clone(BASE) as Doc;
    withSwitches(d);
    const r = checkDocumentData(d);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.state.switches, [{ name: "lan", uplink: "igb1" }, { name: "dmz", uplink: "igb1", vlan: 20, mtu: 9000 }, { name: "internal" }]);
    assert.deepEqual(JSON.parse(JSON.stringify(r.state.guests[1]!.nics)), [{ switch: "lan", model: "virtio-net" }, { switch: "dmz", model: "e1000", mac: "58:9c:fc:00:00:02" }]);
  });
  test("every rule, each named by its field", () => {
    const on = (m: (d: any) => void) => (d: any) => {
      withSwitches(d);
      m(d);
    };
    refuses(on((d) => d.switches.push({ name: "lan" })), "switches[3].name: switch lan is already switches[0]");
    refuses(on((d) => (d.switches[2] = { name: "internal", uplink: "igb1" })), /^switches\[2\]\.uplink: igb1 untagged is already the uplink of switch lan; an interface can be a member of one bridge only/);
    refuses(on((d) => (d.switches[2].vlan = 5)), "switches[2].vlan: a VLAN is carried on an uplink; set uplink, or drop vlan for a host-only switch");
    refuses(on((d) => (d.switches[1].vlan = 4095)), /^switches\[1\]\.vlan: /);
    refuses(on((d) => (d.switches[0].name = "bad name")), /^switches\[0\]\.name: "bad name" is not a switch name/);
    refuses(on((d) => (d.switches[0].uplink = "igb1; rm")), /^switches\[0\]\.uplink: "igb1; rm" is not an interface name/);
    refuses(on((d) => (d.switches[0].mtu = 100)), /^switches\[0\]\.mtu: /);
    refuses(on((d) => (d.switches[0].stp = true)), /^switches\[0\]\.stp: unknown key/);
    refuses(on((d) => (d.guests[1].nics[0].switch = "wan")), "guests[1].nics[0].switch: there is no switch wan in this document (switches: lan, dmz, internal)");
    refuses(on((d) => (d.guests[1].nics[0].tap = "tap9")), /^guests\[1\]\.nics\[0\]\.tap: a NIC is on a switch or on a tap, not both/);
    refuses((d) => (d.guests[1].nics = [{ switch: "lan" }]), "guests[1].nics[0].switch: there is no switch lan in this document (it declares no switches)");
  });
});

describe("managed disks: zvols, clones and image files the agent makes", () => {
  const GiB = 2 ** 30;
  const disk = (d: Record<string, unknown>) => (doc: any) => (doc.guests[1].disks = [d]);
  test("a zvol, a clone and a file decode with their defaults; the path follows", () => {
    const r = checkDocumentData({ guests: [{ name: "a", cpus: 1, memory: "1G", disks: [
      { zvol: "zroot/vm/a/disk0", size: "20G", type: "nvme" },
      { zvol: "zroot/vm/a/data", size: "100G", sparse: false, volblocksize: "16K", on_delete: "destroy" },
      { zvol: "zroot/vm/a/root", clone: "zroot/images/freebsd-14.3@base" },
      { file: "/vm/a/disk0.img", size: "20G" },
      { path: "/dev/zvol/zroot/legacy/disk0" },
    ] }] });
    assert.ok(r.ok, r.ok ? "" : formatProblems(r.problems));
    const [z, thick, cl, file, legacy] = r.state.guests[0]!.disks;
    assert.deepEqual(z, { path: "/dev/zvol/zroot/vm/a/disk0", type: "nvme", slot: undefined, managed: { kind: "zvol", dataset: "zroot/vm/a/disk0", size: 20 * GiB, sparse: true, onDelete: "keep" } });
    assert.deepEqual(thick!.managed, { kind: "zvol", dataset: "zroot/vm/a/data", size: 100 * GiB, sparse: false, volblocksize: 16384, onDelete: "destroy" });
    assert.deepEqual(cl!.managed, { kind: "zvol", dataset: "zroot/vm/a/root", size: undefined, sparse: true, clone: "zroot/images/freebsd-14.3@base", onDelete: "keep" });
    assert.equal(file!.path, "/vm/a/disk0.img");
    assert.deepEqual(file!.managed, { kind: "file", size: 20 * GiB, sparse: true, onDelete: "keep" });
    assert.equal(legacy!.managed, undefined);
  });
  test("each mistake is named by its field", () => {
    refuses(disk({ zvol: "zroot/vm/x", file: "/vm/x.img", size: "1G" }), "guests[1].disks[0].file: give zvol or file, not both");
    refuses(disk({ zvol: "zroot/vm/x" }), /^guests\[1\]\.disks\[0\]\.size: is required for a zvol/);
    refuses(disk({ file: "/vm/x.img" }), "guests[1].disks[0].size: is required for a file disk");
    refuses(disk({ zvol: "zroot", size: "1G" }), /^guests\[1\]\.disks\[0\]\.zvol: "zroot" is a pool, not a dataset in one/);
    refuses(disk({ zvol: "zroot/vm/x@snap", size: "1G" }), /^guests\[1\]\.disks\[0\]\.zvol: .*letters, digits and _ \. : - only/);
    refuses(disk({ zvol: "/dev/zvol/zroot/x", size: "1G" }), /^guests\[1\]\.disks\[0\]\.zvol: .*empty component/);
    refuses(disk({ zvol: "zroot/vm/x", size: "1000K" }), "guests[1].disks[0].size: 1000K is not a multiple of the volume block size (16K, the default); zfs refuses it");
    assert.deepEqual(problems(disk({ zvol: "zroot/vm/x", size: "24K", volblocksize: "8K" })), [], "a multiple of the block size given");
    refuses(disk({ zvol: "zroot/vm/x", size: "1G", volblocksize: "3K" }), "guests[1].disks[0].volblocksize: expected a power of two from 512 to 128K (e.g. 16K), got the string \"3K\"");
    refuses(disk({ zvol: "zroot/vm/x", clone: "zroot/images/i" }), /^guests\[1\]\.disks\[0\]\.clone: "zroot\/images\/i" is not a snapshot/);
    refuses(disk({ zvol: "zroot/vm/x", clone: "zroot/images/i@base", volblocksize: "8K" }), "guests[1].disks[0].volblocksize: a clone has its snapshot's block size; leave volblocksize out");
    refuses(disk({ zvol: "zroot/vm/x", clone: "zroot/images/i@base", sparse: false }), /^guests\[1\]\.disks\[0\]\.sparse: a clone shares/);
    refuses(disk({ path: "/vm/x.img", on_delete: "destroy" }), /^guests\[1\]\.disks\[0\]\.on_delete: only a disk the agent makes/);
    refuses(disk({ file: "/vm/x.img", size: "1G", sparse: false }), "guests[1].disks[0].sparse: only a zvol has sparse");
    refuses(disk({ file: "/vm/x.img", size: "1000" }), "guests[1].disks[0].size: 1000 is not a whole number of 512-byte sectors");
    refuses(disk({ zvol: "zroot/vm/x", size: "1G", on_delete: "wipe" }), /^guests\[1\]\.disks\[0\]\.on_delete: expected one of keep, destroy/);
    refuses(disk({ zvol: "zroot/vm/x", size: "1G", path: "/dev/zvol/zroot/vm/y" }), "guests[1].disks[0].path: is /dev/zvol/zroot/vm/x for this zvol; leave path out");
    assert.deepEqual(problems(disk({ zvol: "zroot/vm/x", size: "1G", path: "/dev/zvol/zroot/vm/x" })), [], "the derived path may be written");
    refuses((d: any) => (d.guests[1].disks = [{ zvol: "zroot/vm/a/b", size: "1G" }, { zvol: "zroot/vm/a", size: "1G" }]), "guests[1].disks[0].zvol: zroot/vm/a/b is inside zroot/vm/a, the volume of guests[1].disks[1].zvol: a volume cannot hold another; put them side by side");
    refuses((d: any) => (d.guests[1].disks = [{ zvol: "zroot/fw1", size: "1G" }, { path: "/dev/zvol/zroot/fw1" }]), /^guests\[1\]\.disks\[1\]\.path: \/dev\/zvol\/zroot\/fw1 is also guests\[1\]\.disks\[0\]\.path/);
  });
});

describe("cloud_init: a NoCloud seed attached as a CD after the disks", () => {
  test("user-data as text, meta-data and network-config as YAML mappings; the seed takes a slot and renders as ahci-cd", () => {
    const r = checkDocumentData({ guests: [{ name: "web1", cpus: 1, memory: "1G", disks: [{ path: "/vm/a.img" }], cloud_init: { user_data: "#cloud-config\npackages: [nginx]\n", meta_data: "local-hostname: www\n" } }] });
    assert.ok(r.ok, r.ok ? "" : formatProblems(r.problems));
    assert.deepEqual(r.state.guests[0]!.cloudInit, { userData: "#cloud-config\npackages: [nginx]\n", metaData: "local-hostname: www\n" });
    const argv = renderBhyveArgv(r.state.guests[0]!);
    assert.ok(argv.includes("5:0,ahci-cd,/var/db/bhyve-agent/guests/web1/seed.iso"), argv.join(" "));
  });
  test("mistakes: bad YAML in cloud-config, meta-data not a mapping, too large, unknown keys, no user_data", () => {
    refuses((d) => (d.guests[1].cloud_init = { user_data: "#cloud-config\npackages: [nginx\n" }), /^guests\[1\]\.cloud_init\.user_data: is not valid YAML: /);
    assert.deepEqual(problems((d) => (d.guests[1].cloud_init = { user_data: "#!/bin/sh\necho [unbalanced\n" })), [], "a script is not YAML");
    refuses((d) => (d.guests[1].cloud_init = { user_data: "#!/bin/sh\n", meta_data: "- a\n- b\n" }), "guests[1].cloud_init.meta_data: must be a YAML mapping (key: value lines), got a list");
    refuses((d) => (d.guests[1].cloud_init = { user_data: "x".repeat(70000) }), /^guests\[1\]\.cloud_init\.user_data: is 70000 bytes; a seed file holds at most 65536/);
    refuses((d) => (d.guests[1].cloud_init = { user_data: "#!/bin/sh\n", vendor_data: "" }), /^guests\[1\]\.cloud_init\.vendor_data: unknown key/);
    refuses((d) => (d.guests[1].cloud_init = {}), "guests[1].cloud_init.user_data: is required");
  });
  test("the instance id follows the name and the content; meta-data keeps the operator's keys under the agent's instance id", () => {
    const ci = { userData: "#cloud-config\n" };
    assert.match(instanceId("web1", ci), /^iid-web1-[0-9a-f]{16}$/);
    assert.notEqual(instanceId("web1", ci), instanceId("web2", ci));
    assert.notEqual(instanceId("web1", ci), instanceId("web1", { userData: "#cloud-config\n#\n" }));
    assert.notEqual(instanceId("web1", { userData: "a", metaData: "b" }), instanceId("web1", { userData: "ab" }), "parts are delimited");
    const files = seedFiles("web1", { userData: "#cloud-config\n", metaData: "local-hostname: www\ninstance-id: mine\n", networkConfig: "version: 2\n" });
    assert.deepEqual(Object.keys(files), ["user-data", "meta-data", "network-config"]);
    assert.equal(files["meta-data"], `local-hostname: www\ninstance-id: ${instanceId("web1", { userData: "#cloud-config\n", metaData: "local-hostname: www\ninstance-id: mine\n", networkConfig: "version: 2\n" })}\n`);
  });
});
