/** Switches and guest taps on a sandbox host: made, kept across restarts and reboots, healed, and removed only when the agent's. */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { guestAction, rebootSandbox } from "../../../sandbox/host.js";
import { TOOL_CALLS_FILE } from "../../../sandbox/tool-paths.js";
import { autostart, getGuest, status } from "../../../agent/engine/service.js";
import { readGuest, readGuestEvents } from "../../../agent/guests/lifecycle.js";
import { readNetworkRecord, tapsUp } from "../../../agent/guests/network.js";
import { parseIfconfig, type IfconfigInterface } from "../../../agent/parse/network.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const SWITCHES = [{ name: "lan", uplink: "igb1" }, { name: "dmz", uplink: "igb1", vlan: 20, mtu: 9000 }, { name: "internal" }];
const web = (name: string, extra: Record<string, unknown> = {}) => ({ name, cpus: 1, memory: "512M", bootrom: FW, nics: [{ switch: "lan" }, { switch: "dmz", model: "e1000" }], restart: "always", ...extra });

describe("switches: bridges, VLAN uplinks and guest taps", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const ifaces = (): Map<string, IfconfigInterface> => new Map(parseIfconfig(h.run("ifconfig", ["-a"]).stdout).map((i) => [i.name, i]));
  const argvOf = (name: string): string[] => readGuest(h.paths, name).argv ?? [];

  test("apply makes a bridge per switch, described as the agent's, with its uplink (a vlan interface for a VLAN); each NIC gets a tap on its bridge before bhyve opens it", async () => {
    const r = await h.apply({ switches: SWITCHES, guests: [web("web1")] });
    assert.deepEqual(r.refused, []);
    const rec = readNetworkRecord(h.paths);
    assert.deepEqual(rec.switches, { lan: { bridge: "bridge0", uplinkMember: "igb1" }, dmz: { bridge: "bridge1", vlanIf: "igb1.20", uplinkMember: "igb1.20" }, internal: { bridge: "bridge2" } });
    assert.deepEqual(rec.taps, { web1: { 0: "tap0", 1: "tap1" } });
    const i = ifaces();
    assert.equal(i.get("bridge0")!.description, "bhyve-agent:switch:lan");
    assert.deepEqual(i.get("bridge0")!.bridgeMembers, ["igb1", "tap0"]);
    assert.deepEqual(i.get("bridge1")!.bridgeMembers, ["igb1.20", "tap1"]);
    assert.equal(i.get("bridge1")!.mtu, 9000);
    assert.equal(i.get("igb1.20")!.vlan, 20);
    assert.equal(i.get("tap1")!.mtu, 9000, "a tap takes its switch's MTU");
    assert.equal(i.get("tap0")!.description, "bhyve-agent:guest:web1:0");
    assert.ok(i.get("tap0")!.flags.includes("UP"), "up_on_open: the tap came up when bhyve opened it");
    assert.equal(i.get("tap0")!.openedBy, h.machine().vms.web1!.process!.pid);
    assert.ok(argvOf("web1").some((a) => /^\d+:0,virtio-net,tap0$/.test(a)));
    assert.ok(argvOf("web1").some((a) => /^\d+:0,e1000,tap1$/.test(a)));
    assert.equal(h.run("sysctl", ["-n", "net.link.tap.up_on_open"]).stdout, "1\n");
    // The agent made the taps ready as it started the monitor (bhyve-monitor -n): no net-up process for the first start.
    assert.deepEqual(readGuestEvents(h.paths, "web1").filter((e) => e.event === "prestart"), []);
    // One reading of the interfaces for the whole converge (not one per guest and step); nothing to change, nothing run but that.
    const ifconfigRuns = (): number => readFileSync(join(h.root, TOOL_CALLS_FILE), "utf8").split("\n").filter((t) => t === "ifconfig").length;
    const before = ifconfigRuns();
    assert.deepEqual((await h.apply({ switches: SWITCHES, guests: [web("web1")] })).changed, [], "a second apply changes nothing");
    assert.equal(ifconfigRuns() - before, 1);
  });

  test("a tap taken off its bridge is drift (guest.get, status): the next apply puts it back; a guest restart does it too", async () => {
    assert.equal(h.run("ifconfig", ["bridge0", "deletem", "tap0"]).status, 0);
    assert.deepEqual((await getGuest(h.paths, "web1")).network, [
      { switch: "lan", tap: "tap0", bridge: "bridge0", on_bridge: false },
      { switch: "dmz", tap: "tap1", bridge: "bridge1", on_bridge: true },
    ]);
    const s = await status(h.paths);
    assert.deepEqual(s.detached_nics, [{ guest: "web1", switch: "lan", tap: "tap0", bridge: "bridge0", on_bridge: false }]);
    assert.deepEqual(s.switches.map((w) => [w.name, w.bridge, w.present, w.uplink_member, w.uplink_attached]), [["lan", "bridge0", true, "igb1", true], ["dmz", "bridge1", true, "igb1.20", true], ["internal", "bridge2", true, null, true]]);
    const r = await h.apply({ switches: SWITCHES, guests: [web("web1")] });
    assert.deepEqual(r.changed.map((c) => [c.what, c.detail]), [["guest web1", "tap0 put on bridge0 (switch lan)"]]);
    assert.deepEqual(ifaces().get("bridge0")!.bridgeMembers, ["igb1", "tap0"]);
    // The monitor's prestart runs before every start: a crash-and-restart also heals it.
    assert.equal(h.run("ifconfig", ["bridge0", "deletem", "tap0"]).status, 0);
    const before = readGuest(h.paths, "web1").restarts;
    await guestAction(h.root, "web1", "crash");
    await until(() => readGuest(h.paths, "web1").restarts > before && h.machine().vms.web1?.process != null, "web1 restarted");
    assert.deepEqual(ifaces().get("bridge0")!.bridgeMembers, ["igb1", "tap0"]);
    assert.deepEqual(readGuestEvents(h.paths, "web1").filter((e) => e.event === "prestart").map((e) => e.fields.code), ["0"], "the restart ran net-up");
  });

  test("the converge and a monitor making the same tap at the same moment: one makes it and puts it on the bridge, the others find it done", async () => {
    const plans = [{ tap: "tap9", bridge: "bridge0", switch: "lan", description: "bhyve-agent:guest:web9:0" }];
    const runs = await Promise.all([tapsUp(h.paths, plans), tapsUp(h.paths, plans), tapsUp(h.paths, plans)]);
    // ifconfig's `create` with more parameters on an interface that exists applies the parameters
    // (ifconfig.c), so several runs may say they made it; only one puts it on the bridge.
    assert.deepEqual(runs.flat().filter((l) => l.includes("put on")), ["tap9 put on bridge0 (switch lan)"]);
    assert.ok(runs.flat().includes("tap9 created"));
    assert.deepEqual(ifaces().get("bridge0")!.bridgeMembers, ["igb1", "tap0", "tap9"]);
    // A failure that is not a race still fails: the bridge is not there.
    await assert.rejects(tapsUp(h.paths, [{ ...plans[0]!, bridge: "bridge7" }]), /bridge7 does not exist/);
    assert.equal(h.run("ifconfig", ["bridge0", "deletem", "tap9"]).status, 0);
    assert.equal(h.run("ifconfig", ["tap9", "destroy"]).status, 0);
  });

  test("after a reboot, autostart makes the bridges and taps again under the same names and the guest comes back on them", async () => {
    await rebootSandbox(h.root);
    assert.equal(ifaces().has("bridge0"), false, "cloned interfaces are gone at a reboot");
    const r = await autostart(h.paths, { settleMs: 600 });
    assert.deepEqual(r.refused, []);
    const i = ifaces();
    assert.deepEqual(i.get("bridge0")!.bridgeMembers, ["igb1", "tap0"]);
    assert.deepEqual(i.get("bridge1")!.bridgeMembers, ["igb1.20", "tap1"]);
    assert.equal(i.get("tap0")!.openedBy, h.machine().vms.web1!.process!.pid);
  });

  test("what is not the agent's is refused by name and left alone: a tap of the same name, a bridge that lost its description", async () => {
    // web2 would get tap2; someone else made tap2 meanwhile (not described as the agent's).
    assert.equal(h.run("ifconfig", ["tap2", "create"]).status, 0);
    const r = await h.apply({ switches: SWITCHES, guests: [web("web1"), web("web2", { nics: [{ switch: "internal" }] })] });
    assert.deepEqual(readNetworkRecord(h.paths).taps.web2, { 0: "tap3" }, "tap2 exists, so the next free one");
    assert.deepEqual(r.refused, []);
    assert.deepEqual(ifaces().get("bridge2")!.bridgeMembers, ["tap3"]);
    assert.equal(ifaces().get("tap2")!.description, null, "left alone");
    // An operator re-describes bridge2: the agent no longer takes it as its own.
    assert.equal(h.run("ifconfig", ["bridge2", "description", "mine"]).status, 0);
    const refused = await h.apply({ switches: SWITCHES, guests: [web("web1"), web("web2", { nics: [{ switch: "internal" }] })] });
    assert.deepEqual(refused.refused.map((x) => x.what), ["switch internal", "guest web2"]);
    assert.match(refused.refused[0]!.detail, /its bridge bridge2 is not the agent's any more \(described as "mine"\)/);
    assert.equal(h.run("ifconfig", ["bridge2", "description", "bhyve-agent:switch:internal"]).status, 0);
  });

  test("deleting a guest destroys its taps; dropping a switch destroys its bridge and vlan interface; the uplink and others' interfaces stay", async () => {
    const r = await h.apply({ switches: [SWITCHES[0]!], guests: [web("web1", { nics: [{ switch: "lan" }] })] });
    assert.deepEqual(r.refused, []);
    const i = ifaces();
    for (const gone of ["bridge1", "bridge2", "igb1.20", "tap3", "tap1"]) assert.equal(i.has(gone), false, `${gone} destroyed`);
    for (const kept of ["igb1", "tap2", "bridge0", "tap0"]) assert.ok(i.has(kept), `${kept} kept`);
    assert.deepEqual(readNetworkRecord(h.paths).taps, { web1: { 0: "tap0" } });
    const none = await h.apply({ guests: [] });
    assert.deepEqual(none.refused, []);
    assert.equal(ifaces().has("bridge0"), false);
    assert.equal(ifaces().has("tap0"), false);
    assert.deepEqual(readNetworkRecord(h.paths), { switches: {}, taps: {} });
  });
});

