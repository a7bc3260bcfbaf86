/**
 * vm-bhyve on a sandbox host (sandbox/vm-bhyve.ts): what `vm init`, `vm switch create`, `vm create`,
 * `vm start` and `vm stop` leave and run, checked against vm-bhyve's newest vm-run: the bhyve argv
 * it builds (the one the sandbox's bhyve runs), its log, the uuid and MACs it writes back, its
 * supervisor as ps shows it, and what the supervisor does when bhyve exits or when it is killed.
 * Every process a test starts is stopped by PID in after().
 */
import { parseVmBhyveConf } from "../../agent/parse/vm-bhyve.js";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { destroySandbox, guestAction, rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { isZombie } from "../../agent/host/pid-lock.js";
import { processAlive } from "../../sandbox/machine.js";
import { setupVmBhyve, vmBhyveStart, vmBhyveStop, writeVmBhyveGuest, type VmBhyveStarted } from "../../sandbox/vm-bhyve.js";
import { runBin } from "../support/cli.js";
import { freePort } from "../support/rfb-client.js";
import { FW, TestSandbox } from "../support/sandbox.js";
import { until } from "../support/wait.js";

const STAMP = /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}: /;

/** One interface of `ifconfig NAME`, read here (vm-bhyve's names, vm-public, have a dash). */
function parseIface(text: string): { name: string; flags: string[]; description: string | null; groups: string[]; bridgeMembers: string[]; openedBy: number | null } {
  const [head = "", ...rest] = text.split("\n");
  const h = /^(\S+): flags=[0-9a-f]+<([^>]*)>/.exec(head)!;
  const field = (re: RegExp): string | null => rest.map((l) => re.exec(l)?.[1]).find((x) => x !== undefined) ?? null;
  return {
    name: h[1]!,
    flags: h[2]!.split(","),
    description: field(/^\tdescription: (.*)$/),
    groups: (field(/^\tgroups: (.*)$/) ?? "").split(" ").filter(Boolean),
    bridgeMembers: rest.flatMap((l) => /^\tmember: (\S+)/.exec(l)?.[1] ?? []),
    openedBy: field(/^\tOpened by PID (\d+)$/) === null ? null : Number(field(/^\tOpened by PID (\d+)$/)),
  };
}

