/**
 * The agent stops and destroys only VMs that it created: a desired guest whose name a foreign VM
 * holds (started by hand or by another tool) is refused before any change, whatever its state;
 * a guest of the agent's whose VM outlived its monitor is still the agent's to reap.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { readGuest, vmOwned } from "../../../agent/guests/lifecycle.js";
import { status } from "../../../agent/engine/service.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const guest = (name: string, state: "running" | "stopped" = "running") => ({ name, cpus: 1, memory: "512M", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], state });

describe("ownership: only the agent's own VMs", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());

  test("a VM created by hand is foreign; a desired guest of its name is refused with E_FOREIGN_VM, nothing changed", async () => {
    const created = h.run("bhyvectl", ["--create", "--vm=byhand"]);
    assert.equal(created.status, 0, created.stderr);
    assert.ok(h.machine().vms.byhand, "the VM exists");
    const loaderBefore = readFileSync(join(h.root, "boot/loader.conf"), "utf8");
    for (const state of ["running", "stopped"] as const) {
      await assert.rejects(h.apply({ guests: [guest("byhand", state)] }), (err: Error & { code?: string; problems?: Array<{ path: string; message: string }> }) => {
        assert.equal(err.code, "E_FOREIGN_VM");
        assert.equal(err.problems?.[0]?.path, "guests[0].name");
        assert.match(err.problems![0]!.message, /a VM named byhand already runs on this host and the agent did not create it/);
        assert.match(err.problems![0]!.message, /Rename the guest, stop and destroy that VM yourself.*or set adopt on the guest/);
        return true;
      });
      assert.ok(h.machine().vms.byhand, `the foreign VM is still there (state ${state})`);
    }
    assert.equal(readFileSync(join(h.root, "boot/loader.conf"), "utf8"), loaderBefore, "loader.conf untouched");
    assert.equal(existsSync(h.paths.guestSpecDir("byhand")), false, "no files written for it");
    const rt = readGuest(h.paths, "byhand");
    assert.deepEqual([rt.vm_exists, rt.vm_foreign], [true, true]);
  });

  test("the same refusal over guest.put (the CLI's rpc), with the code and the field", () => {
    const r = h.cli(["rpc"], `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "guest.put", params: { guest: guest("byhand") } })}\n`);
    const answer = JSON.parse(r.stdout.trim());
    assert.equal(answer.error.data.code, "E_FOREIGN_VM");
    assert.equal(answer.error.data.problems[0].path, "guest.name");
    assert.ok(h.machine().vms.byhand);
  });

  test("other guests are the agent's: owner file written by the monitor, destroyed on delete; the foreign VM survives every converge", async () => {
    const r = await h.apply({ guests: [guest("mine")] });
    assert.deepEqual(r.refused, []);
    await until(() => h.machine().vms.mine?.process != null, "mine running");
    assert.ok(vmOwned(h.paths, "mine"));
    assert.ok(existsSync(h.paths.guestOwnerFile("mine")), "the monitor wrote the owner file");
    // A spec from an agent before the guest directories (no owner_file, the log beside audit.log) does not restart the guest.
    const conf = join(h.paths.guestSpecDir("mine"), "monitor.conf");
    const old = readFileSync(conf, "utf8").split("\n").filter((l) => !l.startsWith("owner_file=")).map((l) => (l.startsWith("log_file=") ? `log_file=${h.paths.logDir}/mine.log` : l)).join("\n");
    writeFileSync(conf, old);
    const same = await h.apply({ guests: [guest("mine")] });
    assert.deepEqual(same.changed, [], "no restart for where the monitor keeps its files");
    const d = await h.apply({ guests: [] });
    assert.deepEqual(d.changed.map((c) => c.what), ["guest mine"]);
    assert.equal(h.machine().vms.mine, undefined, "its VM destroyed");
    assert.equal(existsSync(h.paths.guestRunDir("mine")), false);
    assert.ok(h.machine().vms.byhand, "the foreign VM untouched");
  });

  test("deleting a guest of the agent's whose name a foreign VM took meanwhile removes only the agent's files", async () => {
    await h.apply({ guests: [guest("late", "stopped")] });
    assert.ok(existsSync(h.paths.guestSpecDir("late")));
    assert.equal(h.run("bhyvectl", ["--create", "--vm=late"]).status, 0);
    assert.equal(readGuest(h.paths, "late").vm_foreign, true);
    await h.apply({ guests: [] });
    assert.ok(h.machine().vms.late, "the foreign VM is not destroyed");
    assert.equal(existsSync(h.paths.guestSpecDir("late")), false, "the agent's files for it are gone");
  });
});

describe("status lists the VMs the agent did not create, with their bhyve's pid from its title", () => {
  const h = new AgentHost("intel-vtd");
  let child: ChildProcess | undefined;
  after(async () => {
    if (child?.pid) process.kill(child.pid, "SIGKILL");
    await h.destroy();
  });

  test("a bhyve started by hand and a VM left by bhyvectl: both foreign, the running one with its pid; the agent's own guest is not among them", async () => {
    await h.apply({ guests: [guest("mine")] });
    assert.equal(h.run("bhyvectl", ["--create", "--vm=left"]).status, 0);
    child = spawn(join(h.root, "usr/sbin/bhyve"), ["-c", "1", "-m", "256M", "-s", "0,hostbridge", "-s", "31,lpc", "-l", `bootrom,${FW}`, "handmade"], { stdio: "ignore", detached: false });
    await until(() => h.machine().vms.handmade?.process != null, "the hand-made bhyve");
    const pid = h.machine().vms.handmade!.process!.pid;
    const ps = h.run("ps", ["-ax", "-o", "pid=", "-o", "command="]);
    assert.match(ps.stdout, new RegExp(`^\\s*${pid} bhyve: handmade \\(bhyve\\)$`, "m"), "bhyve's title, not its arguments");
    const s = await status(h.paths);
    assert.deepEqual(s.foreign_vms, [{ name: "handmade", pid }, { name: "left", pid: null }]);
  });
});
