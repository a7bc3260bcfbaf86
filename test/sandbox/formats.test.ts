import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { hasAcpiTable, parseAcpidump } from "../../agent/parse/acpidump.js";
import { parseDmesgBoot } from "../../agent/parse/dmesg-boot.js";
import { isBridge, parsePciconf, parsePciconfRead } from "../../agent/parse/pciconf.js";
import { parseSysctl, parseSysctlUnknown } from "../../agent/parse/sysctl.js";
import { PROFILES } from "../../sandbox/profiles.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestSandbox } from "../support/sandbox.js";

const noStack = (s: string): void => assert.ok(!/^\s+at .+:\d+:\d+\)?$/m.test(s), `stack trace printed:\n${s}`);

for (const profile of PROFILES) {
  describe(`profile ${profile.name}: every tool prints what the parsers read`, () => {
    const sb = new TestSandbox(profile.name);
    after(() => sb.destroy());

    test("pciconf -l and -lv list the profile's inventory in bus order, in the release's format", () => {
      const l = sb.run("pciconf", ["-l"]);
      assert.equal(l.status, 0, l.stderr);
      assert.equal(/ chip=0x/.test(l.stdout), profile.oldPciconf, "pre-13 releases print card=/chip=");
      assert.equal(/ vendor=0x/.test(l.stdout), !profile.oldPciconf);
      assert.ok(l.stdout.split("\n").filter(Boolean).every((line) => /^[a-z_]+\d+@pci0:\d+:\d+:\d+:\t/.test(line)), "a tab after the selector");
      const { entries, unparsed } = parsePciconf(sb.run("pciconf", ["-lv"]).stdout);
      assert.deepEqual(unparsed, []);
      const expected = [...profile.pci].sort((a, b) => a.bus - b.bus || a.slot - b.slot || a.function - b.function);
      assert.deepEqual(
        entries.map((e) => [e.device, e.vendorId, e.deviceId, e.subvendorId, e.subdeviceId, e.classCode, e.header, e.deviceName]),
        expected.map((f) => [`${f.bus}/${f.slot}/${f.function}`, f.vendorId, f.deviceId, f.subvendorId, f.subdeviceId, f.classCode, f.header, f.deviceName]),
      );
      assert.equal(entries.filter((e) => isBridge(e)).length, profile.pci.filter((f) => (f.header & 0x7f) !== 0).length);
      const none = entries.filter((e) => e.driver === null).map((e) => e.name);
      assert.deepEqual(none, none.map((_, i) => `none${i}`), "unattached devices are none0, none1, ... in listing order");
    });

    test("pciconf -r reads the ids from configuration space; -a tells attachment", () => {
      const f = profile.pci.find((x) => x.bus > 0)!;
      const sel = `pci0:${f.bus}:${f.slot}:${f.function}`;
      const r = sb.run("pciconf", ["-r", sel, "0x0"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^[0-9a-f]{8} \n$/);
      assert.deepEqual(parsePciconfRead(r.stdout), [((f.deviceId << 16) | f.vendorId) >>> 0]);
      const sub = parsePciconfRead(sb.run("pciconf", ["-r", sel, "0x2c"]).stdout)[0]!;
      assert.equal(sub, ((f.subdeviceId << 16) | f.subvendorId) >>> 0);
      const four = sb.run("pciconf", ["-r", sel, "0x0:0xc"]);
      assert.match(four.stdout, /^[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}\n$/, "readit(): no space before the newline of a full line");
      const bytes = sb.run("pciconf", ["-r", "-b", sel, "0x0:0x1"]);
      assert.deepEqual(parsePciconfRead(bytes.stdout), [f.vendorId & 0xff, f.vendorId >> 8]);
      const a = sb.run("pciconf", ["-a", sel]);
      assert.equal(a.status, f.hostDriver && !f.driverNeedsVmm ? 0 : 2);
      assert.equal(sb.run("pciconf", ["-r", "pci0:250:0:0", "0x0"]).status, 1);
      const bad = sb.run("pciconf", ["-r", "pci:x", "0x0"]);
      assert.equal(bad.stderr, "pciconf: cannot parse selector pci:x\n");
      noStack(bad.stderr);
    });

    test("acpidump -t: the IOMMU table the profile's firmware has, and only that", () => {
      const r = sb.run("acpidump", ["-t"]);
      assert.equal(r.status, 0, r.stderr);
      const d = parseAcpidump(r.stdout);
      assert.deepEqual(d.tables.map((t) => t.signature), profile.acpiTables);
      assert.equal(hasAcpiTable(d, "DMAR"), profile.acpiTables.includes("DMAR"));
      assert.equal(hasAcpiTable(d, "IVRS"), profile.acpiTables.includes("IVRS"));
      assert.equal(d.tables.every((t) => t.creatorRevision !== undefined), true);
    });

    test("dmesg.boot carries identcpu's VT-x / SVM line (or boot_verbose block) and the real memory", () => {
      const d = parseDmesgBoot(readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8"));
      assert.equal(d.origin, profile.cpu.origin);
      const line = profile.cpu.vendor === "intel" ? d.vtx : d.svm;
      assert.equal(line?.verbose ?? false, !!profile.bootVerbose);
      // Before 15 the verbose Exit/Entry lines print the Basic Features word, so PAT cannot be read from them.
      const lost = profile.bootVerbose && profile.cpu.vendor === "intel" && profile.release.major < 15 ? ["PAT"] : [];
      assert.deepEqual(line?.features, profile.cpu.virtLine.split(",").filter((t) => !lost.includes(t)));
      assert.equal(d.realMemory, profile.memoryBytes);
      assert.match(d.kernel!, new RegExp(`^FreeBSD ${profile.osrelease.replace(".", "\\.")} `));
    });

    test("sysctl: values, -n, unknown oids before vmm loads", () => {
      const r = sb.run("sysctl", ["hw.pagesize", "vm.max_user_wired", "kern.osrelease", "hw.vmm.vmx.initialized"]);
      assert.equal(r.status, 1, "an unknown oid makes the status 1");
      const m = parseSysctl(r.stdout);
      assert.equal(m.get("hw.pagesize"), "4096");
      assert.equal(m.get("kern.osrelease"), profile.osrelease);
      assert.ok(Number(m.get("vm.max_user_wired")) > 0);
      assert.deepEqual(parseSysctlUnknown(r.stderr), ["hw.vmm.vmx.initialized"]);
      assert.equal(sb.run("sysctl", ["-n", "hw.ncpu"]).stdout, `${profile.cpu.ncpu}\n`);
      assert.equal(sb.run("sysctl", ["-i", "hw.vmm.vmx.initialized"]).status, 0, "-i ignores unknown oids");
    });

    test("kldstat: the kernel and the loader's modules; vmm not loaded on a stock install", () => {
      const r = sb.run("kldstat", []);
      assert.equal(r.status, 0);
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines[0], "Id Refs Address                Size Name");
      assert.match(lines[1]!, /^ 1 +\d+ 0xffffffff[0-9a-f]{8} +[0-9a-f]+ kernel$/);
      assert.ok(lines.some((l) => l.endsWith(" zfs.ko")));
      assert.equal(sb.run("kldstat", ["-q", "-m", "vmm"]).status, 1);
      const n = sb.run("kldstat", ["-n", "vmm.ko"]);
      assert.equal(n.status, 1);
      assert.equal(n.stderr, "kldstat: can't find file vmm.ko: No such file or directory\n");
    });

    test("bad arguments get the tool's own complaint and status, never a stack trace", () => {
      const cases: Array<[Parameters<typeof sb.run>[0], string[], number]> = [
        ["sysctl", ["-Z"], 1], ["sysctl", [], 1], ["kldstat", ["-z"], 1], ["kldload", [], 1], ["pciconf", [], 1],
        ["pciconf", ["-l", "-r"], 1], ["devctl", ["frob"], 1], ["devctl", [], 1], ["acpidump", ["-z"], 1],
        ["bhyve", [], 1], ["bhyve", ["-Q", "vm"], 1], ["bhyve", ["-m", "lots", "vm"], 64], ["bhyvectl", ["--frob"], 1],
        ["bhyvectl", [], 1], ["bhyveload", [], 1], ["bhyveload", ["-m", "x", "vm"], 64],
      ];
      for (const [tool, args, status] of cases) {
        const r = sb.run(tool, args);
        assert.equal(r.status, status, `${tool} ${args.join(" ")}: ${r.stderr}`);
        assert.ok(r.stderr.length > 0, `${tool} ${args.join(" ")} said nothing`);
        noStack(r.stderr);
      }
    });
  });
}
