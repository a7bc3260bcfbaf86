/** What vm-bhyve leaves on a host, read: rc.conf values, NAME.conf as vm-bhyve reads it, the run going on from its log, ps with parents. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bhyveOf, bhyvesOf, isVmBhyveRunner, latestVmBhyveRun, parsePsTable, parseVmBhyveConf, rcConfValue, vmBhyveStampTime, vmBhyveYes } from "../../../agent/parse/vm-bhyve.js";

describe("rc.conf and vm-bhyve's configuration files", () => {
  test("rc.conf: the last assignment wins, in its three quotings, with a comment after", () => {
    const text = ['vm_enable="YES"', "vm_dir=/old", 'vm_dir="zfs:zroot/vm"  # moved', "vm_list='web db'", '#vm_list="x"', "  sshd_enable=YES", ""].join("\n");
    assert.equal(rcConfValue(text, "vm_dir"), "zfs:zroot/vm");
    assert.equal(rcConfValue(text, "vm_list"), "web db");
    assert.equal(rcConfValue(text, "vm_enable"), "YES");
    assert.equal(rcConfValue(text, "sshd_enable"), "YES");
    assert.equal(rcConfValue(text, "missing"), undefined);
  });

  test("NAME.conf as config::load reads it: lower-case first letter, cut at #, quotes gone, first of a key", () => {
    const conf = parseVmBhyveConf(['loader="uefi"', 'cpu=2', 'memory="1G"  ', '  disk0_name="x"', 'Disk1="y"', 'network0_mac="58:9c:fc:00:00:01" # mine', 'cpu=8', 'bhyve_options="-o a=#b"', ""].join("\n"));
    assert.deepEqual(Object.fromEntries(conf), { loader: "uefi", cpu: "2", memory: "1G", network0_mac: "58:9c:fc:00:00:01", bhyve_options: "-o a=" });
    assert.equal(vmBhyveYes("yes"), true);
    assert.equal(vmBhyveYes("anything"), true);
    for (const no of [undefined, "", "no", "FALSE", "off", "0"]) assert.equal(vmBhyveYes(no), false, String(no));
  });
});

describe("latestVmBhyveRun", () => {
  const log = (lines: string[]): string => `${lines.join("\n")}\n`;
  const RUN1 = [
    "Jan 05 14:03:07: initialising",
    "Jan 05 14:03:07:  [loader: uefi]",
    "Jan 05 14:03:07:  [cpu: 2]",
    "Jan 05 14:03:07: initialising network device tap0",
    "Jan 05 14:03:07: adding tap0 -> vm-public (public addm)",
    "Jan 05 14:03:07: booting",
    "Jan 05 14:03:07:  [bhyve options: -c 2 -m 1G -Hwl bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd -U 0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0 -u]",
    "Jan 05 14:03:07:  [bhyve devices: -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/vm/web/disk0.img -s 15:0,virtio-net,tap0,mac=58:9c:fc:00:00:01]",
    "Jan 05 14:03:07:  [bhyve console: -l com1,/dev/nmdm-web.1A]",
    "Jan 05 14:03:07: starting bhyve (run 1)",
  ];
  test("the run going on: bhyve, options, devices, console, the name; split at blanks as sh does", () => {
    const r = latestVmBhyveRun(log(RUN1), "web");
    assert.deepEqual(r, {
      run: 1,
      stamp: "Jan 05 14:03:07",
      open: true,
      argv: ["/usr/sbin/bhyve", "-c", "2", "-m", "1G", "-Hwl", "bootrom,/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", "-U", "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0", "-u",
        "-s", "0,hostbridge", "-s", "31,lpc", "-s", "4:0,virtio-blk,/vm/web/disk0.img", "-s", "15:0,virtio-net,tap0,mac=58:9c:fc:00:00:01", "-l", "com1,/dev/nmdm-web.1A", "web"],
    });
  });

  test("a reboot: the second run is the one going on; an install ISO line is part of it", () => {
    const lines = [...RUN1.slice(0, 8), "Jan 05 14:03:07:  [bhyve iso device: -s 3:0,ahci-cd,/vm/.iso/x.iso,ro]", ...RUN1.slice(8), "Jan 05 14:09:00: bhyve exited with status 0", "Jan 05 14:09:00: restarting", RUN1[6]!, RUN1[7]!, "Jan 05 14:09:00:  [bhyve iso device: -s 3:0,ahci-cd,/vm/.iso/x.iso,ro]", RUN1[8]!, "Jan 05 14:09:01: starting bhyve (run 2)"];
    const r = latestVmBhyveRun(log(lines), "web")!;
    assert.equal(r.run, 2);
    assert.equal(r.open, true);
    assert.deepEqual(r.argv.slice(-5), ["-s", "3:0,ahci-cd,/vm/.iso/x.iso,ro", "-l", "com1,/dev/nmdm-web.1A", "web"], "the ISO between the devices and the console");
  });

  test("a run that ended (exit, stopped) is not open; a new _run after it (initialising) starts afresh without the old ISO", () => {
    const ended = latestVmBhyveRun(log([...RUN1, "Jan 05 15:00:00: bhyve exited with status 1", "Jan 05 15:00:00: destroying network device tap0", "Jan 05 15:00:00: stopped"]), "web")!;
    assert.equal(ended.open, false);
    const again = latestVmBhyveRun(log([...RUN1.slice(0, 8), "Jan 05 14:03:07:  [bhyve iso device: -s 3:0,ahci-cd,/i.iso]", ...RUN1.slice(8), "Jan 05 15:00:00: stopped", ...RUN1]), "web")!;
    assert.equal(again.open, true);
    assert.ok(!again.argv.some((a) => a.includes("i.iso")));
    assert.equal(latestVmBhyveRun("", "web"), null);
    assert.equal(latestVmBhyveRun(log(RUN1.slice(0, 9)), "web"), null, "detail lines without a start");
  });

  test("lines that are not the log's are ignored (no timestamp, a forged detail mid-line)", () => {
    const r = latestVmBhyveRun(log([...RUN1, "garbage [bhyve options: -c 64]", "Jan 05 14:03:08: note [bhyve options: -c 64]"]), "web")!;
    assert.equal(r.argv[2], "2");
  });
});

describe("ps with parents", () => {
  const table = parsePsTable([
    "    1     0    0 86400 /sbin/init --",
    "  900     1    0  3600 /bin/sh /usr/local/sbin/vm _run web",
    "  901   900    0  3599 bhyve: web (bhyve)",
    "  950     1    0    60 /bin/sh /usr/local/sbin/vm _run -f db",
    "  951   950    0    59 bhyve: db",
    "  960     1    0    10 /bin/sh /usr/local/sbin/vm _run webx",
    "  970   960    0    10 sh -c bhyve: web (bhyve)",
    "  980     1 1001    10 /bin/sh /usr/local/sbin/vm _run mail",
    "  981   980 1001    10 bhyve: mail (bhyve)",
    "  990     1    0    10 /bin/sh vm _run two",
    "  991     1    0    10 bhyve: two (bhyve)",
    "  992     1    0    10 bhyve: two (bhyve)",
    "",
  ].join("\n"));
  test("each bhyve by its title (root's, and the only one), its parent, and vm-bhyve's runner (root's, by its full command)", () => {
    assert.deepEqual(bhyveOf(table, "web"), { pid: 901, ppid: 900, uid: 0, etimes: 3599, command: "bhyve: web (bhyve)" });
    assert.equal(bhyveOf(table, "db")?.pid, 951);
    assert.equal(bhyveOf(table, "nope"), undefined);
    const runner = (pid: number) => table.find((p) => p.pid === pid)!;
    assert.equal(isVmBhyveRunner(runner(900), "web"), true);
    assert.equal(isVmBhyveRunner(runner(950), "db"), true);
    assert.equal(isVmBhyveRunner(runner(960), "web"), false, "another guest's runner");
    assert.equal(isVmBhyveRunner(runner(1), "web"), false);
    // Anyone may title a process of theirs "bhyve: NAME" or run a script called vm: only root's count, and one title names one bhyve.
    assert.equal(bhyveOf(table, "mail"), undefined);
    assert.equal(isVmBhyveRunner(runner(980), "mail"), false);
    assert.equal(isVmBhyveRunner(runner(990), "two"), false, "vm found by PATH, not vm-bhyve's");
    assert.equal(bhyveOf(table, "two"), undefined);
    assert.equal(bhyvesOf(table, "two").length, 2);
  });

  test("a log stamp's time: local time, this year, or last year when that would lie ahead", () => {
    const now = new Date(2026, 0, 2, 12, 0, 0);
    assert.equal(vmBhyveStampTime("Jan 02 11:59:00", now), new Date(2026, 0, 2, 11, 59, 0).getTime());
    assert.equal(vmBhyveStampTime("Dec 31 23:00:00", now), new Date(2025, 11, 31, 23, 0, 0).getTime());
    assert.equal(vmBhyveStampTime("Foo 01 00:00:00", now), null);
  });
});
