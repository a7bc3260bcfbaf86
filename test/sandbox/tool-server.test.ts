/**
 * The sandbox's tool server and its client: a tool run handed to the server prints, counts and
 * exits as the tool run in a node of its own; bhyve is never served (its VM is its process); the
 * server runs only the tools of the roots it serves, and ends when the process that started it goes.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createSandbox, defaultToolClient, defaultToolScript, destroySandbox } from "../../sandbox/host.js";
import { TOOL_CALLS_FILE, TOOL_PATHS, type ToolName } from "../../sandbox/tool-paths.js";
import { startToolServer, TOOL_SOCKET, type ToolServer } from "../../sandbox/tool-server.js";
import { FW, TestSandbox } from "../support/sandbox.js";

const client = defaultToolClient();

describe("the sandbox tool server", { skip: client ? false : "the tool client was not built (npm install builds it)" }, () => {
  const dirs: string[] = [];
  const servers: ToolServer[] = [];
  const boxes: TestSandbox[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const b of boxes) await b.destroy();
    for (const d of dirs) {
      await destroySandbox(join(d, "host")).catch(() => {});
      rmSync(d, { recursive: true, force: true });
    }
  });

  /** A sandbox whose tools run a copy of the simulator bundle, so that removing the copy shows which runs needed it. */
  const withOwnBundle = (): { root: string; script: string } => {
    const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-tools-"));
    dirs.push(dir);
    const script = join(dir, "sandbox-tool.mjs");
    copyFileSync(defaultToolScript(), script);
    const root = join(dir, "host");
    createSandbox(root, "intel-vtd", { toolScript: script });
    return { root, script };
  };
  const run = (root: string, tool: ToolName, args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(join(root, TOOL_PATHS[tool]), args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test("a served run prints, fails and counts as a run in a node of its own, BLOCKSIZE included", async () => {
    const { root, script } = withOwnBundle();
    assert.match(readFileSync(join(root, TOOL_PATHS.sysctl), "utf8"), new RegExp(`^#!${client} `));
    const cases: Array<[ToolName, string[], Record<string, string>?]> = [
      ["sysctl", ["-n", "hw.ncpu", "hw.physmem"]],
      ["sysctl", ["-n", "no.such.oid"]],
      ["pciconf", ["-l"]],
      ["swapctl", ["-l"], { BLOCKSIZE: "1K" }],
      ["swapctl", ["-l"], { BLOCKSIZE: "1G" }],
      ["ifconfig", ["-Z"]],
    ];
    const alone = cases.map(([t, a, e]) => run(root, t, a, e));
    assert.notEqual(alone[1]!.status, 0);
    assert.notEqual(alone[3]!.stdout, alone[4]!.stdout, "BLOCKSIZE changes swapctl's units");
    const server = await startToolServer([root], process.execPath, script);
    servers.push(server);
    assert.equal(server.serving, 1);
    assert.ok(existsSync(join(root, TOOL_SOCKET)));
    // With the bundle gone, only the server can run a tool: every case still answers the same.
    rmSync(script);
    const before = readFileSync(join(root, TOOL_CALLS_FILE), "utf8").split("\n").length;
    assert.deepEqual(cases.map(([t, a, e]) => run(root, t, a, e)), alone);
    assert.equal(readFileSync(join(root, TOOL_CALLS_FILE), "utf8").split("\n").length - before, cases.length, "each served run is counted");
    await server.stop();
    assert.ok(!existsSync(join(root, TOOL_SOCKET)), "the socket goes with the server");
    const fallback = run(root, "sysctl", ["-n", "hw.ncpu"]);
    assert.notEqual(fallback.status, 0, "without the server the tool runs the (removed) bundle itself");
  });

  test("bhyve is never served: the VM's process is the one that was started", async () => {
    const b = new TestSandbox("intel-vtd");
    boxes.push(b);
    await b.serveTools();
    const { child, exit } = b.start("bhyve", ["-c", "1", "-m", "256M", "-l", `bootrom,${FW}`, "-s", "0,hostbridge", "-s", "31,lpc", "vmsrv"]);
    await b.waitRunning("vmsrv");
    assert.equal(b.machine().vms.vmsrv!.process!.pid, child.pid);
    assert.equal(b.run("bhyvectl", ["--vm=vmsrv", "--force-poweroff"]).status, 0);
    assert.equal((await exit).code, 1, "powered off: bhyve exits 1");
  });

  test("a tool path outside the roots it serves is refused (exit 64), nothing run", async () => {
    const b = new TestSandbox("intel-vtd");
    boxes.push(b);
    await b.serveTools();
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const sock = connect(join(b.root, TOOL_SOCKET));
      const chunks: Buffer[] = [];
      sock.on("data", (d: Buffer) => chunks.push(d)).on("end", () => resolve(Buffer.concat(chunks))).on("error", reject);
      const body = Buffer.from("\0/tmp/elsewhere/sbin/sysctl\0-a\0");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      sock.write(Buffer.concat([len, body]));
    });
    assert.equal(answer.subarray(0, 1).toString(), "e");
    assert.match(answer.toString("utf8"), /not in a sandbox root this server serves/);
    const x = answer.subarray(answer.length - 9);
    assert.equal(x.subarray(0, 1).toString(), "x");
    assert.equal(x.readUInt32BE(5), 64);
  });

  test("the server ends when the process that started it goes (its stdin closes), removing its socket", async () => {
    const { root } = withOwnBundle();
    const child = spawn(process.execPath, [defaultToolScript(), "--serve", root], { stdio: ["pipe", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout!.on("data", (d: Buffer) => d.toString().startsWith("ready") && resolve()));
    assert.ok(existsSync(join(root, TOOL_SOCKET)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.stdin!.end();
    assert.equal(await exited, 0);
    assert.ok(!existsSync(join(root, TOOL_SOCKET)));
  });
});
