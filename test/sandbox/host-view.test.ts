import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseIfconfig, parseRouteGet } from "../../agent/parse/network.js";
import { parseGeomStatus, parseSwapctl } from "../../agent/parse/storage.js";
import { runBin } from "../support/cli.js";
import { TestSandbox } from "../support/sandbox.js";

describe("the sandbox host's own network and storage, as its tools show them", () => {
  const boxes: TestSandbox[] = [];
  const box = (profile: string) => {
    const b = new TestSandbox(profile);
    boxes.push(b);
    return b;
  };
  after(async () => {
    for (const b of boxes) await b.destroy();
  });

  test("swapctl -l lists each profile's swap devices in swapon.c's layout; -s adds the total; changing swap is refused", () => {
    const intel = box("intel-vtd");
    const l = intel.run("swapctl", ["-l"]);
    assert.equal(l.status, 0, l.stderr);
    assert.equal(l.stdout, "Device:       512-blocks      Used:\n/dev/ada0p3      8388608          0\n", "512-byte blocks: the agent runs tools without BLOCKSIZE");
    const ls = intel.run("swapctl", ["-ls"]);
    assert.match(ls.stdout, /^Total: {11}8388608 {10}0\n$/m);
    const add = intel.run("swapctl", ["-a", "/dev/ada0p2"]);
    assert.equal(add.status, 1);
    assert.match(add.stderr, /^swapctl: illegal option -- a\nswapctl: the sandbox only lists swap devices/);
    assert.equal(intel.run("swapctl", []).status, 1);
    const old = box("freebsd12");
    assert.deepEqual(parseSwapctl(old.run("swapctl", ["-l"]).stdout), ["/dev/gpt/swap0"]);
    assert.deepEqual(parseGeomStatus(old.run("glabel", ["status"]).stdout).get("gpt/swap0"), ["ada0p3"], "the swap label's partition");
    const amd = box("amd-vi");
    assert.deepEqual(parseSwapctl(amd.run("swapctl", ["-l"]).stdout), ["/dev/zvol/zroot/swap"]);
    for (const node of ["dev/zvol/zroot/swap", "dev/ada0", "dev/ada0p3", "dev/ada0p4", "dev/gptid/4fbd0a5e-8ad6-11ee-9f0e-a8a1590c3f12"]) assert.ok(existsSync(join(amd.root, node)), node);
  });

  test("sandbox network --vlan: vlan100 over lagg0, or em0.10 over em0, holds the address and leads the routes", () => {
    const b = box("intel-vtd");
    const r = runBin("bhyve-sandbox", ["network", b.root, "--address", "192.0.2.10", "--lagg", "em0,igb0", "--vlan", "100"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${b.root}: 192.0.2.10/24 on vlan100 (vlan 100) over lagg0 (em0, igb0)\n`);
    const text = b.run("ifconfig", ["-a"]).stdout;
    assert.match(text, /^vlan100: flags=.*\n(?:\t.*\n)*\tvlan: 100 vlanproto: 802\.1q vlanpcp: 0 parent interface: lagg0\n/m);
    const ifs = parseIfconfig(text);
    const by = (n: string) => ifs.find((i) => i.name === n)!;
    assert.deepEqual([by("vlan100").inet, by("vlan100").parent, by("lagg0").inet, by("lagg0").laggPorts], [["192.0.2.10"], "lagg0", [], ["em0", "igb0"]]);
    assert.equal(parseRouteGet(b.run("route", ["-n", "get", "default"]).stdout).interface, "vlan100");
    const short = runBin("bhyve-sandbox", ["network", b.root, "--address", "192.0.2.10", "--vlan", "10"]);
    assert.equal(short.status, 0, short.stderr);
    const s = parseIfconfig(b.run("ifconfig", ["em0.10"]).stdout);
    assert.deepEqual([s[0]!.name, s[0]!.vlan, s[0]!.parent, s[0]!.inet], ["em0.10", 10, "em0", ["192.0.2.10"]]);
    assert.deepEqual(parseIfconfig(b.run("ifconfig", ["em0"]).stdout)[0]!.inet, [], "the address is on the vlan, not its parent");
  });

  test("sandbox network --tunnel: wg0 holds the address; bad combinations are refused with E_NET and change nothing", () => {
    const b = box("intel-vtd");
    const t = runBin("bhyve-sandbox", ["network", b.root, "--address", "192.0.2.10", "--tunnel", "wg0"]);
    assert.equal(t.status, 0, t.stderr);
    const wg = parseIfconfig(b.run("ifconfig", ["wg0"]).stdout)[0]!;
    assert.deepEqual([wg.inet, wg.groups], [["192.0.2.10"], ["wg"]]);
    assert.equal(parseRouteGet(b.run("route", ["-n", "get", "default"]).stdout).interface, "wg0");
    const before = JSON.stringify(b.machine().net);
    for (const [args, message] of [
      [["--vlan", "5000"], /vlan 5000 is not a tag from 1 to 4094/],
      [["--vlan", "ten"], /--vlan takes a tag from 1 to 4094, not "ten"/],
      [["--bridge", "igb1", "--vlan", "7"], /a vlan sits on lagg0 or on the management NIC, not on bridge0/],
      [["--tunnel", "em0"], /tunnel em0 is not a WireGuard interface name/],
      [["--tunnel", "wg1", "--lagg", "em0,igb0"], /a tunnel holds the address itself/],
    ] as Array<[string[], RegExp]>) {
      const r = runBin("bhyve-sandbox", ["network", b.root, "--address", "192.0.2.11", ...args]);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, message);
      assert.match(r.stderr, /E_NET|sandbox network: /);
      assert.ok(!/^\s+at /m.test(r.stderr), "no stack trace");
    }
    assert.equal(JSON.stringify(b.machine().net), before);
  });
});
