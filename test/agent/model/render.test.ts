import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  checkDocumentData,
  checkDocumentText,
  LOADER_VALUE_MAX,
  packPptdevs,
  parsePciAddress,
  renderBhyveArgv,
  parseSlotArgs,
  passthruDevicesOf,
  renderBhyveloadArgv,
  renderLoaderConf,
  renderState,
  type DesiredState,
  type PciAddress,
} from "../../../agent/model/index.js";
import { repoPath } from "../../support/helpers.js";

function example(): DesiredState {
  const r = checkDocumentText(readFileSync(repoPath("examples/gpu-host/host.yaml"), "utf8"));
  assert.ok(r.ok);
  return r.state;
}

function state(doc: unknown): DesiredState {
  const r = checkDocumentData(doc);
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
}

const addr = (t: string): PciAddress => {
  const r = parsePciAddress(t);
  assert.ok(r.ok);
  return r.address;
};

test("pptdevs: sorted, space separated, each value at most 128 characters, filled in order", () => {
  const devices = Array.from({ length: 30 }, (_, i) => addr(`${100 + (i >> 3)}/${10 + (i & 7)}/${i & 7}`)).reverse();
  const { values, fits } = packPptdevs(devices);
  assert.ok(fits);
  assert.equal(values.length, 3);
  for (const v of values) assert.ok(v.length <= LOADER_VALUE_MAX, `${v.length}: ${v}`);
  assert.equal(values[0]!.split(" ").length, 14, "14 tokens of 8 characters fill 125 of 128 characters");
  assert.equal(values[0]!.length, 125);
  const all = values.join(" ").split(" ");
  assert.equal(all.length, 30);
  assert.equal(all[0], "100/10/0");
  assert.equal(all[29], "103/15/5");
  assert.ok(!/ {2}|^ | $/.test(values.join("\n")), "single spaces only: vmm_is_pptdev() splits at each space");
});

test("pptdevs: a value of exactly 128 characters stays in one variable", () => {
  // 12 tokens of 9 characters (ARI functions) and 11 spaces make 119; one 8-character token more makes 128.
  const devices = [
    ...Array.from({ length: 12 }, (_, i) => addr(`${200 + i}/0/${100 + i}`)),
    addr("250/10/1"),
  ];
  const { values } = packPptdevs(devices);
  assert.equal(values.length, 1);
  assert.equal(values[0]!.length, 128);
  const { values: more } = packPptdevs([...devices, addr("251/0/0")]);
  assert.equal(more.length, 2);
  assert.equal(more[1], "251/0/0");
});

test("loader.conf settings: vmm_load, pptdevs, and the AMD IOMMU switch when it applies", () => {
  const s = example();
  assert.deepEqual(renderLoaderConf(s), [["vmm_load", "YES"], ["pptdevs", "3/0/0 3/0/1 4/0/1"]]);
  assert.deepEqual(renderLoaderConf(s, { cpuVendor: "intel" }), [["vmm_load", "YES"], ["pptdevs", "3/0/0 3/0/1 4/0/1"]]);
  assert.deepEqual(renderLoaderConf(s, { cpuVendor: "amd" }).at(-1), ["hw.vmm.amdvi.enable", "1"]);
  assert.deepEqual(renderLoaderConf(state({ host: { amdvi_enable: true } })), [["vmm_load", "YES"], ["hw.vmm.amdvi.enable", "1"]]);
  assert.deepEqual(renderLoaderConf(state({ host: { amdvi_enable: false } }), { cpuVendor: "amd" }),
    [["vmm_load", "YES"], ["hw.vmm.amdvi.enable", "0"]]);
  assert.deepEqual(renderLoaderConf(state({ host: { vmm_load: false } })), [["vmm_load", "NO"]]);
});

test("the order of reservations in the document does not change pptdevs", () => {
  const doc = { ppt: [{ device: "4/0/1" }, { device: "3/0/1" }, { device: "pci0:3:0:0" }] };
  assert.deepEqual(renderLoaderConf(state(doc)), [["vmm_load", "YES"], ["pptdevs", "3/0/0 3/0/1 4/0/1"]]);
});

