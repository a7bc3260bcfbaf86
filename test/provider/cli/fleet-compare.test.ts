/**
 * `status` and `drift` with switches: the stored document's switches against the stack's, a
 * switch's bridge and uplink as the host has them, detached NICs, and a switch NIC's command line
 * (its tap allocated on the host) read as in sync.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeWholeDocument, toDocument } from "../../../agent/model/document.js";
import { renderBhyveArgv } from "../../../agent/model/render.js";
import { argvMatches, differences, type Observation } from "../../../provider/cli/lib/fleet-compare.js";

const DOC = {
  switches: [{ name: "lan", uplink: "igb0" }, { name: "dmz", uplink: "igb0", vlan: 20 }],
  guests: [{ name: "web1", cpus: 1, memory: "512M", disks: [{ path: "/vm/web1.img" }], nics: [{ switch: "lan" }, { switch: "dmz", mac: "58:9c:fc:00:00:01" }] }],
};
const desired = decodeWholeDocument(DOC);
const argv = renderBhyveArgv(desired.guests[0]!);
const running = argv.map((a) => a.replace("{switch:lan}", "tap0").replace("{switch:dmz}", "tap7"));

function observation(over: Partial<Observation["network"]> = {}, stored: Record<string, unknown> = toDocument(desired) as Record<string, unknown>): Observation {
  return {
    agent: { version: "test", protocol: 1 },
    document: { document: stored } as unknown as Observation["document"],
    loader: { loader_conf: [], expected: [], loader_conf_in_sync: true },
    facts: { passthru_ready: true, problems: [], pci: [] },
    reboot: { reboot_required: false, reboot_reasons: [] },
    network: {
      switches: [
        { name: "lan", bridge: "bridge0", present: true, uplink_member: "igb0", uplink_attached: true },
        { name: "dmz", bridge: "bridge1", present: true, uplink_member: "igb0.20", uplink_attached: true },
      ],
      detached_nics: [],
      ...over,
    },
    guests: [{ name: "web1", state: "running", reason: null, pid: 10, restarts: 0, last_exit: null, argv: running, vm_exists: true }] as unknown as Observation["guests"],
  };
}

test("a switch NIC's command line matches whatever tap the agent allocated, and nothing else", () => {
  assert.ok(argv.some((a) => a.includes("{switch:lan}")));
  assert.ok(argvMatches(argv, running));
  assert.ok(!argvMatches(argv, argv.map((a) => a.replace("{switch:lan}", "bridge0"))));
  assert.ok(!argvMatches(argv, argv.map((a) => a.replace("{switch:dmz}", "tap7,mac=58:9c:fc:00:00:02").replace(",mac=58:9c:fc:00:00:01", ""))));
  assert.ok(!argvMatches(argv, running.slice(1)));
  assert.deepEqual(differences(desired, observation()), []);
});

test("a framebuffer port left to the agent matches whatever port it allocated, and nothing else", () => {
  const want = ["/usr/sbin/bhyve", "-s", "29:0,fbuf,rfb=127.0.0.1:{vnc-port},w=1024,h=768", "-s", "30:0,xhci,tablet", "desk"];
  const at = (port: string) => want.map((a) => a.replace("{vnc-port}", port));
  assert.ok(argvMatches(want, at("5901")));
  assert.ok(!argvMatches(want, at("")));
  assert.ok(!argvMatches(want, at("5901,wait")));
  assert.ok(!argvMatches(want, want.map((a) => a.replace("127.0.0.1:{vnc-port}", "0.0.0.0:5901"))));
});

test("a missing bridge, a detached uplink and a NIC off its bridge are differences, each named", () => {
  const d = differences(desired, observation({
    switches: [
      { name: "lan", bridge: "bridge0", present: false, uplink_member: "igb0", uplink_attached: false },
      { name: "dmz", bridge: "bridge1", present: true, uplink_member: "igb0.20", uplink_attached: false },
    ],
    detached_nics: [{ guest: "web1", switch: "dmz", tap: "tap7", bridge: "bridge1", on_bridge: false }],
  }));
  assert.deepEqual(d.map((x) => x.field), ["switches[lan].bridge", "switches[dmz].uplink", "guests[web1].nics[switch dmz]"]);
  assert.match(d[0]!.actual, /bridge0 \(gone/);
  assert.equal(d[1]!.desired, "igb0.20 a member of bridge1");
  assert.equal(d[2]!.desired, "tap7 on bridge1");
});

test("an agent that reports no switches (older than switches) shows each desired switch as absent", () => {
  const d = differences(desired, observation({ switches: undefined, detached_nics: undefined }));
  assert.deepEqual(d.map((x) => [x.field, x.actual]), [["switches[lan].bridge", "(absent)"], ["switches[dmz].bridge", "(absent)"]]);
});

test("the agent's stored switches are compared with the stack's, per switch and field", () => {
  const stored = toDocument(decodeWholeDocument({ ...DOC, switches: [{ name: "lan", uplink: "igb1" }, { name: "old" }], guests: [{ ...DOC.guests[0], nics: [{ switch: "lan" }] }] })) as Record<string, unknown>;
  const fields = differences(desired, observation({}, stored)).map((x) => `${x.field}: ${x.desired} / ${x.actual}`);
  assert.ok(fields.includes(`switches[lan].uplink: "igb0" / "igb1"`), fields.join("\n"));
  assert.ok(fields.includes("switches[dmz]: uplink igb0 VLAN 20 / (absent)"), fields.join("\n"));
  assert.ok(fields.includes("switches[old]: (absent) / host-only"), fields.join("\n"));
});

test("a managed disk's drift (missing, smaller, a property changed) is a difference per reason", () => {
  const o = { ...observation(), disks: [{ guest: "web1", path: "/dev/zvol/zroot/vm/web1/disk0", drift: ["volume zroot/vm/web1/disk0 is 10G, asked 20G", "volume zroot/vm/web1/disk0 has volmode geom, not dev"] }] };
  const d = differences(desired, o).filter((x) => x.field.includes("disks"));
  assert.deepEqual(d, [
    { field: "guests[web1].disks[/dev/zvol/zroot/vm/web1/disk0]", desired: "as the guest asks", actual: "volume zroot/vm/web1/disk0 is 10G, asked 20G" },
    { field: "guests[web1].disks[/dev/zvol/zroot/vm/web1/disk0]", desired: "as the guest asks", actual: "volume zroot/vm/web1/disk0 has volmode geom, not dev" },
  ]);
  assert.deepEqual(differences(desired, observation()).filter((x) => x.field.includes("disks")), [], "none reported, none shown");
});