/** A sandbox host for one describe, whose vm-bhyve processes are killed by PID before it is destroyed. */
class VmBhyveHost {
  readonly sb: TestSandbox;
  private readonly pids = new Set<number>();
  constructor(profile = "intel-vtd") {
    this.sb = new TestSandbox(profile);
  }
  get root(): string {
    return this.sb.root;
  }
  /** `vm start`, remembering the runner and the bhyve (and any later bhyve of the runner) for the teardown. */
  async start(name: string): Promise<VmBhyveStarted> {
    const r = await vmBhyveStart(this.root, name);
    this.pids.add(r.runnerPid).add(r.bhyvePid);
    return r;
  }
  track(...pids: number[]): void {
    for (const p of pids) this.pids.add(p);
  }
  async destroy(): Promise<void> {
    try {
      for (const r of this.sb.machine().vmRunners ?? []) this.pids.add(r.pid);
      for (const vm of Object.values(this.sb.machine().vms)) if (vm.process) this.pids.add(vm.process.pid);
    } catch {
      // the tree is gone already
    }
    for (const pid of this.pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    // A test that destroyed the sandbox itself leaves only the temporary parent.
    if (existsSync(this.root)) await this.sb.destroy();
    else rmSync(join(this.root, ".."), { recursive: true, force: true });
  }
  log(name: string): string[] {
    const text = readFileSync(join(this.root, `vm/${name}/vm-bhyve.log`), "utf8");
    const lines = text.split("\n").slice(0, -1);
    for (const l of lines) assert.match(l, STAMP, "every line starts with date +'%b %d %T: '");
    return lines.map((l) => l.replace(STAMP, ""));
  }
  conf(name: string): Map<string, string> {
    return parseVmBhyveConf(readFileSync(join(this.root, `vm/${name}/${name}.conf`), "utf8"));
  }
  iface(name: string) {
    const r = this.sb.run("ifconfig", [name]);
    assert.equal(r.status, 0, r.stderr);
    return parseIface(r.stdout);
  }
  /** `ps -ax -o pid= -o ppid= -o command=`, parsed. */
  ps(): Array<{ pid: number; ppid: number; command: string }> {
    const r = this.sb.run("ps", ["-ax", "-o", "pid=", "-o", "ppid=", "-o", "command="]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter(Boolean).map((l) => {
      const m = /^ *(\d+) +(\d+) (.*)$/.exec(l)!;
      return { pid: Number(m[1]), ppid: Number(m[2]), command: m[3]! };
    });
  }
  /** Waits until the guest's runner runs a bhyve that is not `old` and whose VM is recorded as running. */
  async nextBhyve(name: string, runnerPid: number, old: number): Promise<number> {
    let pid = 0;
    await until(() => {
      const m = this.sb.machine();
      const r = m.vmRunners?.find((x) => x.pid === runnerPid);
      pid = r?.bhyvePid ?? 0;
      return pid !== 0 && pid !== old && m.vms[name]?.process?.pid === pid;
    }, `a new bhyve for ${name}`);
    this.track(pid);
    return pid;
  }
}

/** The argv vm-bhyve ran, from its log as the facts say: the last options, devices, iso device and console lines, then the name. */
function argvFromLog(lines: readonly string[], name: string): string[] {
  const last = (prefix: string): string => {
    const l = [...lines].reverse().find((x) => x.startsWith(` [${prefix}: `));
    return l ? l.slice(prefix.length + 4, -1) : "";
  };
  const split = (s: string): string[] => s.split(/\s+/).filter(Boolean);
  return ["bhyve", ...split(last("bhyve options")), ...split(last("bhyve devices")), ...split(last("bhyve iso device")), ...split(last("bhyve console")), name];
}

/** Waits until a process has ended: gone, or a zombie (an orphan waits for init to reap it, a child of this test for the event loop). */
function ended(pid: number, what: string): Promise<void> {
  return until(() => !processAlive(pid) || isZombie(pid), what);
}

const UEFI_GUEST = [
  "# written by hand, as vm create would from a template",
  'loader="uefi"',
  "cpu=2 # vCPUs",
  'memory="1G"',
  "  memory=4G",
  'uuid="" # filled in at the first start',
  'network0_type="virtio-net"',
  'network0_switch="public"',
  'disk0_type="virtio-blk"',
  'disk0_name="disk0.img"',
  'disk1_type="nvme"',
  'disk1_dev="custom"',
  'disk1_name="/dev/zvol/zroot/vm/disk1"',
  // vm.8 documents ignore_bad_msr; the newest vm-run reads ignore_msr only.
  'ignore_bad_msr="yes"',
].join("\n");

describe("vm-bhyve set up on a sandbox host: rc.conf, $vm_dir, switches", () => {
  const h = new VmBhyveHost();
  after(() => h.destroy());

  test("setup appends to rc.conf, makes $vm_dir and each switch's bridge as vm init and vm switch create leave them", () => {
    mkdirSync(join(h.root, "etc"));
    writeFileSync(join(h.root, "etc/rc.conf"), 'hostname="h1.example.org"\nsshd_enable="YES"');
    const r = setupVmBhyve(h.root, { switches: ["public", "a-long-switch-name"] });
    assert.deepEqual(r, { vmDir: "/vm", bridges: { public: "vm-public", "a-long-switch-name": "bridge0" } });
    assert.equal(readFileSync(join(h.root, "etc/rc.conf"), "utf8"), 'hostname="h1.example.org"\nsshd_enable="YES"\nvm_enable="YES"\nvm_dir="/vm"\n');
    for (const d of [".config", ".templates", ".iso", ".img"]) assert.ok(existsSync(join(h.root, "vm", d)), d);
    assert.equal(readFileSync(join(h.root, "vm/.config/null.iso"), "utf8"), "");
    assert.equal(readFileSync(join(h.root, "vm/.config/system.conf"), "utf8"), 'switch_list="public a-long-switch-name"\ntype_public="standard"\ntype_a-long-switch-name="standard"\n');
    const pub = h.iface("vm-public");
    assert.deepEqual(pub.groups, ["bridge", "vm-switch", "viid-4c918@"], "md5('public') starts 4c918");
    assert.ok(pub.flags.includes("UP"));
    const long = h.iface("bridge0");
    assert.equal(long.description, "vm/a-long-switch-name", "a name over 12 characters keeps bridgeN");
    assert.ok(long.groups.includes("vm-switch"));
    const m = h.sb.machine();
    for (const mod of ["nmdm", "if_bridge", "if_tuntap"]) assert.ok(m.modules.includes(mod), mod);
    assert.equal(h.sb.run("sysctl", ["-n", "net.link.tap.up_on_open"]).stdout, "1\n");
    assert.throws(() => setupVmBhyve(h.root, { switches: ["public"] }), (e: Error & { code?: string }) => e.code === "E_EXISTS" && /switch public already exists/.test(e.message));
  });

  test("ifconfig's name and group, which the switches are made with", () => {
    assert.deepEqual(h.sb.run("ifconfig", ["bridge", "create", "name", "vm-lan", "group", "vm-switch", "up"]), { status: 0, stdout: "vm-lan\n", stderr: "" });
    assert.deepEqual(h.iface("vm-lan").groups, ["bridge", "vm-switch"]);
    assert.match(h.sb.run("ifconfig", ["vm-lan", "name", "vm-public"]).stderr, /^ifconfig: ioctl SIOCSIFNAME \(set name\): File exists\n$/);
    assert.match(h.sb.run("ifconfig", ["vm-lan", "group", "grp1"]).stderr, /^ifconfig: setifgroup: group names may not end in a digit\n$/);
    assert.equal(h.sb.run("ifconfig", ["tap", "create"]).stdout, "tap0\n");
    assert.equal(h.sb.run("ifconfig", ["vm-lan", "addm", "tap0"]).status, 0);
    assert.deepEqual(h.sb.run("ifconfig", ["tap0", "name", "guest0"]), { status: 0, stdout: "guest0\n", stderr: "" });
    assert.deepEqual(h.iface("vm-lan").bridgeMembers, ["guest0"], "the bridge follows the rename");
    assert.equal(h.sb.run("ifconfig", ["vm-lan", "-group", "vm-switch"]).status, 0);
    assert.deepEqual(h.iface("vm-lan").groups, ["bridge"]);
  });

  test("vm create writes NAME.conf under $vm_dir; a name vm-bhyve refuses is refused", () => {
    assert.equal(writeVmBhyveGuest(h.root, "web1", 'loader="uefi"\n'), "/vm/web1/web1.conf");
    assert.equal(readFileSync(join(h.root, "vm/web1/web1.conf"), "utf8"), 'loader="uefi"\n');
    assert.throws(() => writeVmBhyveGuest(h.root, "-bad", ""), /invalid virtual machine name - '-bad'/);
  });

  test("the config is read as vm-bhyve reads it: lowercase lines, cut at #, quotes dropped, the first line of a key wins", () => {
    const c = parseVmBhyveConf('cpu="2" # two\n  memory=1G\nMemory=2G\nmemory=512M\nmemory=4G\ngraphics_res="1280x720"#x\nnote="a # b"\nempty=\n');
    assert.deepEqual([...c], [["cpu", "2"], ["memory", "512M"], ["graphics_res", "1280x720"], ["note", "a"], ["empty", ""]]);
  });
});

describe("a UEFI guest started by vm start: argv, log, written-back uuid and MAC, taps, ps, poweroff", () => {
  const h = new VmBhyveHost();
  let started: VmBhyveStarted;
  before(async () => {
    setupVmBhyve(h.root, { switches: ["public"] });
    writeVmBhyveGuest(h.root, "g1", UEFI_GUEST);
    writeFileSync(join(h.root, "vm/g1/disk0.img"), "");
    started = await h.start("g1");
  });
  after(() => h.destroy());

  test("the uuid and the MAC are generated and written back to the conf as sysrc does: an empty assignment edited in place, a missing one appended", () => {
    const c = h.conf("g1");
    const uuid = c.get("uuid")!;
    const mac = c.get("network0_mac")!;
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(mac, /^58:9c:fc:0[0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.equal(readFileSync(join(h.root, "vm/g1/g1.conf"), "utf8"), `${UEFI_GUEST.replace('uuid=""', `uuid="${uuid}"`)}\nnetwork0_mac="${mac}"\n`);
  });

  test("bhyve's argv is vm-bhyve's: -c -m, -Hwl bootrom instead of -AHP, -U, -u, hostbridge, lpc, a slot per disk, the NIC on 15, com1 and the name last", () => {
    const c = h.conf("g1");
    const uuid = c.get("uuid")!;
    const mac = c.get("network0_mac")!;
    const expected = ["bhyve", "-c", "2", "-m", "1G", "-Hwl", `bootrom,${FW}`, "-U", uuid, "-u",
      "-s", "0,hostbridge", "-s", "31,lpc", "-s", "4:0,virtio-blk,/vm/g1/disk0.img", "-s", "5:0,nvme,/dev/zvol/zroot/vm/disk1",
      "-s", `15:0,virtio-net,tap0,mac=${mac}`, "-l", "com1,/dev/nmdm-g1.1A", "g1"];
    assert.deepEqual(started.argv, expected);
    const vm = h.sb.machine().vms.g1!;
    assert.equal(vm.process!.pid, started.bhyvePid);
    assert.deepEqual(vm.process!.argv, ["/usr/sbin/bhyve", ...expected.slice(1)], "the sandbox's bhyve runs exactly that");
    assert.deepEqual(argvFromLog(h.log("g1"), "g1"), expected, "and the log says so");
    assert.equal(vm.memoryBytes, 2 ** 30);
    assert.equal(vm.wired, false);
  });

  test("the log, line by line, in vm-bhyve's format", () => {
    const c = h.conf("g1");
    const uuid = c.get("uuid")!;
    const mac = c.get("network0_mac")!;
    const lines = h.log("g1");
    const gen = lines.find((l) => l.startsWith("generated static mac"))!;
    assert.match(gen, new RegExp(`^generated static mac ${mac} \\(based on 'g1:0:\\d+:0'\\)$`));
    assert.deepEqual(lines, [
      "initialising", " [loader: uefi]", " [cpu: 2]", " [memory: 1G]", " [hostbridge: standard]", " [com ports: com1]", ` [uuid: ${uuid}]`,
      " [debug mode: no]", " [primary disk: disk0.img]", " [primary disk dev: file]",
      gen, "initialising network device tap0", "adding tap0 -> vm-public (public addm)", "bring up tap0 -> vm-public (public addm)",
      "booting",
      ` [bhyve options: -c 2 -m 1G -Hwl bootrom,${FW} -U ${uuid} -u]`,
      ` [bhyve devices: -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/g1/disk0.img -s 5:0,nvme,/dev/zvol/zroot/vm/disk1 -s 15:0,virtio-net,tap0,mac=${mac}]`,
      " [bhyve console: -l com1,/dev/nmdm-g1.1A]",
      "starting bhyve (run 1)",
    ]);
  });

  test("run.lock holds the host name, console the B sides; the tap is on the switch, described and grouped as vm-bhyve does", () => {
    assert.equal(readFileSync(join(h.root, "vm/g1/run.lock"), "utf8"), "intel-vtd.sandbox\n");
    assert.equal(readFileSync(join(h.root, "vm/g1/console"), "utf8"), "com1=/dev/nmdm-g1.1B\n");
    const tap = h.iface("tap0");
    assert.equal(tap.description, "vmnet/g1/0/public");
    assert.deepEqual(tap.groups, ["tap", "vm-port"]);
    assert.ok(tap.flags.includes("UP"));
    assert.equal(tap.openedBy, started.bhyvePid);
    assert.deepEqual(h.iface("vm-public").bridgeMembers, ["tap0"]);
  });

  test("ps shows the runner as /bin/sh /usr/local/sbin/vm _run NAME and bhyve as its child", () => {
    const rows = h.ps();
    assert.deepEqual(rows.find((r) => r.pid === started.runnerPid), { pid: started.runnerPid, ppid: process.pid, command: "/bin/sh /usr/local/sbin/vm _run g1" });
    assert.deepEqual(rows.find((r) => r.pid === started.bhyvePid), { pid: started.bhyvePid, ppid: started.runnerPid, command: "bhyve: g1 (bhyve)" });
    // FreeBSD's columns: pid and ppid right-aligned (at least five wide), then COMMAND; -p picks processes.
    const both = h.sb.run("ps", ["-o", "pid,ppid,command", "-p", `${started.bhyvePid},${started.runnerPid}`]);
    assert.equal(both.status, 0);
    const w = Math.max(5, String(started.bhyvePid).length, String(started.runnerPid).length);
    const pw = Math.max(5, String(started.runnerPid).length, String(process.pid).length);
    const byPid = [[started.runnerPid, process.pid, "/bin/sh /usr/local/sbin/vm _run g1"], [started.bhyvePid, started.runnerPid, "bhyve: g1 (bhyve)"]].sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.equal(both.stdout, `${"PID".padStart(w)} ${"PPID".padStart(pw)} COMMAND\n${byPid.map(([p, pp, c]) => `${String(p).padStart(w)} ${String(pp).padStart(pw)} ${c}\n`).join("")}`);
    assert.deepEqual(h.sb.run("ps", ["-p", "1", "-o", "pid="]), { status: 1, stdout: "", stderr: "" }, "no such process: exit 1");
    assert.equal(h.sb.run("ps", ["-p", "x1"]).stderr, "ps: Invalid process id: x1\n");
  });

  test("a second vm start is refused while the guest runs", async () => {
    await assert.rejects(vmBhyveStart(h.root, "g1"), /vm start g1: guest appears to be running already/);
  });

  test("a guest poweroff ends the run: taps destroyed, stopped, the VM destroyed, run.lock and console gone", async () => {
    assert.equal(await guestAction(h.root, "g1", "poweroff"), 1);
    await ended(started.runnerPid, "the runner to end");
    assert.deepEqual(h.log("g1").slice(-4), ["starting bhyve (run 1)", "bhyve exited with status 1", "destroying network device tap0", "stopped"]);
    assert.equal(existsSync(join(h.root, "vm/g1/run.lock")), false);
    assert.equal(existsSync(join(h.root, "vm/g1/console")), false);
    assert.equal(existsSync(join(h.root, "dev/vmm/g1")), false);
    assert.equal(h.sb.machine().vms.g1, undefined);
    assert.equal(h.sb.run("ifconfig", ["tap0"]).status, 1);
    assert.deepEqual(h.iface("vm-public").bridgeMembers, []);
    assert.deepEqual(h.ps(), []);
  });

  test("started again: the conf's uuid and MAC are used as they are, and the next free tap is taken", async () => {
    const before = readFileSync(join(h.root, "vm/g1/g1.conf"), "utf8");
    h.sb.run("ifconfig", ["tap0", "create"]);
    const again = await h.start("g1");
    assert.equal(readFileSync(join(h.root, "vm/g1/g1.conf"), "utf8"), before);
    assert.ok(again.argv.includes(`15:0,virtio-net,tap1,mac=${h.conf("g1").get("network0_mac")}`));
    assert.ok(!h.log("g1").some((l, i, all) => i > all.lastIndexOf("initialising") && l.startsWith("generated static mac")));
    await vmBhyveStop(h.root, "g1");
    await ended(again.runnerPid, "the runner");
    assert.equal(h.log("g1").at(-1), "stopped");
  });
});

describe("a bhyveload guest: the loader before each run, a guest reboot restarts bhyve, vm stop ends it", () => {
  const h = new VmBhyveHost();
  after(() => h.destroy());

  test("bhyveload runs first, with -S when memory is wired; a reboot destroys the VM, loads again and starts bhyve again", async () => {
    setupVmBhyve(h.root, { switches: ["public"] });
    writeVmBhyveGuest(h.root, "fb1", 'loader="bhyveload"\ncpu=1\nmemory=512M\nwired_memory="yes"\nloader_timeout=0\ndisk0_type="virtio-blk"\ndisk0_name="disk0.img"\nuuid="2c9a9e0a-3f0e-4b4e-9d8a-0d7f0e4a1b2c"\n');
    writeFileSync(join(h.root, "vm/fb1/disk0.img"), "");
    const r = await h.start("fb1");
    assert.deepEqual(r.argv, ["bhyve", "-c", "1", "-m", "512M", "-AHP", "-S", "-U", "2c9a9e0a-3f0e-4b4e-9d8a-0d7f0e4a1b2c", "-u",
      "-s", "0,hostbridge", "-s", "31,lpc", "-s", "4:0,virtio-blk,/vm/fb1/disk0.img", "-l", "com1,/dev/nmdm-fb1.1A", "fb1"]);
    const loader = "bhyveload -c /dev/nmdm-fb1.1A -S -m 512M -e autoboot_delay=0 -d /vm/fb1/disk0.img fb1";
    assert.deepEqual(h.log("fb1").slice(-6), ["booting", loader, " [bhyve options: -c 1 -m 512M -AHP -S -U 2c9a9e0a-3f0e-4b4e-9d8a-0d7f0e4a1b2c -u]",
      " [bhyve devices: -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/fb1/disk0.img]", " [bhyve console: -l com1,/dev/nmdm-fb1.1A]", "starting bhyve (run 1)"]);
    const vm = h.sb.machine().vms.fb1!;
    assert.deepEqual([vm.memoryBytes, vm.wired], [512 * 2 ** 20, true]);
    assert.ok(!h.conf("fb1").has("network0_mac"), "no NIC, no MAC");

    assert.equal(await guestAction(h.root, "fb1", "reboot"), 0);
    const second = await h.nextBhyve("fb1", r.runnerPid, r.bhyvePid);
    assert.ok(processAlive(r.runnerPid), "the same runner");
    const lines = h.log("fb1");
    assert.deepEqual(lines.slice(lines.indexOf("starting bhyve (run 1)") + 1), ["bhyve exited with status 0", "restarting", loader,
      " [bhyve options: -c 1 -m 512M -AHP -S -U 2c9a9e0a-3f0e-4b4e-9d8a-0d7f0e4a1b2c -u]", " [bhyve devices: -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/fb1/disk0.img]",
      " [bhyve console: -l com1,/dev/nmdm-fb1.1A]", "starting bhyve (run 2)"]);
    assert.equal(h.sb.machine().vms.fb1!.process!.ppid, r.runnerPid);
    assert.deepEqual(h.sb.machine().vmRunners!.find((x) => x.pid === r.runnerPid)!.run, 2);

    await vmBhyveStop(h.root, "fb1");
    await ended(second, "the second bhyve");
    assert.deepEqual(h.log("fb1").slice(-3), ["starting bhyve (run 2)", "bhyve exited with status 1", "stopped"]);
    assert.equal(existsSync(join(h.root, "dev/vmm/fb1")), false);
    assert.equal(existsSync(join(h.root, "vm/fb1/run.lock")), false);
  });

  test("a restart flag file makes a poweroff restart once (vm restart), and on_fault decides after a crash", async () => {
    writeVmBhyveGuest(h.root, "fb2", 'loader="uefi"\ncpu=1\nmemory=256M\non_fault="restart"\n');
    const r = await h.start("fb2");
    writeFileSync(join(h.root, "vm/fb2/restart"), "");
    assert.equal(await guestAction(h.root, "fb2", "poweroff"), 1);
    const second = await h.nextBhyve("fb2", r.runnerPid, r.bhyvePid);
    assert.equal(existsSync(join(h.root, "vm/fb2/restart")), false, "the flag is used up");
    assert.equal(await guestAction(h.root, "fb2", "triple-fault"), 3);
    const third = await h.nextBhyve("fb2", r.runnerPid, second);
    assert.equal(await guestAction(h.root, "fb2", "poweroff"), 1);
    await ended(r.runnerPid, "the runner");
    await ended(third, "the third bhyve");
    const lines = h.log("fb2").filter((l) => /^(bhyve exited|restarting|starting|stopped)/.test(l));
    assert.deepEqual(lines, ["starting bhyve (run 1)", "bhyve exited with status 1", "restarting", "starting bhyve (run 2)", "bhyve exited with status 3", "restarting",
      "starting bhyve (run 3)", "bhyve exited with status 1", "stopped"]);
  });
});

describe("a passthrough guest with the devices vm-bhyve places itself and one at a forced slot", () => {
  const h = new VmBhyveHost();
  let port = 0;
  before(async () => {
    writeFileSync(join(h.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="3/0/0 3/0/1 4/0/0"\n`);
    await rebootSandbox(h.root);
    setupVmBhyve(h.root, { switches: ["lan"] });
    port = await freePort();
  });
  after(() => h.destroy());

  test("passthru packs functions of one host bus on slot 20, =SLOT:FUNC forces a slot, -S comes last; the VM holds the devices wired", async () => {
    writeVmBhyveGuest(h.root, "pt1", [
      'loader="uefi"', 'cpu="2"', 'cpu_sockets="1"', 'cpu_cores="2"', 'cpu_threads="1"', 'memory="2G"', 'comports="com1 com2"', 'bhyve_options="-p 0:1"',
      'passthru0="3/0/0"', 'passthru1="3/0/1"', 'passthru2="4/0/0=7:0"', 'virt_random="yes"', 'xhci_mouse="yes"', 'ignore_msr="yes"',
      'graphics="yes"', 'graphics_listen="127.0.0.1"', `graphics_port="${port}"`, 'graphics_res="1280x720"', 'network0_type="e1000"', 'network0_switch="lan"',
      'network0_mac="58:9c:fc:01:02:03"', 'uuid="6ba7b810-9dad-41d1-80b4-00c04fd430c8"', 'utctime="no"', "",
    ].join("\n"));
    const r = await h.start("pt1");
    assert.deepEqual(r.argv, ["bhyve", "-c", "2,sockets=1,cores=2,threads=1", "-m", "2G", "-Hwl", `bootrom,${FW}`, "-p", "0:1", "-U", "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "-S",
      "-s", "0,hostbridge", "-s", "31,lpc", "-s", "15:0,e1000,tap0,mac=58:9c:fc:01:02:03", "-s", "26:0,virtio-rnd",
      "-s", "20:0,passthru,3/0/0", "-s", "20:1,passthru,3/0/1", "-s", "7:0,passthru,4/0/0",
      "-s", `30:0,fbuf,tcp=127.0.0.1:${port},w=1280,h=720`, "-s", "29:0,xhci,tablet",
      "-l", "com1,/dev/nmdm-pt1.1A", "-l", "com2,/dev/nmdm-pt1.2A", "pt1"]);
    assert.deepEqual(argvFromLog(h.log("pt1"), "pt1"), r.argv);
    assert.deepEqual(h.sb.machine().vms.pt1!.process!.argv.slice(1), r.argv.slice(1));
    const vm = h.sb.machine().vms.pt1!;
    assert.deepEqual([[...vm.ppt].sort(), vm.wired, vm.memoryBytes], [["3/0/0", "3/0/1", "4/0/0"], true, 2 * 2 ** 30]);
    assert.equal(readFileSync(join(h.root, "vm/pt1/console"), "utf8"), `com1=/dev/nmdm-pt1.1B\ncom2=/dev/nmdm-pt1.2B\nvnc=127.0.0.1:${port}\n`);
    assert.equal(readFileSync(join(h.root, "vm/pt1/pt1.conf"), "utf8").split("\n").filter((l) => /^(uuid|network0_mac)=/.test(l)).length, 2, "nothing written back");
    await vmBhyveStop(h.root, "pt1");
    assert.deepEqual(h.sb.machine().vms.pt1, undefined, "the devices are released with the VM");
  });
});

describe("more of vm-bhyve's keys: slots, ahci packing, named and existing taps, consoles, sound, null.iso, UEFI variables, debug", () => {
  const h = new VmBhyveHost();
  after(() => h.destroy());

  test("each lands where vm-bhyve puts it, and the sandbox's bhyve runs the result", async () => {
    setupVmBhyve(h.root);
    h.sb.run("ifconfig", ["tap9", "create"]);
    writeVmBhyveGuest(h.root, "mk", [
      'loader="uefi"', "cpu=1", "memory=512M", 'hostbridge="amd"', 'uefi_vars="yes"', 'debug="yes"', 'nulliso_fix="yes"', 'uuid="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"',
      'disk0_type="virtio-blk"', 'disk0_name="disk0.img"', 'disk0_opts="nocache,direct"', 'ahci_device_limit="2"',
      'disk1_type="ahci-hd"', 'disk1_name="d1.img"', 'disk2_type="ahci-cd"', 'disk2_name="d2.iso"', 'disk3_type="virtio-blk"', 'disk3_name="d3.img"', 'disk3_slot="10"',
      'network0_type="virtio-net"', 'network0_name="tapweb0"', 'network0_mac="58:9c:fc:0a:0b:0c"',
      'network1_type="virtio-net"', 'network1_device="tap9"', 'network1_slot="16"', 'network1_mac="58:9c:fc:0d:0e:0f"',
      'virt_console0="yes"', 'virt_console1="ttyB"', 'sound="yes"', 'sound_rec="/dev/dsp1"', "",
    ].join("\n"));
    for (const f of ["disk0.img", "d1.img", "d2.iso", "d3.img"]) writeFileSync(join(h.root, "vm/mk", f), "");
    const r = await h.start("mk");
    assert.deepEqual(r.argv, ["bhyve", "-c", "1", "-m", "512M", "-Hwl", `bootrom,${FW},/vm/mk/uefi-vars.fd`, "-U", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "-u",
      "-s", "0,amd_hostbridge", "-s", "31,lpc", "-s", "4:0,virtio-blk,/vm/mk/disk0.img,nocache,direct", "-s", "5:0,ahci,hd:/vm/mk/d1.img,cd:/vm/mk/d2.iso", "-s", "10:0,virtio-blk,/vm/mk/d3.img",
      "-s", "15:0,virtio-net,tapweb0,mac=58:9c:fc:0a:0b:0c", "-s", "16:0,virtio-net,tap9,mac=58:9c:fc:0d:0e:0f",
      "-s", "28:0,hda,play=/dev/dsp0,rec=/dev/dsp1", "-s", "27:0,virtio-console,0=/vm/mk/vtcon.0,ttyB=/vm/mk/vtcon.ttyB",
      "-s", "3:0,ahci-cd,/vm/.config/null.iso", "-l", "com1,/dev/nmdm-mk.1A", "mk"]);
    assert.deepEqual(h.sb.machine().vms.mk!.process!.argv.slice(1), r.argv.slice(1));
    const lines = h.log("mk");
    assert.deepEqual(argvFromLog(lines, "mk"), r.argv);
    assert.ok(lines.includes(" [bhyve iso device: -s 3:0,ahci-cd,/vm/.config/null.iso]"));
    assert.ok(lines.includes(" [hostbridge: amd]") && lines.includes(" [debug mode: yes]"));
    assert.deepEqual(lines.filter((l) => l.startsWith("initialising network device")), ["initialising network device tapweb0", "initialising network device tap9"]);
    assert.equal(h.iface("tap9").description, "vmnet/mk/1/custom");
    assert.equal(readFileSync(join(h.root, "vm/mk/uefi-vars.fd")).length, 128 * 1024, "a copy of the variables template");
    assert.ok(existsSync(join(h.root, "vm/mk/bhyve.log")), "debug: bhyve's stderr has a file");
    await vmBhyveStop(h.root, "mk");
    assert.deepEqual(h.log("mk").slice(-2), ["destroying network device tapweb0", "stopped"], "a tap it was given is not its to destroy");
    assert.equal(h.sb.run("ifconfig", ["tapweb0"]).status, 1);
    assert.equal(h.sb.run("ifconfig", ["tap9"]).status, 0);
  });
});

describe("the runner killed, a reboot, and a destroy: what stays and what goes", () => {
  const h = new VmBhyveHost();
  after(() => h.destroy());

  test("SIGKILL to the runner leaves bhyve running with a new parent, run.lock, console and taps in place; vm start is refused while the VM exists", async () => {
    setupVmBhyve(h.root, { switches: ["public"] });
    writeVmBhyveGuest(h.root, "k1", 'loader="uefi"\ncpu=1\nmemory=256M\nnetwork0_type="virtio-net"\nnetwork0_switch="public"\n');
    const r = await h.start("k1");
    process.kill(r.runnerPid, "SIGKILL");
    await ended(r.runnerPid, "the runner");
    assert.ok(processAlive(r.bhyvePid) && !isZombie(r.bhyvePid), "bhyve survives its runner");
    const row = h.ps().find((x) => x.pid === r.bhyvePid)!;
    assert.equal(row.command, "bhyve: k1 (bhyve)");
    assert.notEqual(row.ppid, r.runnerPid, "reparented");
    assert.equal(row.ppid, Number(readFileSync(`/proc/${r.bhyvePid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]), "its parent now");
    assert.ok(!h.ps().some((x) => x.command.includes("vm _run")), "no runner listed");
    assert.ok(existsSync(join(h.root, "vm/k1/run.lock")));
    assert.ok(existsSync(join(h.root, "vm/k1/console")));
    assert.deepEqual(h.iface("vm-public").bridgeMembers, ["tap0"]);
    assert.equal(h.log("k1").at(-1), "starting bhyve (run 1)", "nothing logged after");
    await assert.rejects(vmBhyveStart(h.root, "k1"), /guest appears to be running already/);
    // vm stop still finds it by its title, and waits for the bhyve itself when no runner is left.
    await vmBhyveStop(h.root, "k1");
    await ended(r.bhyvePid, "the orphaned bhyve");
    assert.ok(existsSync(join(h.root, "dev/vmm/k1")), "nobody destroys the VM: its runner is gone");
    assert.ok(existsSync(join(h.root, "vm/k1/run.lock")), "nor removes the lock");
  });

  test("a reboot kills runners and bhyves by PID; rc.d/vm's vm init makes the switches again; a stale lock of this host does not stop vm start", async () => {
    writeVmBhyveGuest(h.root, "k2", 'loader="uefi"\ncpu=1\nmemory=256M\nnetwork0_type="virtio-net"\nnetwork0_switch="public"\n');
    const r = await h.start("k2");
    await rebootSandbox(h.root);
    await ended(r.runnerPid, "the runner");
    await ended(r.bhyvePid, "its bhyve");
    assert.equal(h.sb.machine().vmRunners, undefined);
    assert.deepEqual(h.iface("vm-public").bridgeMembers, [], "the switch is back, empty");
    assert.ok(existsSync(join(h.root, "vm/k1/run.lock")), "the lock of the killed run stays");
    const again = await h.start("k1");
    assert.ok(processAlive(again.bhyvePid));
  });

  test("destroySandbox stops the runners and the bhyves by PID", async () => {
    const r2 = await h.start("k2");
    const running = [...h.sb.machine().vmRunners!.map((x) => x.pid), ...Object.values(h.sb.machine().vms).map((v) => v.process!.pid)];
    assert.equal(running.length, 4);
    assert.ok(running.includes(r2.runnerPid));
    await destroySandbox(h.root);
    for (const pid of running) await ended(pid, `pid ${pid}`);
  });
});

describe("what vm start refuses, and what its runner finds fatal", () => {
  const h = new VmBhyveHost("no-iommu");
  after(() => h.destroy());

  test("without vm_enable in rc.conf nothing runs", async () => {
    await assert.rejects(vmBhyveStart(h.root, "x"), /\/usr\/local\/sbin\/vm: ERROR: \$vm_enable is not enabled in \/etc\/rc.conf!/);
  });

  test("a missing guest, an incomplete config and grub are refused before anything runs", async () => {
    setupVmBhyve(h.root);
    const lines: string[] = [];
    await assert.rejects(vmBhyveStart(h.root, "nope", { out: (l) => lines.push(l) }), /nope does not seem to be a valid virtual machine/);
    assert.deepEqual(lines, ["Starting nope", "  ! nope does not seem to be a valid virtual machine"]);
    writeVmBhyveGuest(h.root, "half", 'loader="uefi"\ncpu=1\n');
    await assert.rejects(vmBhyveStart(h.root, "half"), /incomplete virtual machine configuration/);
    writeVmBhyveGuest(h.root, "gr", 'loader="grub"\ncpu=1\nmemory=1G\n');
    await assert.rejects(vmBhyveStart(h.root, "gr"), /grub requested but sysutils\/grub2-bhyve not installed\?/);
    assert.deepEqual(h.sb.machine().vmRunners ?? [], []);
  });

  test("passthru on a host without VT-d: the runner logs vm-bhyve's fatal line and exits; firmware that is not installed likewise", async () => {
    writeVmBhyveGuest(h.root, "pt", 'loader="uefi"\ncpu=1\nmemory=1G\npassthru0="1/0/0"\n');
    await assert.rejects(vmBhyveStart(h.root, "pt"), /vm start pt: fatal; pci passthrough not supported on this system \(no VT-d or amdvi\)/);
    assert.equal(h.log("pt").at(-1), "fatal; pci passthrough not supported on this system (no VT-d or amdvi)");
    writeVmBhyveGuest(h.root, "csm", 'loader="uefi-csm"\ncpu=1\nmemory=1G\n');
    await assert.rejects(vmBhyveStart(h.root, "csm"), /fatal; unable to locate firmware \/usr\/local\/share\/uefi-firmware\/BHYVE_UEFI_CSM.fd/);
    assert.equal(existsSync(join(h.root, "vm/csm/run.lock")), false, "no lock before the devices are built");
  });

  test("a bhyve that refuses to start: the run ends with its status, and the taps it made are destroyed", async () => {
    writeVmBhyveGuest(h.root, "bad", 'loader="uefi"\ncpu=1\nmemory=1G\ndisk0_type="virtio-blk"\ndisk0_name="missing.img"\nnetwork0_type="virtio-net"\n');
    await assert.rejects(vmBhyveStart(h.root, "bad"), /vm start bad: bhyve exited with status 4/);
    assert.deepEqual(h.log("bad").slice(-3), ["bhyve exited with status 4", "destroying network device tap0", "stopped"]);
    assert.equal(h.sb.run("ifconfig", ["tap0"]).status, 1);
    assert.equal(existsSync(join(h.root, "dev/vmm/bad")), false, "the VM bhyve created is destroyed");
  });
});

describe("bhyve-sandbox vm-bhyve, as an operator runs it", () => {
  const h = new VmBhyveHost();
  after(() => h.destroy());

  test("setup, create, start and stop from the command line", async () => {
    const setup = runBin("bhyve-sandbox", ["vm-bhyve", h.root, "setup", "--switch", "public"]);
    assert.equal(setup.status, 0, setup.stderr);
    assert.equal(setup.stdout, `${h.root}: vm-bhyve enabled, vm_dir /vm; switches: public (vm-public)\n`);
    const conf = join(h.root, "..", "c1.conf");
    writeFileSync(conf, 'loader="uefi"\ncpu=1\nmemory=512M\nnetwork0_type="virtio-net"\nnetwork0_switch="public"\n');
    assert.equal(runBin("bhyve-sandbox", ["vm-bhyve", h.root, "create", "c1", conf]).stdout, "c1: /vm/c1/c1.conf\n");
    const start = runBin("bhyve-sandbox", ["vm-bhyve", h.root, "start", "c1"]);
    const runner = h.sb.machine().vmRunners?.[0]?.pid;
    if (runner) h.track(runner);
    assert.equal(start.status, 0, start.stderr);
    const m = /^Starting c1\n {2}\* found guest in \/vm\/c1\n {2}\* booting\.\.\.\nc1: vm _run is pid (\d+), bhyve pid (\d+)\n$/.exec(start.stdout);
    assert.ok(m, start.stdout);
    h.track(Number(m[1]), Number(m[2]));
    assert.equal(runner, Number(m[1]));
    assert.equal(h.ps().find((r) => r.pid === Number(m[1]))!.command, "/bin/sh /usr/local/sbin/vm _run c1");
    const again = runBin("bhyve-sandbox", ["vm-bhyve", h.root, "start", "c1"]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /guest appears to be running already/);
    const stop = runBin("bhyve-sandbox", ["vm-bhyve", h.root, "stop", "c1"]);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(stop.stdout, "Sending ACPI shutdown to c1\n");
    await ended(Number(m[1]), "the runner");
    await ended(Number(m[2]), "the bhyve");
    assert.equal(runBin("bhyve-sandbox", ["vm-bhyve", h.root, "frobnicate"]).status, 64);
  });
});
