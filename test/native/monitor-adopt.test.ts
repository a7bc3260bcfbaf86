/**
 * bhyve-monitor -a PID: it takes over a guest whose bhyve it did not start (vm-bhyve's, or one
 * started by hand) without restarting it, supervises it as its own, and fails closed where the
 * adopted process cannot be identified or its end cannot be read.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseArgvFile } from "../../agent/guests/monitor-spec.js";
import { ignoreAcpi, rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { processAlive } from "../../sandbox/machine.js";
import { TestSandbox, FW } from "../support/sandbox.js";
import { guest, MonitoredGuest, TEST_POLICY } from "./monitor-helpers.js";

const uefiGuest = (name: string, extra: Record<string, unknown> = {}) => guest({ name, cpus: 1, memory: "512M", bootrom: FW, ...extra });
/** Linux cannot read the exit status of a process that is not the monitor's child; FreeBSD's kqueue can. */
const statusUnknown = process.platform === "linux";

describe("bhyve-monitor -a adopts a running bhyve it did not start", () => {
  const sb = new TestSandbox("intel-vtd");
  const monitors: MonitoredGuest[] = [];
  const others: number[] = [];
  const monitor = (name: string, restart: "always" | "on-reboot" | "never" = "on-reboot", extra: Record<string, unknown> = {}): MonitoredGuest => {
    const m = new MonitoredGuest(sb.root, uefiGuest(name, extra), { ...TEST_POLICY, restart });
    monitors.push(m);
    return m;
  };
  /** Starts the guest's bhyve by hand, as vm-bhyve or a person would (its argv from the spec); its pid once its VM runs. */
  const startByHand = async (m: MonitoredGuest): Promise<number> => {
    const argv = parseArgvFile(readFileSync(join(m.paths.specDir, "bhyve.argv"), "utf8"));
    const { child } = sb.start("bhyve", argv.slice(1));
    await sb.waitRunning(m.guest.name);
    assert.equal(sb.machine().vms[m.guest.name]!.process!.pid, child.pid);
    return child.pid!;
  };
  const adopt = (m: MonitoredGuest, pid: number, ...opts: string[]) => m.start({ args: [...opts, "-a", String(pid)] });
  before(async () => {
    writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\n`);
    await rebootSandbox(sb.root);
  });
  after(async () => {
    for (const m of monitors) m.cleanup();
    for (const pid of others) if (processAlive(pid)) process.kill(pid, "SIGKILL");
    await sb.destroy();
  });

  test("a hand-started bhyve is adopted without a restart; SIGTERM powers it off and destroys its VM", async () => {
    const m = monitor("handmade");
    const pid = await startByHand(m);
    assert.ok(!existsSync(m.ownerFile), "no owner file: the VM is not the agent's yet");
    const adoptedFrom = new Date().toISOString();
    const r = adopt(m, pid);
    assert.equal(r.status, 0, r.stderr);
    const s = await m.waitFor((st) => st.state === "running", "running");
    assert.equal(s.bhyve_pid, String(pid));
    assert.ok(s.started_at! >= adoptedFrom, `started_at ${s.started_at} is the adoption, not before ${adoptedFrom}`);
    assert.match(readFileSync(m.ownerFile, "utf8"), new RegExp(`^name=handmade\ncreated=\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\nadopted_pid=${pid}\n$`));
    assert.deepEqual(m.events().map((e) => e.event), ["monitor-start", "adopt"]);
    assert.equal(m.events()[1]!.fields.pid, String(pid));
    assert.match(m.log(), new RegExp(`bhyve-monitor: adopted pid ${pid}, the running bhyve of VM handmade`));
    // The spec describes the machine that runs (the agent checks this before it adopts).
    assert.deepEqual(readFileSync(join(m.paths.runDir, "bhyve.argv")), readFileSync(join(m.paths.specDir, "bhyve.argv")), "the running argv recorded");
    assert.ok(processAlive(pid), "the same bhyve runs on");
    assert.equal(sb.machine().vms.handmade!.process!.pid, pid, "not restarted");

    const monitorPid = m.pid!;
    process.kill(monitorPid, "SIGTERM");
    await m.waitExit(monitorPid);
    assert.ok(!processAlive(pid), "the adopted bhyve got the power button and ended");
    const end = m.status();
    assert.deepEqual([end.state, end.reason, end.bhyve_pid], ["stopped", "requested", "0"]);
    assert.deepEqual(m.events().map((e) => e.event), ["monitor-start", "adopt", "stop", "exit", "destroy", "monitor-exit"]);
    assert.equal(m.events()[2]!.fields.action, "acpi-poweroff");
    const exit = m.events()[3]!;
    assert.equal(exit.fields.pid, String(pid));
    if (statusUnknown) assert.equal(exit.fields.code, "unknown");
    else assert.equal(exit.fields.code, "1", "bhyve(8) powered off");
    assert.equal(sb.machine().vms.handmade, undefined, "its VM destroyed");
    assert.ok(!existsSync(join(sb.root, "dev/vmm/handmade")));
    assert.ok(!existsSync(m.ownerFile), "owner file removed with the VM");
  });

  test("an adopted bhyve that ends on its own: where its status cannot be read, the guest stops for good (exit-unknown), even with restart=always; its VM is destroyed", async () => {
    // -n with -a is allowed. No console: nothing but the watch wakes the monitor when the process ends.
    const m = monitor("selfend", "always", { console: false });
    const pid = await startByHand(m);
    const r = adopt(m, pid, "-n");
    assert.equal(r.status, 0, r.stderr);
    await m.waitFor((st) => st.state === "running" && st.bhyve_pid === String(pid), "running");
    const monitorPid = m.pid!;
    process.kill(pid, "SIGKILL");
    if (statusUnknown) {
      await m.waitExit(monitorPid);
      const s = m.status();
      assert.deepEqual([s.state, s.reason, s.last_exit_code, s.last_exit_signal, s.restarts], ["stopped", "exit-unknown", "", "", "0"]);
      assert.ok(s.last_exit_at, "when it ended is known");
      assert.deepEqual(m.events().map((e) => e.event), ["monitor-start", "adopt", "exit", "destroy", "monitor-exit"]);
      assert.equal(m.events()[2]!.fields.code, "unknown");
      assert.equal(m.events()[4]!.fields.reason, "exit-unknown");
    } else {
      // The status is known (kqueue): death by a signal, read as bhyve(8)'s, so restart=always runs
      // the guest again, from the spec, as the monitor's own child.
      const s = await m.waitFor((st) => st.state === "running" && st.restarts === "1" && st.bhyve_pid !== "0", "restarted as its own");
      assert.equal(s.last_exit_signal, "SIGKILL");
      assert.notEqual(s.bhyve_pid, String(pid));
      process.kill(monitorPid, "SIGTERM");
      await m.waitExit(monitorPid);
    }
    assert.equal(sb.machine().vms.selfend, undefined, "its VM destroyed");
    assert.ok(!existsSync(m.ownerFile));
  });

  test("an adopted bhyve deaf to the power button is forced off, then killed through its watch", async () => {
    const m = monitor("deafadopt");
    // A force-poweroff that does nothing, so that the last step, SIGKILL to the adopted process, is reached.
    writeFileSync(join(m.paths.specDir, "poweroff.argv"), `${process.execPath}\0-e\0\0`);
    const pid = await startByHand(m);
    assert.equal(adopt(m, pid).status, 0);
    await m.waitFor((st) => st.state === "running", "running");
    ignoreAcpi(sb.root, "deafadopt");
    const monitorPid = m.pid!;
    process.kill(monitorPid, "SIGTERM");
    await m.waitExit(monitorPid);
    assert.ok(!processAlive(pid));
    assert.deepEqual(m.events().filter((e) => e.event === "stop").map((e) => e.fields.action), ["acpi-poweroff", "force-poweroff", "kill"]);
    const s = m.status();
    assert.deepEqual([s.state, s.reason], ["stopped", "requested"]);
    if (!statusUnknown) assert.equal(s.last_exit_signal, "SIGKILL");
    assert.equal(sb.machine().vms.deafadopt, undefined);
  });

  test("the agent's own orphaned bhyve (its monitor died): adopted, the owner file kept as it was", async () => {
    const m = monitor("orphaned");
    assert.equal(m.start().status, 0);
    const s = await m.waitFor((st) => st.state === "running" && st.bhyve_pid !== "0", "running");
    await sb.waitRunning("orphaned");
    const bhyve = Number(s.bhyve_pid);
    const owner = readFileSync(m.ownerFile, "utf8");
    const first = m.pid!;
    process.kill(first, "SIGKILL");
    await m.waitExit(first);
    assert.ok(processAlive(bhyve), "bhyve outlives its monitor");
    const r = adopt(m, bhyve);
    assert.equal(r.status, 0, r.stderr);
    await m.waitFor((st) => st.state === "running" && st.monitor_pid !== String(first), "adopted");
    assert.equal(m.status().bhyve_pid, String(bhyve));
    assert.equal(readFileSync(m.ownerFile, "utf8"), owner, "the owner file is not rewritten");
    assert.equal(sb.machine().vms.orphaned!.process!.pid, bhyve, "not restarted");
  });

  test("refused with 66, before anything is claimed: a pid that is not running, a VM that does not exist", () => {
    const dead = monitor("deadpid");
    assert.equal(sb.run("bhyvectl", ["--create", "--vm=deadpid"]).status, 0);
    const vmBefore = sb.machine().vms.deadpid;
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    const r1 = adopt(dead, gone);
    assert.equal(r1.status, 66);
    assert.equal(r1.stderr, `bhyve-monitor: cannot adopt pid ${gone}: no such process\n`);
    assert.ok(!existsSync(dead.ownerFile), "no owner file");
    assert.deepEqual(sb.machine().vms.deadpid, vmBefore, "the VM untouched");
    assert.ok(!existsSync(join(dead.paths.runDir, "monitor.pid")));

    const novm = monitor("novm");
    const sleeper = spawn("/bin/sleep", ["600"], { stdio: "ignore" });
    others.push(sleeper.pid!);
    const r2 = adopt(novm, sleeper.pid!);
    assert.equal(r2.status, 66);
    assert.equal(r2.stderr, `bhyve-monitor: cannot adopt pid ${sleeper.pid}: no VM novm (${join(sb.root, "dev/vmm/novm")}: No such file or directory)\n`);
    assert.ok(!existsSync(novm.ownerFile), "no owner file");
    assert.ok(processAlive(sleeper.pid!), "the process got no signal");
    assert.deepEqual(novm.events(), [], "nothing happened to the guest");
    process.kill(sleeper.pid!, "SIGKILL");
  });

  test("a pid that cannot be a bhyve is a usage error (64)", () => {
    const m = monitor("badpid");
    for (const arg of ["0", "1", "-5", "12x", ""]) {
      const r = m.start({ args: ["-a", arg] });
      assert.equal(r.status, 64, arg);
      assert.equal(r.stderr, `bhyve-monitor: -a ${arg}: expected the pid of a bhyve process\n`);
    }
  });

  test("a guest that is already monitored is refused with 75; its monitor and bhyve run on", async () => {
    const m = monitor("held");
    assert.equal(m.start().status, 0);
    const s = await m.waitFor((st) => st.state === "running" && st.bhyve_pid !== "0", "running");
    await sb.waitRunning("held");
    const owner = readFileSync(m.ownerFile, "utf8");
    const r = adopt(m, Number(s.bhyve_pid));
    assert.equal(r.status, 75);
    assert.equal(r.stderr, `bhyve-monitor: guest held is already monitored (pid ${m.pid})\n`);
    assert.equal(readFileSync(m.ownerFile, "utf8"), owner);
    assert.deepEqual([m.status().state, m.status().bhyve_pid], ["running", s.bhyve_pid]);
    assert.ok(!m.events().some((e) => e.event === "adopt"));
  });
});
