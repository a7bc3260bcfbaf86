import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants, existsSync, openSync, writeFileSync } from "node:fs";
import { ReadStream } from "node:tty";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { guestAction, rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { PAGE_SIZE } from "../../sandbox/machine.js";
import { TestSandbox, FW } from "../support/sandbox.js";
import { until } from "../support/agent-host.js";
import { freePort, rfbHandshake } from "../support/rfb-client.js";

const BASE = ["-A", "-H", "-P", "-s", "0,hostbridge", "-s", "31,lpc"];
const uefi = (name: string, ...extra: string[]): string[] => ["-c", "2", "-m", "2G", ...BASE, "-l", `bootrom,${FW}`, ...extra, name];

async function withPptBoot(sb: TestSandbox, pptdevs: string, extra = ""): Promise<void> {
  writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="${pptdevs}"\n${extra}`);
  await rebootSandbox(sb.root);
}

describe("bhyve refuses what FreeBSD's bhyve refuses, with its messages and exit codes", () => {
  const sb = new TestSandbox("intel-vtd");
  before(() => withPptBoot(sb, "3/0/0 3/0/1"));
  after(() => sb.destroy());

  const cases: Array<[string, string[], number, string]> = [
    ["passthru without -S", uefi("a1", "-s", "6,passthru,3/0/0"), 4, "bhyve: passthru requires guest memory to be wired\nDevice emulation initialization error: Invalid argument\n"],
    ["a device not owned by ppt", uefi("a2", "-S", "-s", "6,passthru,4/0/1"), 4, "bhyve: PCI device at 4/0/1 is not using the ppt(4) driver\nDevice emulation initialization error: No such file or directory\n"],
    ["a device that does not exist", uefi("a3", "-S", "-s", "6,passthru,9/0/0"), 4, "bhyve: PCI device at 9/0/0 is not using the ppt(4) driver\nDevice emulation initialization error: No such file or directory\n"],
    ["no bootrom and no VM from bhyveload", ["-c", "1", "-m", "1G", ...BASE, "a4"], 4, "virtual machine cannot be booted\n"],
    ["a missing bootrom", ["-c", "1", "-m", "1G", ...BASE, "-l", "bootrom,/usr/local/share/uefi-firmware/NOPE.fd", "a5"], 4,
      'Error opening bootrom "/usr/local/share/uefi-firmware/NOPE.fd": No such file or directory\n'],
    ["a missing disk", uefi("a6", "-s", "4,virtio-blk,/dev/zvol/zroot/vm/nope"), 4,
      "Could not open backing file: No such file or directory\nDevice emulation initialization error: No such file or directory\n"],
    ["a slot used twice", uefi("a7", "-s", "4,virtio-blk,/dev/zvol/zroot/vm/disk0", "-s", "4,nvme,/dev/zvol/zroot/vm/disk1"), 4, "pci slot 0:4:0 already occupied!\n"],
    ["an unknown emulation", uefi("a8", "-s", "4,virtio-gpu"), 4, 'pci slot 0:4:0: unknown device "virtio-gpu"\n'],
    ["a bad memory size", ["-m", "2X", ...BASE, "a9"], 64, "bhyve: invalid memsize '2X'\n"],
    ["a bad slot", uefi("a10", "-s", "32,virtio-rnd"), 4, 'Invalid PCI slot info field "32,virtio-rnd"\n'],
    ["a topology that is not the vCPU count", ["-c", "cpus=8,sockets=1,cores=2,threads=2", "-m", "1G", ...BASE, "a11"], 4, "bhyve: Topology (1 sockets, 2 cores, 2 threads) does not match 8 vCPUs\n"],
    ["sockets default to the vCPU count", ["-c", "4,cores=2", "-m", "1G", ...BASE, "a12"], 4, "bhyve: Topology (4 sockets, 2 cores, 1 threads) does not match 4 vCPUs\n"],
    ["an unknown topology key", ["-c", "4,dies=2", "-m", "1G", ...BASE, "a13"], 64, "bhyve: invalid cpu topology '4,dies=2'\n"],
    ["a pin that is not vcpu:hostcpu", uefi("a14", "-p", "x"), 64, "invalid format: x\nbhyve: invalid vcpu pinning configuration 'x'\n"],
    ["a pin beyond the cpuset", uefi("a15", "-p", "0:1024"), 64, "hostcpu '1024' outside valid range from 0 to 1023\nbhyve: invalid vcpu pinning configuration '0:1024'\n"],
    ["a UUID smbios cannot parse (14: exit 4, no message)", uefi("a16", "-U", "not-a-uuid"), 4, ""],
    ["a boot index used twice (14)", uefi("a20", "-s", "4,virtio-blk,/dev/zvol/zroot/vm/disk0,bootindex=1", "-s", "5,nvme,/dev/zvol/zroot/vm/disk1,bootindex=1"), 4,
      "bhyve: Could not set bootindex 1 for nvme@pci.0.5.0. Bootindex already occupied by virtio-blk@pci.0.4.0\n"],
    ["a negative boot index (14)", uefi("a21", "-s", "4,virtio-blk,/dev/zvol/zroot/vm/disk0,bootindex=-2"), 4, "bhyve: Invalid bootindex -2 for virtio-blk@pci.0.4.0\n"],
    ["com1 on something that is not a terminal", uefi("a22", "-l", "com1,/vm/not-a-tty"), 4, "Unable to initialize backend '/vm/not-a-tty' for LPC device com1\n"],
    ["a variables file that does not exist (bhyve never makes it)", ["-c", "1", "-m", "1G", ...BASE, "-l", `bootrom,${FW},/vm/a18-vars.fd`, "a18"], 4,
      'Error opening bootrom variable file "/vm/a18-vars.fd": No such file or directory\n'],
    ["a variables file of a size bhyve does not take", ["-c", "1", "-m", "1G", ...BASE, "-l", `bootrom,${FW},/usr/local/share/uefi-firmware/BHYVE_UEFI_CODE.fd`, "a19"], 4,
      "Invalid bootrom variable size 51\n"],
  ];
  for (const [what, args, status, stderr] of cases) {
    test(what, () => {
      const r = sb.run("bhyve", args);
      assert.equal(r.status, status);
      assert.equal(r.stderr, stderr);
    });
  }

  test("a VM created by a failed start stays in /dev/vmm until bhyvectl --destroy", () => {
    assert.ok(existsSync(join(sb.root, "dev/vmm/a4")));
    assert.equal(sb.run("bhyvectl", ["--vm=a4", "--destroy"]).status, 0);
    assert.ok(!existsSync(join(sb.root, "dev/vmm/a4")));
    const again = sb.run("bhyvectl", ["--vm=a4", "--destroy"]);
    assert.equal(again.status, 1);
    assert.equal(again.stderr, "vm_open: a4 could not be opened: No such file or directory\n");
  });

  test("a pin to a host CPU the host does not have: bhyve aborts as the vCPU thread starts (SIGABRT)", () => {
    const r = spawnSync(join(sb.root, "usr/sbin/bhyve"), uefi("a17", "-p", "0:24"), { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.signal, "SIGABRT");
    assert.equal(sb.run("bhyvectl", ["--vm=a17", "--destroy"]).status, 0, "the VM stays");
  });

  test("the knobs a GPU guest uses start: -u -w -U, a topology, pins within the host, amd_hostbridge", async () => {
    const args = ["-c", "cpus=4,sockets=1,cores=2,threads=2", "-m", "1G", "-A", "-H", "-P", "-u", "-w", "-p", "0:2", "-p", "3:23",
      "-U", "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "-s", "0,amd_hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, "knobs"];
    const g = sb.start("bhyve", args);
    await sb.waitRunning("knobs");
    assert.deepEqual(sb.machine().vms.knobs!.process!.argv, ["/usr/sbin/bhyve", ...args]);
    assert.equal(sb.run("bhyvectl", ["--vm=knobs", "--force-poweroff"]).status, 0);
    await g.exit;
    assert.equal(sb.run("bhyvectl", ["--vm=knobs", "--destroy"]).status, 0);
  });

  test("usage errors exit 1 with the usage text", () => {
    const r = sb.run("bhyve", ["-c", "1"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Usage: bhyve /);
  });
});

describe("a running sandbox guest", () => {
  const sb = new TestSandbox("intel-vtd");
  before(() => withPptBoot(sb, "3/0/0 3/0/1 4/0/1"));
  after(() => sb.destroy());

  test("holds its devices and wired memory, and SIGTERM powers it off (exit 1); the VM stays", async () => {
    const g = sb.start("bhyve", uefi("gpu", "-S", "-s", "6:0,passthru,3/0/0", "-s", "6:1,passthru,3/0/1"));
    await sb.waitRunning("gpu");
    const vm = sb.machine().vms.gpu!;
    assert.deepEqual(vm.ppt, ["3/0/0", "3/0/1"]);
    // Past its initialisation: every vCPU activated (print_cpus' format).
    assert.deepEqual(sb.run("bhyvectl", ["--vm=gpu", "--get-active-cpus", "--get-debug-cpus"]), { status: 0, stdout: "active cpus:\t 0, 1\ndebug cpus:\t 1\n", stderr: "" }, "the AP waits for the guest to start it");
    assert.equal(vm.process!.pid, g.child.pid, "the bhyve process is the one that was started (no wrapper in between)");
    assert.equal(sb.run("sysctl", ["-n", "vm.stats.vm.v_user_wire_count"]).stdout, `${(2 * 2 ** 30) / PAGE_SIZE}\n`);
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.iommu.initialized"]).stdout, "1\n");
    const other = sb.run("bhyve", uefi("thief", "-S", "-s", "6,passthru,3/0/0"));
    assert.equal(other.stderr, "bhyve: PCI device at 3/0/0 is not using the ppt(4) driver\nDevice emulation initialization error: Device busy\n", "EBUSY: another VM holds it");
    // Memory is set up before devices: the failed VM stays, its memory wired, until destroyed.
    assert.equal(sb.run("sysctl", ["-n", "vm.stats.vm.v_user_wire_count"]).stdout, `${(4 * 2 ** 30) / PAGE_SIZE}\n`);
    assert.equal(sb.run("bhyvectl", ["--vm=thief", "--get-active-cpus"]).stdout, "active cpus:\t (none)\n", "a start that failed in its device set-up activated no vCPU");
    assert.equal(sb.run("bhyvectl", ["--vm=thief", "--destroy"]).status, 0);
    assert.match(sb.run("bhyvectl", ["--vm=thief", "--get-active-cpus"]).stderr, /^vm_open: thief could not be opened: No such file or directory\n/);
    const twice = sb.run("bhyve", uefi("gpu", "-S"));
    assert.equal(twice.stderr, "vm_reinit: Device busy\n");
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
    const after = sb.machine().vms.gpu!;
    assert.equal(after.process, null);
    assert.deepEqual(after.lastExit && after.lastExit.code, 1);
    assert.ok(existsSync(join(sb.root, "dev/vmm/gpu")));
    assert.equal(sb.run("sysctl", ["-n", "vm.stats.vm.v_user_wire_count"]).stdout, `${(2 * 2 ** 30) / PAGE_SIZE}\n`, "still wired until destroyed");
    const restart = sb.start("bhyve", uefi("gpu", "-S", "-s", "6:0,passthru,3/0/0", "-s", "6:1,passthru,3/0/1"));
    await sb.waitRunning("gpu");
    assert.equal(sb.run("bhyvectl", ["--vm=gpu", "--force-poweroff"]).status, 0);
    assert.equal((await restart.exit).code, 1, "bhyvectl --force-poweroff: exit 1");
    assert.equal(sb.run("bhyvectl", ["--vm=gpu", "--destroy"]).status, 0);
    assert.equal(sb.run("sysctl", ["-n", "vm.stats.vm.v_user_wire_count"]).stdout, "0\n");
  });

  for (const [action, code] of [["reboot", 0], ["poweroff", 1], ["halt", 2], ["triple-fault", 3], ["crash", 4]] as const) {
    test(`sandbox guest ${action}: bhyve exits ${code}`, async () => {
      const g = sb.start("bhyve", uefi(`g-${action}`));
      await sb.waitRunning(`g-${action}`);
      assert.equal(await guestAction(sb.root, `g-${action}`, action), code);
      assert.equal((await g.exit).code, code);
      assert.equal(sb.machine().vms[`g-${action}`]!.lastExit!.code, code);
    });
  }

  test("bhyvectl --force-reset: exit 0; --destroy under a running bhyve: exit 1 on 14.x", async () => {
    const g = sb.start("bhyve", uefi("r1"));
    await sb.waitRunning("r1");
    sb.run("bhyvectl", ["--vm=r1", "--force-reset"]);
    assert.equal((await g.exit).code, 0);
    const g2 = sb.start("bhyve", uefi("r1"));
    await sb.waitRunning("r1");
    assert.equal(sb.run("bhyvectl", ["--vm=r1", "--destroy"]).status, 0);
    const exit = await g2.exit;
    assert.equal(exit.code, 1, "14.x: vm_loop() returns into exit(1)");
    assert.equal(exit.stderr, "vm_run error -1, errno 6\n");
    assert.equal(sb.machine().vms.r1, undefined);
  });

  test("-D destroys the VM when the guest powers off", async () => {
    const g = sb.start("bhyve", uefi("d1", "-D"));
    await sb.waitRunning("d1");
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
    assert.equal(sb.machine().vms.d1, undefined);
    assert.ok(!existsSync(join(sb.root, "dev/vmm/d1")));
  });

  test("a guest that is not running cannot be acted on", async () => {
    await assert.rejects(guestAction(sb.root, "ghost", "reboot"), /guest ghost is not running/);
  });
});

describe("bhyveload, then bhyve without a bootrom", () => {
  const sb = new TestSandbox("intel-vtd");
  before(() => withPptBoot(sb, "4/0/1"));
  after(() => sb.destroy());

  test("bhyveload creates and sets up the VM; bhyve then boots it; -S must match", async () => {
    const bad = sb.run("bhyveload", ["-m", "1G", "-S", "-d", "/dev/zvol/zroot/vm/none", "fw1"]);
    assert.equal(bad.status, 64, "errx(EX_USAGE) while parsing -d");
    assert.equal(bad.stderr, "bhyveload: Could not open '/dev/zvol/zroot/vm/none'\n");
    assert.ok(!existsSync(join(sb.root, "dev/vmm/fw1")), "no VM before the options are read");
    const load = sb.run("bhyveload", ["-m", "1G", "-S", "-d", "/dev/zvol/zroot/vm/fw1", "fw1"]);
    assert.equal(load.status, 0, load.stderr);
    assert.ok(existsSync(join(sb.root, "dev/vmm/fw1")));
    const mismatch = sb.run("bhyve", ["-c", "1", "-m", "1G", ...BASE, "-s", "4,virtio-blk,/dev/zvol/zroot/vm/fw1", "fw1"]);
    assert.equal(mismatch.stderr, "Unable to setup memory (17)\n", "bhyveload wired the memory, bhyve did not ask for -S");
    const g = sb.start("bhyve", ["-c", "1", "-m", "1G", "-S", ...BASE, "-s", "4,virtio-blk,/dev/zvol/zroot/vm/fw1", "-s", "7,passthru,4/0/1", "fw1"]);
    await sb.waitRunning("fw1");
    assert.deepEqual(sb.machine().vms.fw1!.ppt, ["4/0/1"]);
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
    assert.equal(sb.run("bhyvectl", ["--vm=fw1", "--destroy"]).status, 0);
    const fresh = sb.run("bhyve", ["-c", "1", "-m", "1G", "-S", ...BASE, "fw1"]);
    assert.equal(fresh.stderr, "virtual machine cannot be booted\n", "without bhyveload first there is nothing to boot");
  });
});

describe("wired memory counts against vm.max_user_wired", () => {
  const sb = new TestSandbox("no-iommu");
  after(() => sb.destroy());

  test("a wired guest over the limit fails; unwired guests do not count", async () => {
    assert.equal(sb.run("sysctl", ["vm.max_user_wired=524288"]).status, 0); // 2 GiB
    const a = sb.start("bhyve", ["-c", "1", "-m", "1536M", "-S", ...BASE, "-l", `bootrom,${FW}`, "w1"]);
    await sb.waitRunning("w1");
    const b = sb.run("bhyve", ["-c", "1", "-m", "1G", "-S", ...BASE, "-l", `bootrom,${FW}`, "w2"]);
    assert.equal(b.status, 4);
    assert.equal(b.stderr, "Unable to setup memory (12)\n");
    const c = sb.start("bhyve", ["-c", "1", "-m", "4G", ...BASE, "-l", `bootrom,${FW}`, "w3"]);
    await sb.waitRunning("w3");
    process.kill(a.child.pid!, "SIGTERM");
    process.kill(c.child.pid!, "SIGTERM");
    await Promise.all([a.exit, c.exit]);
  });
});

describe("the framebuffer: pci_fbuf's options and rfb's VNC server", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());
  const fbuf = (name: string, conf: string, ...extra: string[]): string[] => uefi(name, "-s", `29,fbuf,${conf}`, "-s", "30,xhci,tablet", ...extra);
  const trailer = (why: string): string => `Device emulation initialization error: ${why}\n`;

  test("options bhyve refuses, with its messages: sizes out of range, vga=on, a bad IPv6 address, two framebuffers, a port in use", async () => {
    const cases: Array<[string[], string]> = [
      [fbuf("f1", "rfb=127.0.0.1:5999,w=4096,h=768"), `fbuf: max resolution is 3840x2160\n${trailer("Invalid argument")}`],
      [fbuf("f2", "rfb=127.0.0.1:5999,w=320,h=200"), `fbuf: minimum resolution is 640x480\n${trailer("Invalid argument")}`],
      [fbuf("f3", "rfb=127.0.0.1:5999,vga=on"), `pci_fbuf: VGA rendering not enabled\n${trailer("Invalid argument")}`],
      [fbuf("f4", "rfb=[::1"), `fbuf: Invalid IPv6 address: "[::1"\n${trailer("Invalid argument")}`],
      [fbuf("f5", "rfb=127.0.0.1:"), `fbuf: Missing port number: "127.0.0.1:"\n${trailer("Invalid argument")}`],
    ];
    for (const [args, stderr] of cases) {
      const r = sb.run("bhyve", args);
      assert.deepEqual([r.status, r.stderr], [4, stderr], args.join(" "));
    }
    const port = await freePort();
    const two = sb.run("bhyve", uefi("f6", "-s", `28,fbuf,rfb=127.0.0.1:${port}`, "-s", `29,fbuf,rfb=127.0.0.1:${port + 1}`));
    assert.deepEqual([two.status, two.stderr], [4, `Only one frame buffer device is allowed.\n${trailer("Invalid argument")}`]);
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: "127.0.0.1", port, exclusive: true }, r));
    try {
      const busy = sb.run("bhyve", fbuf("f7", `rfb=127.0.0.1:${port}`));
      assert.deepEqual([busy.status, busy.stderr], [4, `bind: Address already in use\n${trailer("Address already in use")}`]);
    } finally {
      holder.close();
    }
    for (const n of ["f1", "f2", "f3", "f4", "f5", "f6", "f7"]) sb.run("bhyvectl", [`--vm=${n}`, "--destroy"]);
  });

  test("a running guest's VNC server answers the RFB 3.8 handshake with the framebuffer's size and bhyve's name", async () => {
    const port = await freePort();
    const g = sb.start("bhyve", fbuf("desk", `rfb=127.0.0.1:${port},w=1280,h=800`));
    await sb.waitRunning("desk");
    const s = await rfbHandshake("127.0.0.1", port);
    s.close();
    assert.deepEqual([s.version, s.width, s.height, s.bitsPerPixel, s.name], ["RFB 003.008\n", 1280, 800, 32, "bhyve"]);
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
    await assert.rejects(rfbHandshake("127.0.0.1", port, 2000), "the server went with bhyve");
    sb.run("bhyvectl", ["--vm=desk", "--destroy"]);
  });

  test("wait: the guest boots (its console speaks) only once a viewer has connected", async () => {
    const port = await freePort();
    const g = sb.start("bhyve", fbuf("held", `rfb=127.0.0.1:${port},wait`, "-l", "com1,/dev/nmdm-held.1A"));
    await sb.waitRunning("held");
    let out = "";
    await until(() => existsSync(join(sb.root, "dev/nmdm-held.1B")), "the console pair");
    // The B side is a terminal: read through a tty handle, so that no thread blocks on it.
    const b = new ReadStream(openSync(join(sb.root, "dev/nmdm-held.1B"), constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK));
    b.setRawMode(true); // as the monitor holds it: no echo back into the guest
    b.on("data", (d) => (out += d.toString()));
    b.on("error", () => {});
    try {
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(out, "", "nothing before a viewer connects");
      assert.equal(sb.run("bhyvectl", ["--vm=held", "--get-active-cpus"]).stdout, "active cpus:\t (none)\n", "rfb_init holds the start before the vCPUs are activated");
      const s = await rfbHandshake("127.0.0.1", port);
      s.close();
      await until(() => out.includes("login: "), `the boot transcript after the viewer (got ${JSON.stringify(out)})`);
      assert.equal(sb.run("bhyvectl", ["--vm=held", "--get-active-cpus", "--get-debug-cpus"]).stdout, "active cpus:\t 0, 1\ndebug cpus:\t 1\n");
    } finally {
      b.destroy();
      process.kill(g.child.pid!, "SIGTERM");
      await g.exit;
      sb.run("bhyvectl", ["--vm=held", "--destroy"]);
    }
  });
});
