/**
 * A guest's serial console over the deploy key, behind the real sshd: `cdktf-bhyve console` attaches
 * through the agent's guest.console (no shell), what is typed reaches the guest and its answer comes
 * back, `~.` detaches; `--log` prints the boot transcript; a guest without a console is refused by
 * name; each attach is on record in the audit log.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AgentConnection } from "../../provider/ssh/agent-client.js";
import { FW } from "../support/sandbox.js";
import { until } from "../support/agent-host.js";
import { prerequisite, repoPath } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";
import { freePortIn, rfbHandshake } from "../support/rfb-client.js";

const skip = sshdSkipReason();

describe("the serial console over the deploy key", prerequisite("the serial console over the deploy key", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let vncPort = 0;
  const cli = (args: string[]) => {
    const child = spawn(process.execPath, [repoPath("dist/cdktf-bhyve.mjs"), ...args, "--host-key", host.hostKeyFingerprint, "--ssh-user", fleet.account.user, "--ssh-key-file", fleet.keyFile], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("latin1")));
    const done = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, out: () => stdout, err: () => stderr, done };
  };

  before(async () => {
    [host] = (await fleet.start([{ name: "con", profile: "intel-vtd" }], 51)) as [SshdHost];
    const conn = new AgentConnection(host.address, host.hostKeyFingerprint, { auth: { user: fleet.account.user, privateKey: readFileSync(fleet.keyFile, "utf8") }, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 });
    try {
      const guest = (name: string, extra: Record<string, unknown> = {}) => ({ name, cpus: 1, memory: "512M", bootrom: FW, disks: [{ path: `/dev/zvol/zroot/vm/${{ tty1: "web1", quiet: "db1" }[name] ?? "disk0"}` }], ...extra });
      vncPort = await freePortIn(5975, 5999);
      await conn.call("host.apply", { document: { guests: [guest("tty1"), guest("quiet", { console: false }), guest("desk", { framebuffer: { width: 1280, height: 720, port: vncPort } })] } });
    } finally {
      conn.close();
    }
    await until(() => ["tty1", "quiet", "desk"].every((n) => host.sandbox.machine().vms[n]?.process != null), "the guests running");
  });
  after(async () => {
    await fleet.stop();
  });

  test("--log prints what the guest printed, naming the VM", async () => {
    await until(() => host.sandbox.cli(["console", "tty1", "--log"]).stdout.includes("login: "), "the login prompt logged");
    const r = cli(["console", host.address, "tty1", "--log"]);
    assert.equal(await r.done, 0, r.err());
    assert.match(r.out(), /FreeBSD\/amd64 \(tty1\.sandbox\) \(ttyu0\)/);
  });

  test("attach: typed text reaches the guest and its answer comes back; ~. detaches; the attach is audited", async () => {
    const r = cli(["console", host.address, "tty1"]);
    await until(() => r.err().includes("~. detaches"), "attached");
    r.child.stdin.write("root\r");
    await until(() => r.out().includes("root") && r.out().includes("Password:"), `the guest's echo and answer (got ${JSON.stringify(r.out())})`);
    r.child.stdin.write("~.");
    assert.equal(await r.done, 0, r.err());
    assert.match(r.err(), /\[detached\]/);
    const audit = JSON.parse(host.sandbox.cli(["audit", "--json"]).stdout) as Array<{ method: string; outcome?: string }>;
    assert.ok(audit.some((e) => e.method === "guest.console"), JSON.stringify(audit.map((e) => e.method)));
  });

  test("a guest without a console, and one that does not exist, are refused by name", async () => {
    const quiet = cli(["console", host.address, "quiet"]);
    assert.equal(await quiet.done, 1);
    assert.match(quiet.err(), /guest quiet has no console \(console: false\)/);
    const none = cli(["console", host.address, "nosuch"]);
    assert.equal(await none.done, 1);
    assert.match(none.err(), /there is no guest nosuch/);
  });

  test("vnc: the guest's framebuffer on this machine's loopback through the deploy key; each viewer gets the RFB stream; audited", async () => {
    const r = cli(["vnc", host.address, "desk", "--listen", "127.0.0.1:0"]);
    try {
      await until(() => /point a VNC viewer at 127\.0\.0\.1:\d+/.test(r.err()) || r.child.exitCode !== null, "listening");
      const local = Number(/127\.0\.0\.1:(\d+)/.exec(r.err())?.[1]);
      assert.ok(local > 0 && local !== vncPort, r.err());
      for (let i = 0; i < 2; i++) {
        const s = await rfbHandshake("127.0.0.1", local);
        s.close();
        assert.deepEqual([s.version, s.width, s.height, s.name], ["RFB 003.008\n", 1280, 720, "bhyve"], `viewer ${i + 1}`);
      }
    } finally {
      r.child.kill("SIGINT");
    }
    assert.equal(await r.done, 0, r.err());
    const audit = JSON.parse(host.sandbox.cli(["audit", "--json"]).stdout) as Array<{ method: string }>;
    assert.ok(audit.some((e) => e.method === "guest.vnc"), JSON.stringify(audit.map((e) => e.method)));
  });

  test("vnc refuses by name: a guest without a framebuffer, one that does not exist, and a --listen off loopback", async () => {
    const none = cli(["vnc", host.address, "tty1"]);
    assert.equal(await none.done, 1);
    assert.match(none.err(), /guest tty1 has no framebuffer/);
    const missing = cli(["vnc", host.address, "nosuch"]);
    assert.equal(await missing.done, 1);
    assert.match(missing.err(), /there is no guest nosuch/);
    const open = cli(["vnc", host.address, "desk", "--listen", "0.0.0.0:5999"]);
    assert.equal(await open.done, 64);
    assert.match(open.err(), /--listen 0\.0\.0\.0 is not on loopback/);
  });
});
