/** Issue 17 item 11: the profiles for a USB-stick root, a management vlan over a lagg, and a boot_verbose dmesg.boot. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseDmesgBoot } from "../../agent/parse/dmesg-boot.js";
import { parseIfconfig, parseRouteGet } from "../../agent/parse/network.js";
import { parseSysctl } from "../../agent/parse/sysctl.js";
import { camSimDevice, parseCamDevlist, parseMount, parseZpoolDevices } from "../../agent/parse/storage.js";
import { rebootSandbox, setSandboxNetwork, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { TestSandbox } from "../support/sandbox.js";

async function boot(sb: TestSandbox, loaderConf: string): Promise<void> {
  writeFileSync(join(sb.root, "boot/loader.conf"), loaderConf);
  await rebootSandbox(sb.root);
}

const dmesgOf = (sb: TestSandbox) => parseDmesgBoot(readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8"));

describe("usb-root: the root pool on a USB stick behind the xHCI controller", () => {
  const sb = new TestSandbox("usb-root");
  after(() => sb.destroy());

  test("mount, zpool, camcontrol and sysctl lead from / to da0, umass-sim0, umass0, uhub0, usbus0 and xhci0 at 0/20/0", () => {
    assert.equal(parseMount(sb.run("mount", []).stdout).find((e) => e.mountPoint === "/")!.source, "zroot/ROOT/default");
    assert.deepEqual(parseZpoolDevices(sb.run("zpool", ["status", "-P", "zroot"]).stdout), ["/dev/da0p4"]);
    const cam = sb.run("camcontrol", ["devlist", "-v"]).stdout;
    assert.match(cam, /^scbus3 on umass-sim0 bus 0:\n<SanDisk Cruzer Blade 1\.27> {8}at scbus3 target 0 lun 0 \(da0,pass1\)\n/m);
    assert.equal(parseCamDevlist(cam).get("da0"), "umass-sim0");
    assert.equal(camSimDevice("umass-sim0"), "umass0");
    const s = parseSysctl(sb.run("sysctl", ["dev.umass.0.%parent", "dev.umass.0.%location", "dev.uhub.0.%parent", "dev.uhub.0.%location", "dev.usbus.0.%parent", "dev.xhci.0.%location"]).stdout);
    assert.deepEqual(Object.fromEntries(s), {
      "dev.umass.0.%parent": "uhub0",
      "dev.umass.0.%location": "bus=0 hubaddr=1 port=1 devaddr=2 interface=0 ugen=ugen0.2",
      "dev.uhub.0.%parent": "usbus0",
      "dev.uhub.0.%location": "",
      "dev.usbus.0.%parent": "xhci0",
      "dev.xhci.0.%location": "slot=20 function=0 dbsf=pci0:0:20:0",
    });
    const dmesg = readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8");
    assert.match(dmesg, /^uhub0: <Intel XHCI root HUB, class 9\/0, rev 3\.00\/1\.00, addr 1> on usbus0$/m);
    assert.match(dmesg, /^umass0 on uhub0\numass0: <SanDisk Cruzer Blade, class 0\/0, rev 2\.00\/1\.27, addr 2> on usbus0$/m);
    assert.match(dmesg, /^da0 at umass-sim0 bus 0 scbus3 target 0 lun 0$/m);
  });

  test("the stick goes with its controller: xhci0 bound to ppt leaves no umass-sim bus and no USB tree", async () => {
    await boot(sb, `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="0/20/0"\n`);
    const cam = sb.run("camcontrol", ["devlist", "-v"]).stdout;
    assert.doesNotMatch(cam, /umass-sim/);
    assert.equal(parseCamDevlist(cam).has("da0"), false);
    const s = sb.run("sysctl", ["dev.umass.0.%parent"]);
    assert.equal(s.status, 1);
    assert.doesNotMatch(readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8"), /umass0/);
    await boot(sb, STOCK_LOADER_CONF);
    assert.equal(parseCamDevlist(sb.run("camcontrol", ["devlist", "-v"]).stdout).get("da0"), "umass-sim0", "back after a reboot without it");
  });
});

describe("vlan-lagg: the management address on vlan100 over lagg0 of igb0 and igb1", () => {
  const sb = new TestSandbox("vlan-lagg");
  after(() => sb.destroy());

  test("ifconfig and route show it from the start; sandbox network still replaces it", () => {
    const all = parseIfconfig(sb.run("ifconfig", ["-a"]).stdout);
    const vlan = all.find((i) => i.name === "vlan100")!;
    assert.deepEqual([vlan.parent, vlan.inet], ["lagg0", ["192.0.2.10"]]);
    assert.deepEqual(all.find((i) => i.name === "lagg0")!.laggPorts, ["igb0", "igb1"]);
    assert.deepEqual(all.find((i) => i.name === "em0")!.inet, [], "the I219 holds no address");
    assert.equal(parseRouteGet(sb.run("route", ["-n", "get", "default"]).stdout).interface, "vlan100");
    setSandboxNetwork(sb.root, { address: "192.0.2.10", prefix: 24, lagg: null, bridge: null });
    assert.equal(parseRouteGet(sb.run("route", ["-n", "get", "default"]).stdout).interface, "igb0", "the profile's management NIC without a lagg");
  });
});

describe("boot_verbose: identcpu's multi-line block, read from the loader environment", () => {
  const boxes: TestSandbox[] = [];
  const box = (p: string): TestSandbox => {
    const b = new TestSandbox(p);
    boxes.push(b);
    return b;
  };
  after(async () => {
    for (const b of boxes) await b.destroy();
  });

  test("verbose-boot is installed with boot_verbose=\"YES\"; a 14.x block repeats the Basic word in its Exit and Entry lines", async () => {
    const sb = box("verbose-boot");
    assert.match(readFileSync(join(sb.root, "boot/loader.conf"), "utf8"), /^boot_verbose="YES"$/m);
    const text = readFileSync(join(sb.root, "var/run/dmesg.boot"), "utf8");
    assert.match(text, /^ {2}VT-x: Basic Features=0xda0400<SMM,INS\/OUTS,TRUE>\n {8}Pin-Based Controls=0x[0-9a-f]+<ExtINT,NMI,VNMI,PreTmr,PostIntr>\n/m);
    assert.match(text, /^ {8}Secondary Processor Controls=0x[0-9a-f]+<APIC,EPT,DT,RDTSCP,x2APIC,VPID,WBINVD,UG,APIC-reg,VID,PAUSE-loop,RDRAND,INVPCID>$/m);
    assert.match(text, /^ {8}Exit Controls=0xda0400<PAT-LD,EFER-SV,PTMR-SV>\n {8}Entry Controls=0xda0400\n/m);
    assert.doesNotMatch(text, /^ {2}VT-x: PAT/m, "no one-line summary as well");
    assert.deepEqual(dmesgOf(sb).vtx, { features: ["HLT", "MTF", "PAUSE", "EPT", "UG", "VPID", "VID", "PostIntr"], disabledInBios: false, verbose: true });
    await boot(sb, `${STOCK_LOADER_CONF}boot_verbose="no"\n`);
    assert.deepEqual(dmesgOf(sb).vtx?.verbose, undefined, "\"no\" in any case is not verbose (subr_boot.c)");
    await boot(sb, `${STOCK_LOADER_CONF}boot_verbose="0"\n`);
    assert.equal(dmesgOf(sb).vtx?.verbose, true, "any other value is");
  });

  test("15.0 prints the exit and entry controls themselves; AMD prints the SVM feature word and its Revision line", async () => {
    const f15 = box("freebsd15");
    assert.equal(dmesgOf(f15).vtx?.verbose, undefined, "not verbose unless loader.conf says so");
    await boot(f15, `${STOCK_LOADER_CONF}boot_verbose="YES"\n`);
    const text = readFileSync(join(f15.root, "var/run/dmesg.boot"), "utf8");
    assert.match(text, /^ {8}Entry Controls=0x[0-9a-f]+<DR,PERF,PAT,EFER>$/m);
    assert.deepEqual(dmesgOf(f15).vtx?.features, ["PAT", "HLT", "MTF", "PAUSE", "EPT", "UG", "VPID", "VID", "PostIntr"]);
    const amd = box("amd-vi");
    await boot(amd, `${STOCK_LOADER_CONF}boot_verbose="YES"\n`);
    const a = readFileSync(join(amd.root, "var/run/dmesg.boot"), "utf8");
    assert.match(a, /^ {2}SVM: Features=0x1bcff<NP,LbrVirt,SVML,NRIPS,TscRateMsr,VmcbClean,FlushByAsid,DecodeAssist,PauseFilter,EncryptedMcodePatch,PauseFilterThreshold,AVIC,V_VMSAVE_VMLOAD,vGIF>\nRevision=1, ASIDs=32768\n/m);
    assert.deepEqual(dmesgOf(amd).svm, { features: ["NP", "NRIP", "VClean", "AFlush", "DAssist", "NAsids=32768"], disabledInBios: false, verbose: true, asids: 32768 });
  });
});
