/** Issue 17: where the sandbox must be as strict as FreeBSD and print what FreeBSD prints (items 3–10). */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parsePciconf } from "../../agent/parse/pciconf.js";
import { rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { TestSandbox, FW } from "../support/sandbox.js";

const BASE = ["-s", "0,hostbridge", "-s", "31,lpc"];
const uefi = (name: string, ...extra: string[]): string[] => ["-c", "1", "-m", "1G", ...BASE, "-l", `bootrom,${FW}`, ...extra, name];
const DISK = "/dev/zvol/zroot/vm/fw1";

async function boot(sb: TestSandbox, extra: string): Promise<void> {
  writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}${extra}`);
  await rebootSandbox(sb.root);
}

function nameOf(sb: TestSandbox, device: string): string {
  return parsePciconf(sb.run("pciconf", ["-l"]).stdout).entries.find((e) => e.device === device)!.name;
}

describe("intel-vtd (14.3)", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("item 4: bhyvectl loads vmm.ko only with --create; other calls on a missing VM fail in vm_open", () => {
    const r = sb.run("bhyvectl", ["--vm=ghost", "--force-poweroff"]);
    assert.deepEqual([r.status, r.stderr], [1, "vm_open: ghost could not be opened: No such file or directory\n"]);
    assert.equal(sb.run("kldstat", ["-q", "-m", "vmm"]).status, 1, "vmm.ko is still not loaded");
    assert.equal(sb.run("bhyvectl", ["--vm=made", "--create"]).status, 0);
    assert.equal(sb.run("kldstat", ["-q", "-m", "vmm"]).status, 0, "--create loaded it");
    assert.equal(sb.run("bhyvectl", ["--vm=made", "--destroy"]).status, 0);
  });

  test("item 3: devctl set driver to the driver it has, clear driver with none forced, pciB:S:F selectors", async () => {
    await boot(sb, 'vmm_load="YES"\n');
    const same = sb.run("devctl", ["set", "driver", "pci4:0:1", "igb"]);
    assert.deepEqual([same.status, same.stderr], [0, ""], "already igb: success, without -f and without a detach");
    assert.equal(nameOf(sb, "4/0/1"), "igb1");
    const clear = sb.run("devctl", ["clear", "driver", "igb1"]);
    assert.deepEqual([clear.status, clear.stderr], [0, ""]);
    assert.equal(nameOf(sb, "4/0/1"), "igb1");
    const busy = sb.run("devctl", ["set", "driver", "pci4:0:1", "ppt"]);
    assert.equal(busy.stderr, "devctl: Failed to set pci4:0:1 driver to ppt: Device busy\n");
    assert.equal(sb.run("devctl", ["set", "driver", "-f", "pci4:0:1", "ppt"]).status, 0);
    assert.equal(nameOf(sb, "4/0/1"), "ppt0");
    assert.equal(sb.run("devctl", ["set", "driver", "ppt0", "ppt"]).status, 0, "forced ppt again: nothing to do");
    assert.equal(sb.run("devctl", ["clear", "driver", "pci9:0:0"]).stderr, "devctl: Failed to clear pci9:0:0 driver: No such file or directory\n");
    assert.equal(sb.run("devctl", ["detach", "none7"]).stderr, "devctl: Failed to detach none7: No such file or directory\n");
  });

  test("item 8: pciconf names: Device not found, none counted per listing, a forced driver's name while detached", () => {
    for (const name of ["ppt9", "none0", "mlx5_core0"]) {
      const r = sb.run("pciconf", ["-l", name]);
      assert.deepEqual([r.status, r.stdout, r.stderr], [1, "", "pciconf: Device not found\n"], name);
    }
    assert.equal(sb.run("pciconf", ["-a", "ppt9"]).stderr, "pciconf: Device not found\n");
    const all = parsePciconf(sb.run("pciconf", ["-l"]).stdout).entries;
    const pm = all.find((e) => e.device === "0/31/2")!;
    assert.match(pm.name, /^none\d+$/);
    const one = sb.run("pciconf", ["-l", "pci0:0:31:2"]);
    assert.match(one.stdout, /^none0@pci0:0:31:2:\t/, "a selector lists one device, the none count starts at 0");
    assert.equal(sb.run("pciconf", ["-l", "ppt0"]).stdout.split("@")[0], "ppt0", "a name lists that device");
    // A bridge forced to ppt stays in the ppt devclass, detached, and pciconf and devctl use that name.
    assert.equal(sb.run("devctl", ["set", "driver", "-f", "pci0:0:1:0", "ppt"]).status, 1);
    assert.equal(nameOf(sb, "0/1/0"), "ppt1");
    assert.equal(sb.run("pciconf", ["-a", "ppt1"]).stdout, "ppt1: not attached\n");
    assert.equal(sb.run("devctl", ["clear", "driver", "ppt1"]).status, 0);
    assert.equal(nameOf(sb, "0/1/0"), "pcib0");
  });

  test("item 8: pciconf -r spacing as readit() prints it", () => {
    const w = sb.run("pciconf", ["-r", "pci0:4:0:0", "0x0:0x1c"]).stdout;
    assert.match(w, /^[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}\n[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} \n$/, "an extra space after every 8th value");
    const b = sb.run("pciconf", ["-r", "-b", "pci0:4:0:0", "0x0:0xf"]).stdout;
    assert.match(b, /^([0-9a-f]{2} ){7}[0-9a-f]{2}  ([0-9a-f]{2} ){7}[0-9a-f]{2} \n$/);
    assert.equal(sb.run("pciconf", ["-r", "-h", "pci0:4:0:0", "0x0:0x2"]).stdout, "8086 1521 \n");
  });

  test("item 7: -s options are checked before any VM exists", () => {
    const cases: Array<[string[], string]> = [
      [uefi("p1", "-s", "4,virtio-gpu"), 'pci slot 0:4:0: unknown device "virtio-gpu"\n'],
      [uefi("p2", "-s", "4,passthru,four/0/0"), 'passthru: invalid options "four/0/0"\n'],
      [uefi("p3", "-s", "4,virtio-rnd", "-s", "4,virtio-rnd"), "pci slot 0:4:0 already occupied!\n"],
      // The emulation is looked up before the slot is found taken.
      [uefi("p4", "-s", "4,virtio-rnd", "-s", "4,bogus"), 'pci slot 0:4:0: unknown device "bogus"\n'],
      // Out of range, read the way sscanf reads it: pci_parse_slot_usage().
      [uefi("p5", "-s", "0:32:0,virtio-rnd"), 'Invalid PCI slot info field "0:32:0,virtio-rnd"\n'],
      [uefi("p6", "-s", "256:0:0,virtio-rnd"), 'Invalid PCI slot info field "256:0:0,virtio-rnd"\n'],
      [uefi("p7", "-s", "4:8,virtio-rnd"), 'Invalid PCI slot info field "4:8,virtio-rnd"\n'],
      [uefi("p8", "-s", "-1,virtio-rnd"), 'Invalid PCI slot info field "-1,virtio-rnd"\n'],
      [uefi("p9", "-s", "x,virtio-rnd"), 'Invalid PCI slot info field "x,virtio-rnd"\n'],
      [uefi("p10", "-s", "virtio-rnd"), 'Invalid PCI slot info field "virtio-rnd"\n'],
      // sscanf stops at the first character it cannot take: "5x" is slot 5, "0:6:1:9" is 0:6:1.
      [uefi("p11", "-s", "5x,virtio-rnd", "-s", "5,virtio-rnd"), "pci slot 0:5:0 already occupied!\n"],
      [uefi("p12", "-s", "0:6:1:9,virtio-rnd", "-s", "6:1,virtio-rnd"), "pci slot 0:6:1 already occupied!\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = sb.run("bhyve", args);
      assert.deepEqual([r.status, r.stderr], [4, stderr]);
      assert.ok(!existsSync(join(sb.root, `dev/vmm/${args.at(-1)}`)), `no VM for ${args.at(-1)}`);
    }
  });

  test("item 7: vCPUs above hw.vmm.maxcpu fail in vm_set_topology (71); a zero MAC and wired memory beyond the host's are refused", () => {
    const cpus = sb.run("bhyve", ["-c", "25", "-m", "1G", ...BASE, "-l", `bootrom,${FW}`, "c1"]);
    assert.deepEqual([cpus.status, cpus.stderr], [71, "bhyve: vm_set_topology\n"]);
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.maxcpu"]).stdout, "24\n");
    const mac = sb.run("bhyve", uefi("m1", "-s", "5,virtio-net,tap0,mac=00:00:00:00:00:00"));
    assert.deepEqual([mac.status, mac.stderr], [4, "Invalid MAC 00:00:00:00:00:00\nDevice emulation initialization error: Invalid argument\n"]);
    const multi = sb.run("bhyve", uefi("m2", "-s", "5,virtio-net,tap0,mac=01:00:5e:00:00:01"));
    assert.equal(multi.stderr.split("\n")[0], "Invalid MAC 01:00:5e:00:00:01");
    assert.equal(sb.run("sysctl", ["vm.max_user_wired=100000000"]).status, 0);
    const big = sb.run("bhyve", ["-c", "1", "-m", "80G", "-S", ...BASE, "-l", `bootrom,${FW}`, "w1"]);
    assert.deepEqual([big.status, big.stderr], [4, "Unable to setup memory (12)\n"], "64 GiB host");
    for (const vm of ["c1", "m1", "m2", "w1"]) sb.run("bhyvectl", [`--vm=${vm}`, "--destroy"]);
  });

  test("item 6: bhyveload reinitialises an existing VM, which releases its passthru devices; -d is optional", async () => {
    await boot(sb, 'vmm_load="YES"\npptdevs="4/0/1"\n');
    const missing = sb.run("bhyveload", ["-m", "1G", "-S", "-d", "/dev/zvol/zroot/vm/nope", "l1"]);
    assert.deepEqual([missing.status, missing.stderr], [64, "bhyveload: Could not open '/dev/zvol/zroot/vm/nope'\n"]);
    assert.equal(sb.run("bhyveload", ["-m", "1G", "-S", "-d", DISK, "l1"]).status, 0);
    const g = sb.start("bhyve", ["-c", "1", "-m", "1G", "-S", ...BASE, "-s", "7,passthru,4/0/1", "l1"]);
    await sb.waitRunning("l1");
    assert.deepEqual(sb.machine().vms.l1!.ppt, ["4/0/1"]);
    assert.equal(sb.run("bhyveload", ["-m", "1G", "-S", "l1"]).stderr, "vm_reinit: Device busy\n", "not while bhyve runs it");
    process.kill(g.child.pid!, "SIGTERM");
    assert.equal((await g.exit).code, 1);
    assert.deepEqual(sb.machine().vms.l1!.ppt, ["4/0/1"], "bhyve's exit does not release the device");
    const again = sb.run("bhyveload", ["-m", "1G", "-S", "l1"]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(sb.machine().vms.l1!.ppt, [], "vm_reinit released it");
    const ok = sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(sb.run("bhyvectl", ["--vm=l1", "--destroy"]).status, 0);
  });

  test("item 7: passthru failures are warnx() lines (bhyve: ) followed by the 14+ trailer", () => {
    const r = sb.run("bhyve", uefi("t1", "-S", "-s", "6,passthru,ppt7"));
    assert.deepEqual([r.status, r.stderr], [4, "Passthru device ppt7 not found\nDevice emulation initialization error: No such file or directory\n"]);
    const rom = sb.run("bhyve", uefi("t2", "-S", "-s", "6,passthru,pci0:3:0:0,rom=/nope.rom"));
    assert.match(rom.stderr, /^bhyve: PCI device at 3\/0\/0 is not using the ppt\(4\) driver\n/);
    sb.run("bhyvectl", ["--vm=t1", "--destroy"]);
    sb.run("bhyvectl", ["--vm=t2", "--destroy"]);
  });

  test("item 10: kldstat -m, route get metrics, camcontrol devlist -v columns", () => {
    assert.equal(sb.run("kldstat", ["-m", "vmm"]).stdout, "Id  Refs Name\n  4    1 vmm\n");
    const route = sb.run("route", ["-n", "get", "default"]).stdout.trimEnd().split("\n").at(-1)!;
    assert.equal(route, `${["0", "0", "0", "0", "1500", "1", "0"].map((v) => `${v.padStart(8)} `).join(" ")}`.trimEnd());
    const dev = sb.run("camcontrol", ["devlist", "-v"]).stdout.split("\n");
    assert.ok(dev.includes(`${"<>".padEnd(33)}  at scbus-1 target -1 lun ffffffff (xpt0)`), dev.join("\n"));
  });
});

describe("item 9: amd-vi with both amdvi tunables", () => {
  const sb = new TestSandbox("amd-vi");
  after(() => sb.destroy());

  test("the legacy hw.vmm.amdvi_enable wins over hw.vmm.amdvi.enable", async () => {
    await boot(sb, 'vmm_load="YES"\nhw.vmm.amdvi.enable="1"\nhw.vmm.amdvi_enable="0"\n');
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.amdvi.enable"]).stdout, "0\n");
    await boot(sb, 'vmm_load="YES"\nhw.vmm.amdvi.enable="0"\nhw.vmm.amdvi_enable="1"\n');
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.amdvi.enable"]).stdout, "1\n");
  });
});

describe("item 5 and 7: release differences", () => {
  const s13 = new TestSandbox("freebsd13");
  const s15 = new TestSandbox("freebsd15");
  before(async () => {
    await boot(s13, 'vmm_load="YES"\n');
    await boot(s15, 'vmm_load="YES"\n');
  });
  after(async () => {
    await s13.destroy();
    await s15.destroy();
  });

  for (const [sb, release, code] of [[s13, "13.5", 1], [s15, "15.0", 4]] as const) {
    test(`${release}: a VM destroyed under a running bhyve makes it exit ${code}`, async () => {
      const g = sb.start("bhyve", uefi("d1"));
      await sb.waitRunning("d1");
      assert.equal(sb.run("bhyvectl", ["--vm=d1", "--destroy"]).status, 0);
      const exit = await g.exit;
      assert.deepEqual([exit.code, exit.stderr], [code, "vm_run error -1, errno 6\n"]);
    });
  }

  test("15.0: no bootrom and no VM: `no bootrom was configured`, and no VM is created", () => {
    const r = s15.run("bhyve", ["-c", "1", "-m", "1G", ...BASE, "n1"]);
    assert.deepEqual([r.status, r.stderr], [4, "bhyve: no bootrom was configured\n"]);
    assert.ok(!existsSync(join(s15.root, "dev/vmm/n1")));
    const r13 = s13.run("bhyve", ["-c", "1", "-m", "1G", ...BASE, "n1"]);
    assert.deepEqual([r13.status, r13.stderr], [4, "virtual machine cannot be booted\n"]);
    assert.ok(existsSync(join(s13.root, "dev/vmm/n1")), "13.x created the VM first");
    s13.run("bhyvectl", ["--vm=n1", "--destroy"]);
  });

  test("13.x: B/S/F passthru only, and perror()'s lower-case trailer", () => {
    const r = s13.run("bhyve", uefi("o1", "-S", "-s", "6,passthru,pci0:4:0:1"));
    assert.deepEqual([r.status, r.stderr], [4, 'passthru: invalid options "pci0:4:0:1"\n']);
    const d = s13.run("bhyve", uefi("o2", "-S", "-s", "6,passthru,4/0/1"));
    assert.equal(d.stderr, "bhyve: PCI device at 4/0/1 is not using the ppt(4) driver\ndevice emulation initialization error: No such file or directory\n");
    s13.run("bhyvectl", ["--vm=o2", "--destroy"]);
  });
});
