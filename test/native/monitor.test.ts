import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { monitorExecutable } from "../../agent/host/native.js";
import { guestAction, ignoreAcpi, rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { processAlive } from "../../sandbox/machine.js";
import { TestSandbox, FW } from "../support/sandbox.js";
import { guest, MonitoredGuest, rssKiB, TEST_POLICY } from "./monitor-helpers.js";

const uefiGuest = (name: string, extra: Record<string, unknown> = {}) =>
  guest({ name, cpus: 1, memory: "512M", bootrom: FW, ...extra });

describe("bhyve-monitor runs one guest's bhyve and applies bhyve(8)'s exit codes", () => {
  const sb = new TestSandbox("intel-vtd");
  const monitors: MonitoredGuest[] = [];
  const monitor = (g: ReturnType<typeof guest>, restart: "always" | "on-reboot" | "never", overrides = {}): MonitoredGuest => {
    const m = new MonitoredGuest(sb.root, g, { ...TEST_POLICY, restart, ...overrides });
    monitors.push(m);
    return m;
  };
  before(async () => {
    writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\npptdevs="3/0/0 3/0/1"\n`);
    await rebootSandbox(sb.root);
  });
  after(async () => {
    for (const m of monitors) m.cleanup();
    await sb.destroy();
  });

  test("starts detached, records the run, restarts on reboot (exit 0), stops on poweroff (exit 1) and destroys the VM", async () => {
    const m = monitor(uefiGuest("web", { passthru: [{ device: "3/0/0", slot: 6 }, { device: "3/0/1", slot: 6 }] }), "on-reboot");
    const r = m.start();
    assert.equal(r.status, 0, r.stderr);
    // What it runs is on record by the time the caller hears it is ready (the agent compares it with the spec at once).
    assert.equal(readFileSync(join(m.paths.runDir, "bhyve.argv"), "utf8"), readFileSync(join(m.paths.specDir, "bhyve.argv"), "utf8"));
    const pid = m.pid!;
    assert.ok(processAlive(pid));
    const s1 = await m.waitFor((s) => s.state === "running" && s.bhyve_pid !== "0", "running");
    await sb.waitRunning("web");
    assert.equal(s1.monitor_pid, String(pid));
    assert.equal(s1.name, "web");
    assert.deepEqual(sb.machine().vms.web!.ppt, ["3/0/0", "3/0/1"]);
    const firstBhyve = Number(s1.bhyve_pid);
    assert.equal(await guestAction(sb.root, "web", "reboot"), 0);
    const s2 = await m.waitFor((s) => s.restarts === "1" && s.state === "running" && Number(s.bhyve_pid) !== firstBhyve, "restart after reboot");
    await sb.waitRunning("web");
    assert.equal(s2.last_exit_code, "0");
    await guestAction(sb.root, "web", "poweroff");
    await m.waitExit(pid);
    const s3 = m.status();
    assert.deepEqual([s3.state, s3.reason, s3.last_exit_code], ["stopped", "poweroff", "1"]);
    assert.equal(sb.machine().vms.web, undefined, "bhyvectl --destroy ran when the monitor stopped");
    assert.ok(!existsSync(join(sb.root, "dev/vmm/web")));
    assert.ok(!existsSync(join(m.paths.runDir, "monitor.pid")));
    const events = m.events().map((e) => e.event);
    assert.deepEqual(events, ["monitor-start", "start", "exit", "restart", "destroy", "start", "exit", "destroy", "monitor-exit"]);
    const exit = m.events().find((e) => e.event === "exit")!;
    assert.equal(exit.fields.code, "0");
    assert.ok(exit.fields.started! < exit.fields.ended!, "start and end time of each run");
  });

  test("halt (exit 2) stops; triple fault (exit 3) stops unless restart is always", async () => {
    const h = monitor(uefiGuest("halt"), "always");
    assert.equal(h.start().status, 0);
    await h.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(h.guest.name);
    await guestAction(sb.root, "halt", "halt");
    await h.waitFor((s) => s.state === "stopped", "stopped");
    assert.equal(h.status().reason, "halt");
    const t = monitor(uefiGuest("tf"), "on-reboot");
    assert.equal(t.start().status, 0);
    await t.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(t.guest.name);
    await guestAction(sb.root, "tf", "triple-fault");
    const s = await t.waitFor((st) => st.state === "stopped", "stopped");
    assert.deepEqual([s.reason, s.last_exit_code, s.restarts], ["triple-fault", "3", "0"]);
  });

  test("never: a reboot stops the guest", async () => {
    const n = monitor(uefiGuest("never"), "never");
    assert.equal(n.start().status, 0);
    await n.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(n.guest.name);
    await guestAction(sb.root, "never", "reboot");
    const s = await n.waitFor((st) => st.state === "stopped", "stopped");
    assert.deepEqual([s.reason, s.last_exit_code], ["reboot", "0"]);
  });

  test("always: crashes and deaths by signal restart after a growing backoff, then stop as crashed", async () => {
    const c = monitor(uefiGuest("crashy"), "always");
    assert.equal(c.start().status, 0);
    let s = await c.waitFor((st) => st.state === "running", "running");
    await sb.waitRunning("crashy");
    await guestAction(sb.root, "crashy", "crash");
    s = await c.waitFor((st) => st.restarts === "1" && st.state === "running", "restart after crash");
    await sb.waitRunning("crashy");
    process.kill(Number(s.bhyve_pid), "SIGKILL");
    s = await c.waitFor((st) => st.restarts === "2" && st.state === "running", "restart after SIGKILL");
    await sb.waitRunning("crashy");
    assert.equal(s.last_exit_signal, "SIGKILL");
    await guestAction(sb.root, "crashy", "triple-fault");
    s = await c.waitFor((st) => st.state === "crashed", "crash loop");
    assert.equal(s.reason, "crash-loop");
    const backoffs = c.events().filter((e) => e.event === "backoff").map((e) => Number(e.fields.delay_ms));
    assert.deepEqual(backoffs, [20, 40], "exponential backoff");
    assert.equal(c.events().filter((e) => e.event === "crash-loop").length, 1);
    assert.equal(sb.machine().vms.crashy, undefined, "destroyed when it gave up");
  });

  test("SIGTERM: the power button; a guest that ignores it is forced off after the deadline", async () => {
    // A guest that obeys the power button is given all the time it could need: on a busy machine
    // its exit must not race the deadline (the deaf guest below is the one that meets it).
    const polite = monitor(uefiGuest("polite"), "always", { stopTimeoutMs: 60_000 });
    assert.equal(polite.start().status, 0);
    await polite.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(polite.guest.name);
    process.kill(polite.pid!, "SIGTERM");
    const p = await polite.waitFor((s) => s.state === "stopped", "stopped");
    assert.deepEqual([p.reason, p.last_exit_code], ["requested", "1"]);
    assert.deepEqual(polite.events().filter((e) => e.event === "stop").map((e) => e.fields.action), ["acpi-poweroff"]);

    const deaf = monitor(uefiGuest("deaf"), "always");
    assert.equal(deaf.start().status, 0);
    await deaf.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(deaf.guest.name);
    ignoreAcpi(sb.root, "deaf");
    const pid = deaf.pid!;
    process.kill(pid, "SIGTERM");
    await deaf.waitExit(pid);
    const d = deaf.status();
    assert.deepEqual([d.state, d.reason, d.last_exit_code], ["stopped", "requested", "1"]);
    assert.deepEqual(deaf.events().filter((e) => e.event === "stop").map((e) => e.fields.action), ["acpi-poweroff", "force-poweroff"]);
    assert.equal(sb.machine().vms.deaf, undefined);
  });

  test("a second monitor for the same guest is refused; the first keeps running", async () => {
    const m = monitor(uefiGuest("single"), "on-reboot");
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(m.guest.name);
    const second = m.start();
    assert.equal(second.status, 75);
    assert.equal(second.stderr, `bhyve-monitor: guest single is already monitored (pid ${m.pid})\n`);
    assert.equal(m.status().state, "running");
  });

  test("it survives the death of the process that started it", async () => {
    const m = monitor(uefiGuest("orphan"), "on-reboot");
    // A parent that starts the monitor and exits at once, as an agent on a dropped SSH session does.
    const r = spawnSync(process.execPath, ["-e", "const c = require('child_process').spawnSync(process.argv[1], [process.argv[2]]); process.exit(c.status)", monitorExecutable()!, m.paths.specDir], { timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr?.toString());
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(m.guest.name);
    const pid = m.pid!;
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(processAlive(pid), "still running after its parent exited");
    // Detached: a session of its own (setsid), not the one of the test that started it.
    const sid = (p: number) => Number(spawnSync("/bin/ps", ["-o", "sid=", "-p", String(p)], { encoding: "utf8" }).stdout.trim());
    assert.ok(sid(pid) > 0);
    assert.notEqual(sid(pid), sid(process.pid), "in a session of its own");
  });

  test("bhyveload runs before each bhyve when there is no bootrom; its failure is the guest's failure", async () => {
    const ok = monitor(guest({ name: "loader", cpus: 1, memory: "512M", disks: [{ path: "/dev/zvol/zroot/vm/fw1" }] }), "on-reboot");
    assert.equal(ok.start().status, 0);
    await ok.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(ok.guest.name);
    assert.deepEqual(ok.events().map((e) => e.event).slice(0, 3), ["monitor-start", "bhyveload", "start"]);
    assert.equal(ok.events()[1]!.fields.code, "0");
    const bad = monitor(guest({ name: "noload", cpus: 1, memory: "512M", disks: [{ path: "/dev/zvol/zroot/vm/missing" }] }), "on-reboot");
    assert.equal(bad.start().status, 0);
    const s = await bad.waitFor((st) => st.state === "stopped", "stopped");
    assert.deepEqual([s.reason, s.last_exit_code], ["error", "64"]);
    assert.match(bad.log(), /^bhyveload: Could not open '\/dev\/zvol\/zroot\/vm\/missing'$/m);
  });

  test("bhyve's output goes to the guest log, which is rotated at its size cap", async () => {
    const m = monitor(guest({ name: "noisy", cpus: 1, memory: "512M", bootrom: "/usr/local/share/uefi-firmware/MISSING.fd" }), "always", { logMaxBytes: 150, crashLimit: 4 });
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "crashed", "crashed");
    assert.match(readFileSync(m.paths.logFile, "utf8") + readFileSync(`${m.paths.logFile}.0`, "utf8"), /Error opening bootrom "\/usr\/local\/share\/uefi-firmware\/MISSING\.fd": No such file or directory/);
    assert.ok(statSync(m.paths.logFile).size <= 150, `log size ${statSync(m.paths.logFile).size}`);
    assert.ok(existsSync(`${m.paths.logFile}.0`));
  });

  test("resident memory of a monitor", async (t) => {
    const m = monitor(uefiGuest("small"), "on-reboot");
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning(m.guest.name);
    const kib = rssKiB(m.pid!);
    t.diagnostic(`bhyve-monitor RSS: ${kib} KiB`);
    // The goal is under 2 MiB resident (it is a small C program with fixed buffers); 4 MiB leaves a
    // margin for libc and the page accounting of other systems, and still catches a leak or a big buffer.
    assert.ok(kib > 0 && kib < 4096, `bhyve-monitor RSS ${kib} KiB, over the 4 MiB bound`);
  });
});

describe("a VM destroyed under a running bhyve is a stop on every release", () => {
  // bhyve exits 1 on 13.x and 14.x (vm_run error), 4 on 15: the monitor reads both as "destroyed"
  // (the VM is gone), and does not run the guest again even with restart=always.
  for (const [profile, code] of [["freebsd13", "1"], ["intel-vtd", "1"], ["freebsd15", "4"]] as const) {
    test(`${profile}: bhyve exits ${code}; the guest stays stopped, reason destroyed`, async () => {
      const sb = new TestSandbox(profile);
      const m = new MonitoredGuest(sb.root, uefiGuest("gone"), { ...TEST_POLICY, restart: "always" });
      try {
        writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\n`);
        await rebootSandbox(sb.root);
        assert.equal(m.start().status, 0);
        const pid = m.pid!;
        await m.waitFor((s) => s.state === "running" && s.bhyve_pid !== "0", "running");
        await sb.waitRunning("gone");
        const d = sb.run("bhyvectl", ["--destroy", "--vm=gone"]);
        assert.equal(d.status, 0, d.stderr);
        await m.waitExit(pid);
        const s = m.status();
        assert.deepEqual([s.state, s.reason, s.last_exit_code, s.restarts], ["stopped", "destroyed", code, "0"]);
        assert.deepEqual(m.events().map((e) => e.event).filter((e) => e === "start" || e === "restart" || e === "backoff"), ["start"], "never run again");
      } finally {
        m.cleanup();
        await sb.destroy();
      }
    });
  }
});