describe("switch refusals that depend on the host", () => {
  test("FreeBSD 15: an uplink that holds an address is refused with what to do (even when the policy lets it be an uplink); one that does not is a member", async () => {
    const h = new AgentHost("freebsd15");
    try {
      const holder = parseIfconfig(h.run("ifconfig", ["-a"]).stdout).find((i) => i.inet.length > 0 && i.name !== "lo0")!.name;
      // The management NIC is protected: the policy refuses it first.
      await assert.rejects(h.apply({ switches: [{ name: "mgmt", uplink: holder }], guests: [] }), /switches\[0\]\.uplink: .* is protected/);
      appendFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), `policy:\n  switch_uplinks: [${holder}, igb1]\n`);
      const r = await h.apply({ switches: [{ name: "mgmt", uplink: holder }, { name: "lan", uplink: "igb1" }], guests: [] });
      assert.deepEqual(r.refused.map((x) => x.what), ["switch mgmt"]);
      assert.match(r.refused[0]!.detail, new RegExp(`^its uplink ${holder} holds an address \\(.*\\); FreeBSD 15 does not let a bridge member carry addresses\\. Move the address to a bridge`));
      const lan = parseIfconfig(h.run("ifconfig", ["-a"]).stdout).find((i) => i.description === "bhyve-agent:switch:lan")!;
      assert.deepEqual(lan.bridgeMembers, ["igb1"]);
    } finally {
      await h.destroy();
    }
  });

  test("an uplink that does not exist is refused for that switch; the rest is done", async () => {
    const h = new AgentHost("intel-vtd");
    try {
      const r = await h.apply({ switches: [{ name: "lan", uplink: "ix9" }, { name: "internal" }], guests: [] });
      assert.deepEqual(r.refused.map((x) => [x.what, x.detail]), [["switch lan", "its uplink ix9 does not exist on this host (ifconfig -a does not list it)"]]);
      assert.deepEqual(Object.keys(readNetworkRecord(h.paths).switches), ["internal"]);
    } finally {
      await h.destroy();
    }
  });
});