test("bhyve argv of a UEFI passthrough guest", () => {
  const ml1 = example().guests.find((g) => g.name === "ml1")!;
  assert.deepEqual(renderBhyveArgv(ml1), [
    "/usr/sbin/bhyve", "-c", "8", "-m", "32G", "-S", "-A", "-H", "-P", "-u", "-U", "{uuid}",
    "-s", "0,hostbridge",
    "-s", "4:0,nvme,/dev/zvol/zroot/vm/ml1",
    "-s", "6:0,passthru,3/0/0",
    "-s", "6:1,passthru,3/0/1",
    "-s", "15:0,virtio-net,tap0,mac=58:9c:fc:00:00:01",
    "-s", "31,lpc",
    "-l", "com1,/dev/nmdm-ml1.1A",
    "-l", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/var/db/bhyve-agent/guests/ml1/uefi-vars.fd",
    "ml1",
  ]);
  assert.equal(renderBhyveloadArgv(ml1), null);
});

test("the GPU knobs and identity: -u unless localtime, -w, -p per pin, -U, amd_hostbridge, the -c topology", () => {
  const base = { name: "gpu", cpus: 8, memory: "16G", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", disks: [{ path: "/vm/gpu.img" }] };
  const g = state({ guests: [{ ...base, rtc: "localtime", ignore_unknown_msrs: true, hostbridge: "amd", sockets: 1, cores: 4, threads: 2,
    cpu_pinning: [{ vcpu: 0, host_cpu: 2 }, { vcpu: 1, host_cpu: 3 }], uuid: "6BA7B810-9DAD-41D1-80B4-00C04FD430C8" }] }).guests[0]!;
  assert.deepEqual(renderBhyveArgv(g).slice(0, 17), [
    "/usr/sbin/bhyve", "-c", "cpus=8,sockets=1,cores=4,threads=2", "-m", "16G", "-A", "-H", "-P", "-w", "-p", "0:2", "-p", "1:3",
    "-U", "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "-s", "0,amd_hostbridge",
  ]);
  const plain = renderBhyveArgv(state({ guests: [base] }).guests[0]!);
  assert.deepEqual(plain.slice(1, 3), ["-c", "8"], "no topology: the vCPU count alone");
  assert.ok(plain.includes("-u") && !plain.includes("-w") && plain.includes("0,hostbridge"));
  assert.deepEqual(plain.slice(plain.indexOf("-U"), plain.indexOf("-U") + 2), ["-U", "{uuid}"], "the agent's UUID, before it makes one");
});

test("the GPU knobs are checked where they are written", () => {
  const base = { name: "gpu", cpus: 8, memory: "16G", disks: [{ path: "/vm/gpu.img" }] };
  const problems = (extra: Record<string, unknown>) => {
    const r = checkDocumentData({ guests: [{ ...base, ...extra }] });
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };
  assert.deepEqual(problems({ sockets: 2, cores: 2 }), ["guests[0].sockets: sockets x cores x threads is 2 x 2 x 1 = 4, not the guest's 8 cpus"]);
  assert.deepEqual(problems({ threads: 3 }), ["guests[0].threads: sockets x cores x threads is 1 x 1 x 3 = 3, not the guest's 8 cpus"]);
  assert.deepEqual(problems({ cpu_pinning: [{ vcpu: 8, host_cpu: 0 }] }), ["guests[0].cpu_pinning[0].vcpu: vCPU 8 does not exist: the guest has 8 (0-7)"]);
  assert.deepEqual(problems({ cpu_pinning: [{ vcpu: 1, host_cpu: 0 }, { vcpu: 1, host_cpu: 2 }] }), ["guests[0].cpu_pinning[1].vcpu: vCPU 1 is already pinned in cpu_pinning[0]"]);
  assert.deepEqual(problems({ cpu_pinning: [{ vcpu: 0, host_cpu: 1024 }] }), ["guests[0].cpu_pinning[0].host_cpu: 1024 is out of range (0-1023)"]);
  assert.deepEqual(problems({ cpu_pinning: [{ vcpu: 0 }] }), ["guests[0].cpu_pinning[0].host_cpu: is required"]);
  assert.match(problems({ uuid: "not-a-uuid" })[0]!, /^guests\[0\]\.uuid: "not-a-uuid" is not a UUID/);
  assert.match(problems({ rtc: "gmt" })[0]!, /^guests\[0\]\.rtc: expected one of utc, localtime/);
  assert.match(problems({ hostbridge: "intel" })[0]!, /^guests\[0\]\.hostbridge: expected one of standard, amd/);
  assert.match(problems({ ignore_unknown_msrs: "yes" })[0]!, /^guests\[0\]\.ignore_unknown_msrs: expected true or false/);
  assert.deepEqual(problems({ sockets: 2, cores: 2, threads: 2, rtc: "localtime", cpu_pinning: [{ vcpu: 7, host_cpu: 7 }] }), []);
  assert.deepEqual(problems({ disks: [{ path: "/vm/a.img", bootindex: 1 }, { path: "/vm/b.img", bootindex: 1 }] }), ["guests[0].disks[1].bootindex: boot index 1 is already disks[0]'s"]);
  assert.deepEqual(problems({ disks: [{ path: "/vm/a.img", bootindex: -1 }] }), ["guests[0].disks[0].bootindex: -1 is out of range (0-65535)"]);
  assert.deepEqual(problems({ uefi_vars: true }), ["guests[0].uefi_vars: UEFI variables need a UEFI guest: set bootrom, or drop uefi_vars"]);
  assert.match(problems({ console: "yes" })[0]!, /^guests\[0\]\.console: expected true or false/);
});

test("boot order: bootindex on a disk and on a passthrough device; console and UEFI variables in the -l options", () => {
  const g = state({
    ppt: [{ device: "5/0/0" }],
    guests: [{ name: "b1", cpus: 2, memory: "2G", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", disks: [{ path: "/vm/b1.img", bootindex: 2 }],
      passthru: [{ device: "5/0/0", slot: 7, bootindex: 1 }] }],
  }).guests[0]!;
  const argv = renderBhyveArgv(g);
  assert.ok(argv.includes("7:0,passthru,5/0/0,bootindex=1"));
  assert.ok(argv.includes("4:0,virtio-blk,/vm/b1.img,bootindex=2"));
  assert.deepEqual(argv.slice(-5), ["-l", "com1,/dev/nmdm-b1.1A", "-l", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd,/var/db/bhyve-agent/guests/b1/uefi-vars.fd", "b1"]);
  const quiet = renderBhyveArgv(state({ guests: [{ name: "q", cpus: 1, memory: "1G", bootrom: "/vm/fw.fd", disks: [{ path: "/vm/q.img" }], console: false, uefi_vars: false }] }).guests[0]!);
  assert.deepEqual(quiet.slice(-3), ["-l", "bootrom,/vm/fw.fd", "q"]);
});

test("a framebuffer: -s 29,fbuf with its address, size and wait, -s 30,xhci,tablet; other devices kept off 29 and 30", () => {
  const fw = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";
  const disks = Array.from({ length: 29 }, (_, i) => ({ path: `/vm/d${i}.img` }));
  const g = state({ guests: [{ name: "desk", cpus: 2, memory: "4G", bootrom: fw, disks: disks.slice(0, 26), framebuffer: { width: 1920, height: 1080, wait: true, port: 5905 } }] }).guests[0]!;
  const slots = parseSlotArgs(renderBhyveArgv(g));
  assert.deepEqual(slots.filter((s) => s.slot >= 29).map((s) => [s.slot, s.kind, s.config.join(",")]), [[29, "fbuf", "rfb=127.0.0.1:5905,w=1920,h=1080,wait"], [30, "xhci", "tablet"], [31, "lpc", ""]]);
  assert.equal(slots.filter((s) => s.kind === "virtio-blk").length, 26, "26 disks around the framebuffer");
  const v6 = renderBhyveArgv(state({ guests: [{ name: "v6", cpus: 1, memory: "1G", bootrom: fw, framebuffer: { listen: "::1" } }] }).guests[0]!);
  assert.ok(v6.includes("29:0,fbuf,rfb=[::1]:{vnc-port},w=1024,h=768"), "defaults; the port is the agent's, before it allocates one");
  const problems = (guest: Record<string, unknown>, more: unknown[] = []) => {
    const r = checkDocumentData({ guests: [{ name: "g", cpus: 1, memory: "1G", bootrom: fw, ...guest }, ...more] });
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };
  assert.deepEqual(problems({ framebuffer: {}, disks: disks }), ["guests[0].disks[28]: no free guest PCI slot left (slots 1-30 are all in use)"]);
  assert.deepEqual(problems({ framebuffer: {}, disks: [{ path: "/vm/a.img", slot: 29 }] }), ["guests[0].disks[0].slot: slot 29 is already taken by the framebuffer"]);
  assert.deepEqual(problems({ framebuffer: {}, nics: [{ tap: "tap0", slot: 30 }] }), ["guests[0].nics[0].slot: slot 30 is already taken by the framebuffer's USB tablet"]);
  assert.deepEqual(problems({ bootrom: undefined, disks: [{ path: "/vm/a.img" }], framebuffer: {} }), ["guests[0].framebuffer: a framebuffer needs a UEFI guest: set bootrom, or drop framebuffer (a bhyveload guest has the serial console)"]);
  assert.deepEqual(problems({ framebuffer: { width: 4096, height: 400 } }), ["guests[0].framebuffer.width: 4096 is out of range (640-3840)", "guests[0].framebuffer.height: 400 is out of range (480-2160)"]);
  assert.deepEqual(problems({ framebuffer: { port: 80 } }), ["guests[0].framebuffer.port: 80 is out of range (1024-65535)"]);
  assert.match(problems({ framebuffer: { listen: "localhost" } })[0]!, /^guests\[0\]\.framebuffer\.listen: "localhost" is not an IPv4 or IPv6 address/);
  assert.match(problems({ framebuffer: { listen: "fe80::1%em0" } })[0]!, /is not an IPv4 or IPv6 address/);
  assert.match(problems({ framebuffer: { depth: 16 } })[0]!, /^guests\[0\]\.framebuffer\.depth: unknown key/);
  assert.deepEqual(problems({ framebuffer: { port: 5901 } }, [{ name: "h", cpus: 1, memory: "1G", bootrom: fw, framebuffer: { port: 5901 } }]), ["guests[1].framebuffer.port: port 5901 is also guests[0].framebuffer.port; each framebuffer needs a port of its own (leave port out and the agent allocates one)"]);
});

test("bhyve and bhyveload argv of a bhyveload guest: -S on both, same memory", () => {
  const fw1 = example().guests.find((g) => g.name === "fw1")!;
  const argv = renderBhyveArgv(fw1);
  assert.ok(argv.includes("-S"));
  assert.ok(argv.includes("7:0,passthru,4/0/1"));
  assert.ok(!argv.some((a) => a.startsWith("bootrom,")), "no bootrom");
  assert.deepEqual(argv.slice(-3), ["-l", "com1,/dev/nmdm-fw1.1A", "fw1"], "the serial console");
  assert.deepEqual(renderBhyveloadArgv(fw1), ["/usr/sbin/bhyveload", "-m", "2G", "-S", "-c", "/dev/nmdm-fw1.1A", "-d", "/dev/zvol/zroot/vm/fw1", "fw1"]);
});

test("no -S without passthrough or wired; slots allocated from 4 (disks) and 15 (NICs) around passthrough", () => {
  const s = state({
    ppt: [{ device: "3/0/0" }],
    guests: [
      { name: "plain", cpus: 1, memory: "512M", disks: [{ path: "/vm/a" }, { path: "/vm/b", type: "ahci-cd" }], nics: [{ tap: "tap5", model: "e1000" }] },
      { name: "gpu", cpus: 2, memory: "4G", bootrom: "/fw/BHYVE_UEFI.fd", passthru: [{ device: "3/0/0", slot: 4 }],
        disks: [{ path: "/vm/c" }, { path: "/vm/d", slot: 15 }], nics: [{ tap: "tap6" }] },
    ],
  });
  const plain = renderBhyveArgv(s.guests[0]!);
  assert.ok(!plain.includes("-S"));
  assert.deepEqual(plain.filter((_, i) => plain[i - 1] === "-s"), ["0,hostbridge", "4:0,virtio-blk,/vm/a", "5:0,ahci-cd,/vm/b", "15:0,e1000,tap5", "31,lpc"]);
  assert.equal(plain.at(-1), "plain");
  const gpu = renderBhyveArgv(s.guests[1]!);
  assert.deepEqual(gpu.filter((_, i) => gpu[i - 1] === "-s"),
    ["0,hostbridge", "4:0,passthru,3/0/0", "5:0,virtio-blk,/vm/c", "15:0,virtio-blk,/vm/d", "16:0,virtio-net,tap6", "31,lpc"]);
});

test("a guest with every slot taken is refused, naming the device that found none", () => {
  const disks = Array.from({ length: 30 }, (_, i) => ({ path: `/vm/d${i}` }));
  const r = checkDocumentData({ guests: [{ name: "full", cpus: 1, memory: "1G", disks, nics: [{ tap: "tap0" }] }] });
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => p.path), ["guests[0].nics[0]"]);
  assert.match(r.problems[0]!.message, /no free guest PCI slot left/);
});

test("renderState is the JSON of the render command", () => {
  const out = renderState(example());
  assert.deepEqual(Object.keys(out), ["loader_conf", "guests", "bhyveload"]);
  assert.deepEqual(Object.keys(out.guests), ["ml1", "fw1"]);
  assert.deepEqual(Object.keys(out.bhyveload), ["fw1"]);
  assert.deepEqual(out.loader_conf, { vmm_load: "YES", pptdevs: "3/0/0 3/0/1 4/0/1" });
});

test("the slots of a rendered argv read back: the inverse of the slot renderer", () => {
  const r = checkDocumentData({
    ppt: [{ device: "3/0/0" }, { device: "3/0/1" }],
    guests: [{
      name: "g", cpus: 2, memory: "2G", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
      disks: [{ path: "/dev/zvol/zroot/vm/g", type: "nvme" }], nics: [{ tap: "tap3", mac: "58:9c:fc:00:00:01" }],
      passthru: [{ device: "3/0/0", slot: 6, rom: "/vm/vbios.rom" }, { device: "pci0:3:0:1", slot: 6, function: 1 }],
    }],
  });
  assert.ok(r.ok);
  const argv = renderBhyveArgv(r.state.guests[0]!);
  const slots = parseSlotArgs(argv);
  assert.deepEqual(slots.map((s) => [s.slot, s.function, s.kind, s.config]), [
    [0, 0, "hostbridge", []],
    [4, 0, "nvme", ["/dev/zvol/zroot/vm/g"]],
    [6, 0, "passthru", ["3/0/0", "rom=/vm/vbios.rom"]],
    [6, 1, "passthru", ["3/0/1"]],
    [15, 0, "virtio-net", ["tap3", "mac=58:9c:fc:00:00:01"]],
    [31, 0, "lpc", []],
  ]);
  assert.deepEqual(passthruDevicesOf(argv), ["3/0/0", "3/0/1"]);
  assert.deepEqual(passthruDevicesOf(["/usr/sbin/bhyve", "-s", "5,passthru", "g"]), [], "a slot without its device names none");
});
