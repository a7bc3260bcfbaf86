import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { parseIfconfig } from "../../agent/parse/network.js";
import { rebootSandbox } from "../../sandbox/host.js";
import { FW, TestSandbox } from "../support/sandbox.js";

describe("ifconfig on a sandbox host: bridges, taps and vlans made at run time", () => {
  const boxes: TestSandbox[] = [];
  const box = (profile: string) => {
    const b = new TestSandbox(profile);
    boxes.push(b);
    return b;
  };
  after(async () => {
    for (const b of boxes) await b.destroy();
  });
  const iface = (b: TestSandbox, name: string) => {
    const r = b.run("ifconfig", [name]);
    assert.equal(r.status, 0, r.stderr);
    return parseIfconfig(r.stdout)[0]!;
  };

  test("create prints the name the kernel chose; a named unit is made silently; an existing one is refused", () => {
    const b = box("intel-vtd");
    assert.deepEqual(b.run("ifconfig", ["bridge", "create"]), { status: 0, stdout: "bridge0\n", stderr: "" });
    assert.deepEqual(b.run("ifconfig", ["bridge", "create"]), { status: 0, stdout: "bridge1\n", stderr: "" });
    assert.deepEqual(b.run("ifconfig", ["tap7", "create"]), { status: 0, stdout: "", stderr: "" });
    assert.deepEqual(b.run("ifconfig", ["tap", "create"]), { status: 0, stdout: "tap0\n", stderr: "" });
    const again = b.run("ifconfig", ["tap7", "create"]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^ifconfig: interface tap7 already exists\n$/);
    // With more parameters, ifconfig drops the `create` and applies the rest.
    assert.deepEqual(b.run("ifconfig", ["tap7", "create", "description", "again"]), { status: 0, stdout: "", stderr: "" });
    assert.equal(iface(b, "tap7").description, "again");
    assert.deepEqual(b.run("ifconfig", ["-l"]).stdout.trim().split(" ").slice(-4), ["bridge0", "bridge1", "tap7", "tap0"]);
    const gone = b.run("ifconfig", ["tap9", "destroy"]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^ifconfig: interface tap9 does not exist\n$/);
    assert.equal(b.run("ifconfig", ["tap0", "destroy"]).status, 0);
    assert.equal(b.run("ifconfig", ["tap0"]).status, 1);
    // The host's own interfaces are not cloned: igb0 cannot be destroyed.
    assert.equal(b.run("ifconfig", ["igb0", "destroy"]).status, 1);
  });

  test("a bridge with a description, an uplink and a tap; membership errors as if_bridge gives them", () => {
    const b = box("intel-vtd");
    assert.equal(b.run("ifconfig", ["bridge0", "create", "description", "bhyve-agent:lan", "up"]).status, 0);
    assert.equal(b.run("ifconfig", ["tap3", "create", "description", "bhyve-agent:web1:0", "up"]).status, 0);
    assert.equal(b.run("ifconfig", ["bridge0", "addm", "igb1", "addm", "tap3"]).status, 0);
    const br = iface(b, "bridge0");
    assert.equal(br.description, "bhyve-agent:lan");
    assert.deepEqual(br.bridgeMembers, ["igb1", "tap3"]);
    assert.deepEqual(br.groups, ["bridge"]);
    assert.ok(br.flags.includes("UP"));
    assert.ok(iface(b, "tap3").flags.includes("PROMISC"), "a member is promiscuous");
    assert.match(b.run("ifconfig", ["bridge0", "addm", "tap3"]).stderr, /^ifconfig: BRDGADD tap3: File exists\n$/);
    assert.equal(b.run("ifconfig", ["bridge1", "create"]).status, 0);
    assert.match(b.run("ifconfig", ["bridge1", "addm", "tap3"]).stderr, /^ifconfig: BRDGADD tap3: Device busy\n$/, "one bridge per member");
    assert.match(b.run("ifconfig", ["bridge1", "addm", "tap99"]).stderr, /^ifconfig: BRDGADD tap99: No such file or directory\n$/);
    assert.match(b.run("ifconfig", ["bridge1", "deletem", "tap3"]).stderr, /^ifconfig: BRDGDEL tap3: No such file or directory\n$/);
    assert.equal(b.run("ifconfig", ["bridge0", "deletem", "tap3"]).status, 0);
    assert.deepEqual(iface(b, "bridge0").bridgeMembers, ["igb1"]);
    // A destroyed member leaves its bridge.
    assert.equal(b.run("ifconfig", ["bridge0", "addm", "tap3"]).status, 0);
    assert.equal(b.run("ifconfig", ["tap3", "destroy"]).status, 0);
    assert.deepEqual(iface(b, "bridge0").bridgeMembers, ["igb1"]);
    assert.equal(b.run("ifconfig", ["bridge0", "-description"]).status, 0);
    assert.equal(iface(b, "bridge0").description, null);
  });

  test("vlan interfaces: the IF.TAG form and vlan/vlandev, with vlan(4)'s status line", () => {
    const b = box("intel-vtd");
    assert.deepEqual(b.run("ifconfig", ["igb1.20", "create"]), { status: 0, stdout: "", stderr: "" });
    const v = iface(b, "igb1.20");
    assert.equal(v.vlan, 20);
    assert.equal(v.parent, "igb1");
    assert.match(b.run("ifconfig", ["igb1.20"]).stdout, /\n\tvlan: 20 vlanproto: 802\.1q vlanpcp: 0 parent interface: igb1\n/);
    assert.deepEqual(b.run("ifconfig", ["vlan", "create", "vlan", "30", "vlandev", "igb1"]).stdout, "vlan0\n");
    assert.equal(iface(b, "vlan0").vlan, 30);
    assert.equal(b.run("ifconfig", ["nope0.5", "create"]).status, 1, "no parent");
  });

  test("bhyve's tap backend: opening a missing tap clones it, an open tap is busy, up_on_open brings it up, closing brings it down", async () => {
    const b = box("intel-vtd");
    const guest = (name: string, tap: string) => ["-c", "1", "-m", "512M", "-A", "-H", "-P", "-s", "0,hostbridge", "-s", "31,lpc", "-s", `2,virtio-net,${tap}`, "-l", `bootrom,${FW}`, name];
    assert.equal(b.run("ifconfig", ["tap4"]).status, 1);
    const g = b.start("bhyve", guest("g1", "tap4"));
    await b.waitRunning("g1");
    let t = iface(b, "tap4");
    assert.equal(t.openedBy, g.child.pid, "devfs cloning made tap4, and bhyve holds it open");
    assert.ok(!t.flags.includes("UP"), "up_on_open is 0 by default");
    const busy = b.run("bhyve", guest("g2", "tap4"));
    assert.equal(busy.status, 4);
    assert.equal(busy.stderr, "open of tap device /dev/tap4 failed\nDevice emulation initialization error: Device busy\n");
    g.child.kill("SIGTERM");
    await g.exit;
    t = iface(b, "tap4");
    assert.equal(t.openedBy, null);
    assert.equal(b.run("sysctl", ["net.link.tap.up_on_open=1"]).status, 0);
    const again = b.start("bhyve", guest("g1b", "tap4"));
    await b.waitRunning("g1b");
    assert.ok(iface(b, "tap4").flags.includes("UP") && iface(b, "tap4").flags.includes("RUNNING"));
    again.child.kill("SIGTERM");
    await again.exit;
    assert.ok(!iface(b, "tap4").flags.includes("UP"), "closed: down again");
    // Without devfs cloning a missing tap cannot be opened.
    assert.equal(b.run("sysctl", ["net.link.tap.devfs_cloning=0"]).status, 0);
    const none = b.run("bhyve", guest("g3", "tap5"));
    assert.equal(none.stderr, "open of tap device /dev/tap5 failed\nDevice emulation initialization error: No such file or directory\n");
  });

  test("sandbox reboot: every cloned interface and runtime sysctl is gone", async () => {
    const b = box("intel-vtd");
    assert.equal(b.run("ifconfig", ["bridge0", "create"]).status, 0);
    assert.equal(b.run("sysctl", ["net.link.tap.up_on_open=1"]).status, 0);
    assert.equal(b.run("sysctl", ["-n", "net.link.tap.up_on_open"]).stdout, "1\n");
    await rebootSandbox(b.root);
    assert.equal(b.run("ifconfig", ["bridge0"]).status, 1);
    assert.equal(b.run("sysctl", ["-n", "net.link.tap.up_on_open"]).stdout, "0\n");
  });

  test("FreeBSD 15: vlanfilter with untagged and tagged members; a member with an address is refused unless member_ifaddrs; errors carry the kernel's extended text", () => {
    const b = box("freebsd15");
    assert.equal(b.run("ifconfig", ["bridge0", "create", "addm", "igb1"]).status, 0);
    assert.match(b.run("ifconfig", ["bridge0", "iftagged", "igb1", "20"]).stderr, /^ifconfig: BRDGSIFVLANSET igb1: Invalid argument \(extended error VLAN filtering not enabled\)\n$/);
    assert.equal(b.run("ifconfig", ["bridge0", "vlanfilter", "iftagged", "igb1", "20,30-31"]).status, 0);
    assert.equal(b.run("ifconfig", ["tap0", "create"]).status, 0);
    assert.equal(b.run("ifconfig", ["bridge0", "addm", "tap0", "untagged", "20"]).status, 0);
    const text = b.run("ifconfig", ["bridge0"]).stdout;
    assert.match(text, /\n\tbridge flags=1<VLANFILTER>\n/);
    assert.match(text, /\tmember: igb1 [^\n]*\n\t {8}port 1 priority 128 path cost 2000000 vlan protocol 802\.1q tagged 20,30-31\n/);
    assert.match(text, /\tmember: tap0 [^\n]*\n\t {8}port 2 priority 128 path cost 2000000 vlan protocol 802\.1q untagged 20\n/);
    assert.match(b.run("ifconfig", ["bridge0", "addm", "tap0"]).stderr, /^ifconfig: BRDGADD tap0: File exists \(extended error Interface is already a member of this bridge\)\n$/);
    const holder = parseIfconfig(b.run("ifconfig", ["-a"]).stdout).find((i) => i.inet.length && i.name !== "lo0")!.name;
    assert.match(b.run("ifconfig", ["bridge0", "addm", holder]).stderr, new RegExp(`^ifconfig: BRDGADD ${holder}: Invalid argument \\(extended error Member interface may not have an IP address assigned\\)\\n$`));
    assert.equal(b.run("sysctl", ["net.link.bridge.member_ifaddrs=1"]).status, 0);
    assert.equal(b.run("ifconfig", ["bridge0", "addm", holder]).status, 0);
    // 14 has neither, prints ifmaxaddr, and no extended errors.
    const old = box("intel-vtd");
    assert.equal(old.run("ifconfig", ["bridge0", "create", "addm", "igb1"]).status, 0);
    assert.match(old.run("ifconfig", ["bridge0"]).stdout, /\tmember: igb1 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n\t {8}ifmaxaddr 0 port 1 priority 128 path cost 2000000\n/);
    assert.match(old.run("ifconfig", ["bridge0", "vlanfilter"]).stderr, /unknown parameter/);
    assert.match(old.run("ifconfig", ["bridge0", "addm", "igb1"]).stderr, /^ifconfig: BRDGADD igb1: File exists\n$/);
    assert.equal(old.run("sysctl", ["net.link.bridge.member_ifaddrs"]).status, 1);
  });
});
