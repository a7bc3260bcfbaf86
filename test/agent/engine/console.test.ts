/** A guest's serial console on a sandbox host: nmdm B side held by its monitor, logged, attachable; ~. detaches. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import { guestAction } from "../../../sandbox/host.js";
import { connectConsole, relayConsole } from "../../../agent/guests/console.js";
import { readGuest } from "../../../agent/guests/lifecycle.js";
import { consoleSocket } from "../../../agent/guests/monitor-spec.js";
import { AgentHost, FW, until } from "../../support/agent-host.js";

const guest = (extra: Record<string, unknown> = {}) => ({ name: "con1", cpus: 1, memory: "512M", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], restart: "always", ...extra });

describe("the serial console", () => {
  const h = new AgentHost("intel-vtd");
  after(() => h.destroy());
  const logFile = () => join(h.paths.guestLogDir("con1"), "console.log");
  const log = () => (existsSync(logFile()) ? readFileSync(logFile(), "latin1") : "");

  test("bhyve gets com1 on the nmdm A side; the monitor holds B and logs the boot transcript, which names the VM", async () => {
    assert.deepEqual((await h.apply({ guests: [guest()] })).refused, []);
    const argv = readGuest(h.paths, "con1").argv!;
    assert.equal(argv[argv.indexOf("com1,/dev/nmdm-con1.1A") - 1], "-l");
    await until(() => log().includes("login: "), "the login prompt in the console log");
    assert.match(log(), /FreeBSD\/amd64 \(con1\.sandbox\) \(ttyu0\)/);
    assert.equal(h.cli(["console", "con1", "--log"]).stdout, log());
  });

  test("attach: what is typed reaches the guest and its echo comes back to every client and the log; ~. detaches", async () => {
    const sock = await connectConsole(consoleSocket({ runDir: h.paths.guestRunDir("con1") }), "con1");
    const watcher = await connectConsole(consoleSocket({ runDir: h.paths.guestRunDir("con1") }), "con1");
    let seen = "";
    watcher.on("data", (d: Buffer) => (seen += d.toString("latin1")));
    const input = new PassThrough();
    const output = new PassThrough();
    let got = "";
    output.on("data", (d: Buffer) => (got += d.toString("latin1")));
    const relay = relayConsole(sock, input, output);
    input.write("root\r");
    await until(() => got.includes("root") && got.includes("Password:"), "the guest's echo and its answer");
    await until(() => seen.includes("Password:"), "the second client sees it too");
    // "~~" sends one "~"; "~." at the start of a line detaches without sending anything.
    input.write("~~x\r~.");
    assert.equal(await relay, "detached");
    await until(() => log().includes("~x"), "the ~~ reached the guest as one ~");
    assert.ok(!log().includes("~."));
    watcher.destroy();
  });

  test("the console survives a guest restart: the new bhyve's transcript is logged too", async () => {
    const before = (log().match(/\(ttyu0\)/g) ?? []).length;
    const restarts = readGuest(h.paths, "con1").restarts;
    await guestAction(h.root, "con1", "reboot");
    await until(() => readGuest(h.paths, "con1").restarts > restarts, "restarted");
    await until(() => (log().match(/\(ttyu0\)/g) ?? []).length > before, "a second boot transcript");
  });

  test("console: false: no com1, no socket; attaching says so", async () => {
    await h.apply({ guests: [guest({ console: false })] });
    await until(() => !(readGuest(h.paths, "con1").argv ?? []).join(" ").includes("com1") && h.machine().vms.con1?.process != null, "restarted without a console");
    assert.ok(!existsSync(consoleSocket({ runDir: h.paths.guestRunDir("con1") })));
    const r = h.cli(["console", "con1"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /guest con1 has no console to attach to/);
  });
});
