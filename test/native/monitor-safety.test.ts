/**
 * bhyve-monitor's data-safety rules: it touches only a VM it owns (owner_file), runs its children
 * with a clean environment and no inherited descriptors, writes its files without following planted
 * links, and the agent trusts monitor.pid only while the monitor holds its lock.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { monitorPaths, readGuest, startGuest, stopGuest } from "../../agent/guests/lifecycle.js";
import { OWNER_FILE, renderMonitorSpec, writeMonitorSpec } from "../../agent/guests/monitor-spec.js";
import { loadNativeProbe, monitorExecutable } from "../../agent/host/native.js";
import { guestAction, rebootSandbox, STOCK_LOADER_CONF } from "../../sandbox/host.js";
import { processAlive } from "../../sandbox/machine.js";
import { AgentHost } from "../support/agent-host.js";
import { TestSandbox, FW } from "../support/sandbox.js";
import { guest, MonitoredGuest, TEST_POLICY } from "./monitor-helpers.js";

const uefiGuest = (name: string) => guest({ name, cpus: 1, memory: "512M", bootrom: FW });
const foreignMessage = (name: string) =>
  `bhyve-monitor: a VM named ${name} exists that the agent did not create; not touching it (rename the guest, or stop that VM yourself)\n`;
const hasProc = existsSync("/proc/self/environ") && existsSync("/proc/self/fd");

/** Where the open descriptors of a process point (Linux /proc; the test only). */
function openFiles(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile
    }
  });
}

