/**
 * Guest networking end to end (examples/fleet, behind the real sshd and the real terraform): the
 * web guests' switch and taps are deployed, the plan after is empty, a tap taken off its bridge is
 * drift the plan shows and the next apply heals, a bridge destroyed behind Terraform's back is made
 * again, and after a reboot every guest is back on its bridge with the plan empty.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseIfconfig, type IfconfigInterface } from "../../agent/parse/network.js";
import { until } from "../support/agent-host.js";
import { explain, fleetProject, removeWork } from "./e2e-helpers.js";
import { prerequisite } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

describe("switches and taps deployed over sshd: plan empty, drift shown and healed, back after a reboot", prerequisite("switches and taps deployed over sshd", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let work = "";
  let project: ReturnType<typeof fleetProject>["project"];
  const plan = () => project.terraform("fleet", ["plan", "-detailed-exitcode", "-no-color"]);
  const apply = () => project.terraform("fleet", ["apply", "-auto-approve", "-no-color"]);
  const ifaces = (): Map<string, IfconfigInterface> => new Map(parseIfconfig(host.sandbox.run("ifconfig", ["-a"]).stdout).map((i) => [i.name, i]));
  const lan = (): IfconfigInterface | undefined => [...ifaces().values()].find((i) => i.description === "bhyve-agent:switch:lan");
  const running = (name: string): boolean => host.sandbox.machine().vms[name]?.process != null;

  before(async () => {
    [host] = (await fleet.start([{ name: "net1", profile: "intel-vtd" }], 43)) as [SshdHost];
    ({ project, workDir: work } = fleetProject(fleet, [{ host, role: "general", webGuests: 2 }]));
    const d = await project.deploy();
    assert.equal(d.code, 0, explain("cdktf deploy", d));
  });
  after(async () => {
    await fleet.stop();
    removeWork(work);
  });

  test("deployed: the switch's bridge has the uplink and both guests' taps, each open by its bhyve; the plan is empty", async () => {
    const br = lan()!;
    assert.ok(br, "a bridge described as switch lan's");
    assert.deepEqual([...br.bridgeMembers].sort(), ["igb0", "tap0", "tap1"]);
    for (const guest of ["net1-web0", "net1-web1"]) {
      await until(() => running(guest), `${guest} running`);
      const tap = [...ifaces().values()].find((i) => i.description === `bhyve-agent:guest:${guest}:0`)!.name;
      assert.equal(ifaces().get(tap)!.openedBy, host.sandbox.machine().vms[guest]!.process!.pid, `${tap} is ${guest}'s`);
    }
    const p = await plan();
    assert.equal(p.code, 0, explain("plan after deploy", p));
  });

  test("a tap taken off its bridge shows in the plan, and apply puts it back", async () => {
    // Which tap each guest got depends on which of Terraform's parallel creates came first: the tap's description says.
    const tap1 = [...ifaces().values()].find((i) => i.description === "bhyve-agent:guest:net1-web1:0")!.name;
    assert.equal(host.sandbox.run("ifconfig", [lan()!.name, "deletem", tap1]).status, 0);
    const p = await plan();
    assert.equal(p.code, 2, explain("plan after the drift", p));
    assert.match(p.stdout, /bhyve_guest\.net1-web1_guest_\w+ will be updated in-place/);
    assert.match(p.stdout, /status\s+= "detached" -> \(known after apply\)/);
    const a = await apply();
    assert.equal(a.code, 0, explain("apply", a));
    assert.ok(lan()!.bridgeMembers.includes(tap1));
    const again = await plan();
    assert.equal(again.code, 0, explain("plan after the heal", again));
  });

  test("a bridge destroyed behind Terraform's back: the plan shows the switch missing, apply makes it again and the taps return at the guests' next start", async () => {
    const name = lan()!.name;
    assert.equal(host.sandbox.run("ifconfig", [name, "destroy"]).status, 0);
    const p = await plan();
    assert.equal(p.code, 2, explain("plan after the bridge went", p));
    assert.match(p.stdout, /bhyve_switch\.\S+ will be updated in-place/);
    assert.match(p.stdout, /present\s+= false -> true/);
    const a = await apply();
    assert.equal(a.code, 0, explain("apply", a));
    assert.deepEqual([...lan()!.bridgeMembers].sort(), ["igb0", "tap0", "tap1"], "the converge puts the running guests' taps back on the new bridge");
    const again = await plan();
    assert.equal(again.code, 0, explain("plan after the heal", again));
  });

  test("after a reboot the bridge, the uplink and both taps come back under the same names; the plan is empty", async () => {
    assert.equal(await host.reboot(), 0, "autostart");
    await until(() => running("net1-web0") && running("net1-web1"), "both guests running again");
    assert.deepEqual([...lan()!.bridgeMembers].sort(), ["igb0", "tap0", "tap1"]);
    const p = await plan();
    assert.equal(p.code, 0, explain("plan after the reboot", p));
  });
});
