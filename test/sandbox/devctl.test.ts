import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parsePciconf } from "../../agent/parse/pciconf.js";
import { rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { TestSandbox, FW } from "../support/sandbox.js";

function driverOf(sb: TestSandbox, device: string): string {
  return parsePciconf(sb.run("pciconf", ["-l"]).stdout).entries.find((e) => e.device === device)!.name;
}

describe("devctl set/clear driver, as devctl(8) and ppt(4) behave", () => {
  const sb = new TestSandbox("intel-vtd");
  after(() => sb.destroy());

  test("ppt is not a driver until vmm.ko is loaded", () => {
    const r = sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "ppt"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "devctl: Failed to set pci0:4:0:1 driver to ppt: No such file or directory\n");
    assert.equal(driverOf(sb, "4/0/1"), "igb1", "nothing changed");
  });

  test("without -f an attached device is left alone; with -f it moves to ppt", async () => {
    writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\n`);
    await rebootSandbox(sb.root);
    const no = sb.run("devctl", ["set", "driver", "pci0:4:0:1", "ppt"]);
    assert.equal(no.status, 1);
    assert.equal(no.stderr, "devctl: Failed to set pci0:4:0:1 driver to ppt: Device busy\n");
    assert.equal(driverOf(sb, "4/0/1"), "igb1");
    const yes = sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "ppt"]);
    assert.equal(yes.status, 0, yes.stderr);
    assert.equal(driverOf(sb, "4/0/1"), "ppt0");
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.ppt.devices"]).stdout, "1\n");
  });

  test("devices can be named by driver instance too; unknown devices are ENOENT", () => {
    const r = sb.run("devctl", ["set", "driver", "-f", "igb0", "ppt"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(driverOf(sb, "4/0/0"), "ppt1");
    const back = sb.run("devctl", ["set", "driver", "-f", "ppt1", "igb"]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(driverOf(sb, "4/0/0"), "igb0");
    const missing = sb.run("devctl", ["set", "driver", "-f", "pci0:9:0:0", "ppt"]);
    assert.equal(missing.stderr, "devctl: Failed to set pci0:9:0:0 driver to ppt: No such file or directory\n");
  });

  test("ppt refuses bridges: the bridge loses its driver, keeps the forced name while detached, and the call fails", () => {
    const r = sb.run("devctl", ["set", "driver", "-f", "pci0:0:1:0", "ppt"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "devctl: Failed to set pci0:0:1:0 driver to ppt: Device not configured\n");
    assert.equal(driverOf(sb, "0/1/0"), "ppt1", "in the ppt devclass (ppt0 is 4/0/1), though not attached");
    assert.equal(sb.run("pciconf", ["-a", "pci0:0:1:0"]).status, 2, "not attached");
    assert.equal(sb.run("sysctl", ["-n", "hw.vmm.ppt.devices"]).stdout, "1\n", "only the attached one counts");
    assert.equal(sb.run("devctl", ["clear", "driver", "pci0:0:1:0"]).status, 0);
    assert.equal(driverOf(sb, "0/1/0"), "pcib0");
  });

  test("a host driver only takes its own hardware", () => {
    const r = sb.run("devctl", ["set", "driver", "-f", "pci0:5:0:0", "igb"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "devctl: Failed to set pci0:5:0:0 driver to igb: Device not configured\n");
    assert.equal(driverOf(sb, "5/0/0"), "igb1", "detached, named after the forced driver (igb0 is 4/0/0, 4/0/1 is ppt0)");
    assert.equal(sb.run("devctl", ["clear", "driver", "-f", "pci0:5:0:0"]).status, 0);
    assert.equal(driverOf(sb, "5/0/0"), "nvme0");
    const notFixed = sb.run("devctl", ["clear", "driver", "pci0:5:0:0"]);
    assert.deepEqual([notFixed.status, notFixed.stderr], [0, ""], "no forced driver: nothing to clear, and that is no error");
    assert.equal(driverOf(sb, "5/0/0"), "nvme0");
  });

  describe("while a VM holds the device", () => {
    let guest: ReturnType<TestSandbox["start"]>;
    before(async () => {
      guest = sb.start("bhyve", ["-c", "1", "-m", "1G", "-S", "-s", "0,hostbridge", "-s", "5,passthru,4/0/1", "-s", "31,lpc", "-l", `bootrom,${FW}`, "nic1"]);
      await sb.waitRunning("nic1");
    });

    test("ppt refuses to let it go (EBUSY), also after bhyve exits, until the VM is destroyed", async () => {
      const busy = sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]);
      assert.equal(busy.status, 1);
      assert.equal(busy.stderr, "devctl: Failed to set pci0:4:0:1 driver to igb: Device busy\n");
      assert.equal(sb.run("devctl", ["detach", "-f", "ppt0"]).stderr, "devctl: Failed to detach ppt0: Device busy\n");
      process.kill(guest.child.pid!, "SIGTERM");
      assert.equal((await guest.exit).code, 1);
      assert.equal(sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]).status, 1, "the VM still exists");
      assert.equal(sb.run("bhyvectl", ["--vm=nic1", "--destroy"]).status, 0);
      const ok = sb.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(driverOf(sb, "4/0/1"), "igb1");
    });
  });
});