describe("bhyve-monitor touches only a VM it owns", () => {
  const sb = new TestSandbox("intel-vtd");
  const monitors: MonitoredGuest[] = [];
  const monitor = (name: string, restart: "always" | "on-reboot" | "never" = "on-reboot"): MonitoredGuest => {
    const m = new MonitoredGuest(sb.root, uefiGuest(name), { ...TEST_POLICY, restart });
    monitors.push(m);
    return m;
  };
  before(async () => {
    writeFileSync(join(sb.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\n`);
    await rebootSandbox(sb.root);
  });
  after(async () => {
    for (const m of monitors) m.cleanup();
    await sb.destroy();
  });

  test("the spec names the owner file in the run directory", () => {
    const m = monitor("specced");
    const conf = readFileSync(join(m.paths.specDir, "monitor.conf"), "utf8");
    assert.ok(conf.split("\n").includes(`owner_file=${join(m.paths.runDir, OWNER_FILE)}`), conf);
    assert.equal(OWNER_FILE, "vm.owned");
  });

  test("a VM it did not create: exit 78 before detaching, nothing destroyed or run, stopped/foreign-vm", () => {
    const m = monitor("alien");
    const created = sb.run("bhyvectl", ["--create", "--vm=alien"]);
    assert.equal(created.status, 0, created.stderr);
    const before = sb.machine().vms.alien!;
    const r = m.start();
    assert.equal(r.status, 78);
    assert.equal(r.stderr, foreignMessage("alien"));
    assert.ok(existsSync(join(sb.root, "dev/vmm/alien")), "the VM device is still there");
    assert.deepEqual(sb.machine().vms.alien, before, "the sandbox's VM was neither destroyed nor run");
    const s = m.status();
    assert.deepEqual([s.state, s.reason], ["stopped", "foreign-vm"]);
    assert.deepEqual(m.events().map((e) => e.event), ["foreign-vm", "monitor-exit"]);
    assert.match(m.log(), /bhyve-monitor: a VM named alien exists that the agent did not create; not touching it/);
    assert.ok(!existsSync(m.ownerFile), "no owner file is written for someone else's VM");
    assert.ok(!existsSync(join(m.paths.runDir, "monitor.pid")));
  });

  test("a VM device made by hand counts as foreign too", () => {
    const m = monitor("byhand");
    writeFileSync(join(sb.root, "dev/vmm/byhand"), "");
    const r = m.start();
    assert.equal(r.status, 78);
    assert.equal(r.stderr, foreignMessage("byhand"));
    assert.ok(existsSync(join(sb.root, "dev/vmm/byhand")));
    assert.ok(!m.events().some((e) => e.event === "destroy" || e.event === "start" || e.event === "bhyveload"));
    assert.doesNotMatch(m.log(), /vm_open/, "bhyvectl never ran for it");
  });

  test("its own stale VM (owner file present) is destroyed before bhyve runs; the owner file goes with the final destroy", async () => {
    const m = monitor("mine");
    assert.equal(sb.run("bhyvectl", ["--create", "--vm=mine"]).status, 0);
    const staleCreatedAt = sb.machine().vms.mine!.createdAt;
    writeFileSync(m.ownerFile, "name=mine\ncreated=2024-01-01T00:00:00.000Z\n");
    const r = m.start();
    assert.equal(r.status, 0, r.stderr);
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning("mine");
    assert.deepEqual(m.events().map((e) => e.event), ["monitor-start", "destroy", "start"]);
    assert.notEqual(sb.machine().vms.mine!.createdAt, staleCreatedAt, "a new VM, not the stale one");
    assert.ok(existsSync(m.ownerFile));
    const pid = m.pid!;
    await guestAction(sb.root, "mine", "poweroff");
    await m.waitExit(pid);
    assert.deepEqual([m.status().state, m.status().reason], ["stopped", "poweroff"]);
    assert.equal(sb.machine().vms.mine, undefined);
    assert.ok(!existsSync(m.ownerFile), "owner file removed once no VM is left");
  });

  test("a fresh guest: the owner file is written before it detaches (name, creation time), removed after the final destroy", async () => {
    const m = monitor("fresh");
    const r = m.start();
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(m.ownerFile, "utf8");
    assert.match(text, /^name=fresh\ncreated=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/);
    assert.ok(lstatSync(m.ownerFile).isFile());
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning("fresh");
    const pid = m.pid!;
    process.kill(pid, "SIGTERM");
    await m.waitExit(pid);
    assert.deepEqual([m.status().state, m.status().reason], ["stopped", "requested"]);
    assert.ok(!existsSync(join(sb.root, "dev/vmm/fresh")));
    assert.ok(!existsSync(m.ownerFile));
  });

  test("found later (owner file gone while the VM stays): it stops as foreign-vm and destroys nothing", async () => {
    const m = monitor("later");
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "running", "running");
    await sb.waitRunning("later");
    const pid = m.pid!;
    unlinkSync(m.ownerFile);
    await guestAction(sb.root, "later", "reboot");
    await m.waitExit(pid);
    const s = m.status();
    assert.deepEqual([s.state, s.reason], ["stopped", "foreign-vm"]);
    assert.ok(sb.machine().vms.later, "the VM was not destroyed");
    assert.ok(existsSync(join(sb.root, "dev/vmm/later")));
    const events = m.events().map((e) => e.event);
    assert.deepEqual(events, ["monitor-start", "start", "exit", "restart", "foreign-vm", "monitor-exit"]);
  });

  test("files it replaces atomically do not follow a planted temporary link", async () => {
    const m = monitor("planted");
    const victim = join(dirname(m.paths.runDir), "victim");
    writeFileSync(victim, "untouched\n");
    symlinkSync(victim, join(m.paths.runDir, "status.tmp"));
    symlinkSync(victim, join(m.paths.runDir, `${OWNER_FILE}.tmp`));
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "running", "running");
    assert.equal(readFileSync(victim, "utf8"), "untouched\n");
    assert.match(readFileSync(m.ownerFile, "utf8"), /^name=planted\n/);
  });

  test("directories it has to make: run_dir 0700, the log directory 0750", async () => {
    const m = new MonitoredGuest(sb.root, uefiGuest("mkdirs"), { ...TEST_POLICY, restart: "on-reboot" }, { logDir: "logs" });
    monitors.push(m);
    rmSync(m.paths.runDir, { recursive: true });
    rmSync(dirname(m.paths.logFile), { recursive: true });
    assert.equal(m.start().status, 0);
    await m.waitFor((s) => s.state === "running", "running");
    const umask = process.umask();
    assert.equal(statSync(m.paths.runDir).mode & 0o777, 0o700 & ~umask);
    assert.equal(statSync(dirname(m.paths.logFile)).mode & 0o777, 0o750 & ~umask);
  });

  test("children get only PATH and the locale, and no descriptor beyond 2", { skip: !hasProc && "needs /proc to read a process's environment and descriptors" }, async () => {
    const m = monitor("cleanenv");
    const scratch = mkdtempSync(join(tmpdir(), "cdktf-bhyve-fd-"));
    const marker = join(scratch, "inherited");
    const fd = openSync(marker, "w");
    try {
      const r = m.start({
        env: { PATH: "/opt/evil/bin:/usr/bin", LANG: "C.UTF-8", LC_TIME: "C", SECRET_TOKEN: "hunter2", LD_PRELOAD: "/nonexistent.so" },
        stdio: ["ignore", "pipe", "pipe", fd],
      });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      closeSync(fd);
    }
    try {
      const s = await m.waitFor((st) => st.state === "running" && st.bhyve_pid !== "0", "running");
      await sb.waitRunning("cleanenv");
      const bhyve = Number(s.bhyve_pid);
      const env = readFileSync(`/proc/${bhyve}/environ`, "utf8").split("\0").filter((e) => e !== "").sort();
      assert.deepEqual(env, ["LANG=C.UTF-8", "LC_TIME=C", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"]);
      for (const pid of [m.pid!, bhyve]) {
        assert.ok(!openFiles(pid).includes(marker), `process ${pid} holds the descriptor it was not meant to inherit`);
      }
      assert.ok(!openFiles(m.pid!).some((f) => f === marker));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe("the agent trusts monitor.pid only while the monitor holds its lock", () => {
  const host = new AgentHost("intel-vtd");
  const sleepers: number[] = [];
  before(async () => {
    writeFileSync(join(host.root, "boot/loader.conf"), `${STOCK_LOADER_CONF}vmm_load="YES"\n`);
    await rebootSandbox(host.root);
  });
  after(async () => {
    for (const pid of sleepers) if (processAlive(pid)) process.kill(pid, "SIGKILL");
    rmSync(join(host.paths.runDir, "guests"), { recursive: true, force: true });
    await host.destroy();
  });

  test("a stale pid file naming a live unrelated process is not the monitor and never gets a signal", async () => {
    const native = loadNativeProbe();
    assert.ok(native.available, "the native addon is built");
    const sleeper = spawn("/bin/sleep", ["600"], { stdio: "ignore" });
    sleepers.push(sleeper.pid!);
    let signalled: NodeJS.Signals | null = null;
    sleeper.on("exit", (_code, sig) => (signalled = sig));
    const mp = monitorPaths(host.paths, "stale");
    writeMonitorSpec(mp, renderMonitorSpec(uefiGuest("stale"), mp, { ...TEST_POLICY, restart: "on-reboot" }));
    const pidFile = join(mp.runDir, "monitor.pid");
    writeFileSync(pidFile, `${sleeper.pid}\n`);
    assert.equal(readGuest(host.paths, "stale").monitor_pid, null);
    assert.equal(readGuest(host.paths, "stale").state, "stopped");
    await stopGuest(host.paths, "stale", 2_000);
    await new Promise((r) => setTimeout(r, 100)); // let an exit event, had there been one, arrive
    assert.equal(signalled, null, "the unrelated process got no signal");
    assert.ok(processAlive(sleeper.pid!));
    // The same file while a process holds its lock (as a monitor does) names the owner.
    const fd = openSync(pidFile, "r");
    try {
      assert.equal(native.probe.flock(fd, "exclusive", true), true);
      assert.equal(readGuest(host.paths, "stale").monitor_pid, sleeper.pid);
    } finally {
      closeSync(fd);
    }
    assert.equal(readGuest(host.paths, "stale").monitor_pid, null, "lock released: stale again");
    process.kill(sleeper.pid!, "SIGKILL");
    rmSync(pidFile);
  });

  test("a running monitor is found through its lock and stopped", async () => {
    const g = uefiGuest("live");
    await startGuest(host.paths, g);
    const mp = monitorPaths(host.paths, "live");
    const filePid = Number(readFileSync(join(mp.runDir, "monitor.pid"), "utf8").trim());
    const r = readGuest(host.paths, "live");
    assert.equal(r.monitor_pid, filePid);
    assert.ok(filePid > 0 && processAlive(filePid));
    await stopGuest(host.paths, "live");
    assert.equal(readGuest(host.paths, "live").monitor_pid, null);
    assert.ok(!existsSync(join(host.root, "dev/vmm/live")));
  });
});

describe("spec files", () => {
  test("written atomically into a 0700 spec directory (0750 run and log directories), never through a planted temporary link", () => {
    const base = mkdtempSync(join(tmpdir(), "cdktf-bhyve-spec-"));
    try {
      const paths = { root: "/", specDir: join(base, "db/spec"), runDir: join(base, "run/g"), logFile: join(base, "log/g.log") };
      const files = renderMonitorSpec(uefiGuest("g"), paths, { ...TEST_POLICY, restart: "on-reboot" });
      mkdirSync(paths.specDir, { recursive: true, mode: 0o755 });
      const victim = join(base, "victim");
      writeFileSync(victim, "untouched\n");
      symlinkSync(victim, join(paths.specDir, ".monitor.conf.tmp"));
      writeMonitorSpec(paths, files);
      assert.equal(readFileSync(victim, "utf8"), "untouched\n");
      assert.ok(readFileSync(join(paths.specDir, "monitor.conf")).equals(files["monitor.conf"]!));
      assert.equal(statSync(paths.specDir).mode & 0o777, 0o700, "an existing spec directory is narrowed to 0700");
      assert.equal(statSync(paths.runDir).mode & 0o777, 0o750 & ~process.umask());
      assert.equal(statSync(dirname(paths.logFile)).mode & 0o777, 0o750 & ~process.umask());
      for (const f of Object.keys(files)) assert.equal(statSync(join(paths.specDir, f)).mode & 0o777, 0o600 & ~process.umask(), f);
      assert.deepEqual(readdirSync(paths.specDir).filter((f) => f.startsWith(".")), [], "no temporary file left");
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test("a monitor.conf without owner_file is refused, naming the key", () => {
    const base = mkdtempSync(join(tmpdir(), "cdktf-bhyve-spec-"));
    try {
      const paths = { root: "/", specDir: join(base, "spec"), runDir: join(base, "run"), logFile: join(base, "g.log") };
      const files = renderMonitorSpec(uefiGuest("g"), paths, { ...TEST_POLICY, restart: "on-reboot" });
      files["monitor.conf"] = Buffer.from(files["monitor.conf"]!.toString().replace(/^owner_file=.*\n/m, ""));
      writeMonitorSpec(paths, files);
      const r = spawnSync(monitorExecutable()!, [paths.specDir], { encoding: "utf8" });
      assert.equal(r.status, 65);
      assert.equal(r.stderr, `bhyve-monitor: ${paths.specDir}/monitor.conf: owner_file: missing or not an absolute path\n`);
      assert.ok(!existsSync(join(paths.runDir, "monitor.pid")), "nothing was started");
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
  test("every monitor.conf key is required: a missing one is refused by name (the agent's settings are the only defaults)", () => {
    const base = mkdtempSync(join(tmpdir(), "cdktf-bhyve-spec-"));
    try {
      const paths = { root: "/", specDir: join(base, "spec"), runDir: join(base, "run"), logFile: join(base, "g.log") };
      const whole = renderMonitorSpec(uefiGuest("g"), paths, { ...TEST_POLICY, restart: "on-reboot" })["monitor.conf"]!.toString();
      for (const key of ["stop_timeout_ms", "kill_timeout_ms", "helper_timeout_ms", "backoff_initial_ms", "backoff_max_ms", "crash_limit", "crash_window_s", "log_max_bytes", "console_log_max", "console_device", "console_log", "console_socket"]) {
        assert.match(whole, new RegExp(`^${key}=\\S+$`, "m"), `the agent writes ${key}`);
        const files = renderMonitorSpec(uefiGuest("g"), paths, { ...TEST_POLICY, restart: "on-reboot" });
        files["monitor.conf"] = Buffer.from(whole.replace(new RegExp(`^${key}=.*\\n`, "m"), ""));
        writeMonitorSpec(paths, files);
        const r = spawnSync(monitorExecutable()!, [paths.specDir], { encoding: "utf8" });
        assert.equal(r.status, 65, key);
        assert.equal(r.stderr, `bhyve-monitor: ${paths.specDir}/monitor.conf: ${key}: missing\n`);
        assert.ok(!existsSync(join(paths.runDir, "monitor.pid")), "nothing was started");
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("the monitor's pure parts, compiled with their checks", () => {
  const cc = ["/usr/bin/cc", "/usr/local/bin/cc"].find((p) => existsSync(p));
  /** Compiles test/native/NAME.c and runs it: it prints "ok", or each failed check. */
  const check = (name: string): void => {
    const dir = mkdtempSync(join(tmpdir(), `cdktf-bhyve-${name}-`));
    try {
      const exe = join(dir, name);
      const built = spawnSync(cc!, ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-o", exe, fileURLToPath(new URL(`./${name}.c`, import.meta.url))], { encoding: "utf8" });
      assert.equal(built.status, 0, built.stderr);
      const r = spawnSync(exe, [], { encoding: "utf8" });
      assert.equal(r.stdout, "ok\n");
      assert.equal(r.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  test("poll timeouts are never negative, sums and doublings saturate", { skip: !cc && "no C compiler" }, () => check("deadline-check"));
  test("decide: bhyve(8)'s exit codes against the restart policy, and the backoff", { skip: !cc && "no C compiler" }, () => check("decide-check"));
});