describe("a bhyve that fails before it has a VM is a failure, not a destroyed VM", () => {
  test("vmm.ko cannot load (no-ept): bhyve exits 4 with no VM; restart=always backs off to crashed", async () => {
    const sb = new TestSandbox("no-ept");
    const m = new MonitoredGuest(sb.root, uefiGuest("early"), { ...TEST_POLICY, restart: "always" });
    try {
      assert.equal(m.start().status, 0);
      const s = await m.waitFor((st) => st.state === "crashed", "crashed");
      assert.deepEqual([s.reason, s.last_exit_code], ["crash-loop", "4"]);
      assert.ok(m.events().filter((e) => e.event === "backoff").length >= 2, "it was retried with backoff");
      assert.equal(existsSync(join(sb.root, "dev/vmm/early")), false, "no VM at any time");
    } finally {
      m.cleanup();
      await sb.destroy();
    }
  });
});

describe("bad specs are refused before anything runs", () => {
  test("missing or malformed files, and usage", async () => {
    const exe = monitorExecutable()!;
    const usage = spawnSync(exe, [], { encoding: "utf8" });
    assert.equal(usage.status, 64);
    assert.equal(usage.stderr, "usage: bhyve-monitor [-f] [-n] [-a PID] SPECDIR\n");
    const missing = spawnSync(exe, ["/nonexistent/spec"], { encoding: "utf8" });
    assert.equal(missing.status, 65);
    assert.match(missing.stderr, /monitor\.conf: No such file or directory/);
  });
});
