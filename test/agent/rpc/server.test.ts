import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { repoPath } from "../../support/helpers.js";
import { checkDocumentData, documentHash } from "../../../agent/model/index.js";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { AgentHost, FW, until } from "../../support/agent-host.js";
import { TOOL_CALLS_FILE } from "../../../sandbox/tool-paths.js";

/** An agent rpc process, as the SSH forced command runs it. */
class RpcSession {
  readonly child: ChildProcessWithoutNullStreams;
  private buffer = "";
  private waiters: Array<(line: string) => void> = [];
  private nextId = 1;
  readonly exited: Promise<number | null>;

  constructor(root: string) {
    this.child = spawn(process.execPath, [repoPath("dist/bhyve-agent.mjs"), "rpc", "--root", root]);
    this.child.stdout.on("data", (d: Buffer) => {
      this.buffer += d.toString();
      for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiters.shift()?.(line);
      }
    });
    this.exited = new Promise((r) => this.child.on("exit", (code) => r(code)));
  }

  /** Sends a raw line and resolves with the next answer line, parsed. */
  raw(line: string): Promise<any> {
    return new Promise((resolve) => {
      this.waiters.push((l) => resolve(JSON.parse(l)));
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Sends a line that gets no answer (a notification). */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  call(method: string, params?: unknown): Promise<any> {
    return this.raw(JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, ...(params === undefined ? {} : { params }) }));
  }

  async ok(method: string, params?: unknown): Promise<any> {
    const r = await this.call(method, params);
    if (r.error) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }
}

describe("bhyve-agent rpc: many requests on one session, each checked", () => {
  const h = new AgentHost("intel-vtd");
  let s: RpcSession;
  before(() => (s = new RpcSession(h.root)));
  after(async () => {
    s.child.kill("SIGKILL");
    await h.destroy();
  });

  test("agent.hello and host.facts", async () => {
    const hello = await s.ok("agent.hello");
    assert.equal(hello.protocol, 1);
    assert.equal(hello.root, h.root);
    assert.ok(hello.methods.includes("host.apply"));
    const facts = await s.ok("host.facts");
    assert.equal(facts.cpu.vendor, "intel");
    assert.equal(facts.vmm.loaded, false);
  });

  test("host.configure, ppt.put (live) and ppt.get; the session gathers the facts once per change to them", async () => {
    // acpidump runs once per gathering of the host's facts, and for nothing else.
    const gatherings = (): number => (existsSync(join(h.root, TOOL_CALLS_FILE)) ? readFileSync(join(h.root, TOOL_CALLS_FILE), "utf8").split("\n").filter((l) => l === "acpidump").length : 0);
    const before = gatherings();
    const c = await s.ok("host.configure", { host: { vmm_load: true } });
    assert.equal(gatherings() - before, 1, "host.configure: the session's facts, then once after vmm.ko was loaded");
    assert.deepEqual(c.changed.map((x: { what: string }) => x.what), ["loader.conf", "vmm.ko"]);
    const put = await s.ok("ppt.put", { reservation: { device: "pci0:4:0:1", vendor_id: "0x8086", device_id: 0x1521, bind: "live" } });
    assert.deepEqual(put.changed.map((x: { what: string }) => x.what), ["loader.conf", "ppt 4/0/1"]);
    const got = await s.ok("ppt.get", { device: "4/0/1" });
    assert.deepEqual([got.reserved, got.bound, got.driver, got.in_loader_conf, got.vendor_id, got.hardware.device_id], [true, true, "ppt0", true, 0x8086, "0x1521"]);
    assert.equal(gatherings() - before, 2, "ppt.put: once after the device was bound; ppt.get: none");
  });

  test("guest.put, guest.get, guest.list, guest.stop, guest.start, guest.delete", async () => {
    const put = await s.ok("guest.put", { guest: { name: "nic1", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }], restart: "always" } });
    assert.deepEqual(put.changed.map((x: { what: string; detail: string }) => [x.what, x.detail]), [["guest nic1", "created and started"]]);
    const g = await s.ok("guest.get", { name: "nic1" });
    assert.equal(g.state, "running");
    assert.ok(g.argv.includes("5:0,passthru,4/0/1"));
    assert.equal(g.desired.restart, "always");
    assert.equal(g.created_by_agent, true);
    assert.deepEqual((await s.ok("guest.list")).map((x: { name: string }) => x.name), ["nic1"]);
    const stop = await s.ok("guest.stop", { name: "nic1" });
    assert.deepEqual(stop.changed.map((x: { detail: string }) => x.detail), ["stopped"]);
    assert.equal((await s.ok("guest.get", { name: "nic1" })).state, "stopped");
    await s.ok("guest.start", { name: "nic1" });
    await until(() => h.machine().vms.nic1?.process != null, "nic1 running");
    const del = await s.ok("guest.delete", { name: "nic1" });
    assert.match(del.changed[0].detail, /deleted/);
    assert.equal((await s.ok("guest.get", { name: "nic1" })).state, "missing");
    const rel = await s.ok("ppt.delete", { device: "4/0/1" });
    assert.ok(rel.changed.some((x: { what: string; detail: string }) => x.what === "ppt 4/0/1" && x.detail === "released to igb1"));
  });

  test("switch.put, switch.get, a guest on the switch, switch.delete refused while it is used", async () => {
    const put = await s.ok("switch.put", { switch: { name: "lan", uplink: "igb0" } });
    assert.deepEqual(put.changed.map((x: { what: string }) => x.what), ["switch lan", "switch lan"]);
    const bad = await s.call("switch.put", { switch: { name: "lan", vlan: 7 } });
    assert.equal(bad.error.data.code, "E_SPEC_INVALID");
    assert.match(bad.error.message, /vlan: a VLAN is carried on an uplink/);
    await s.ok("guest.put", { guest: { name: "sw1", cpus: 1, memory: "512M", bootrom: FW, nics: [{ switch: "lan" }] } });
    const got = await s.ok("switch.get", { name: "lan" });
    assert.deepEqual([got.desired, got.bridge, got.present, got.uplink_member, got.uplink_attached, got.guests], [{ name: "lan", uplink: "igb0" }, "bridge0", true, "igb0", true, ["sw1"]]);
    assert.deepEqual((await s.ok("guest.get", { name: "sw1" })).network, [{ switch: "lan", tap: "tap0", bridge: "bridge0", on_bridge: true }]);
    const busy = await s.call("switch.delete", { name: "lan" });
    assert.match(busy.error.message, /switch lan cannot go while guests are on it: sw1/);
    await s.ok("guest.delete", { name: "sw1" });
    const del = await s.ok("switch.delete", { name: "lan" });
    assert.deepEqual(del.changed.map((x: { what: string; detail: string }) => [x.what, x.detail]), [["switch lan", "removed (bridge0 destroyed)"]]);
    assert.equal((await s.ok("switch.get", { name: "lan" })).desired, null);
  });

  test("host.apply takes a document as text or as an object", async () => {
    const text = "ppt:\n  - { device: 3/0/0, bind: boot }\nguests: []\n";
    const r = await s.ok("host.apply", { document: text });
    assert.equal(r.reboot_required, true);
    assert.deepEqual(r.pending.map((x: { what: string }) => x.what), ["ppt 3/0/0"]);
    const again = await s.ok("host.apply", { document: { ppt: [{ device: "3/0/0", bind: "boot" }] } });
    assert.deepEqual(again.changed, []);
    const st = await s.ok("host.status");
    assert.equal(st.reboot_required, true);
    // host.document hands back the whole stored state, canonical, with the hash push mode triggers on.
    const doc = await s.ok("host.document");
    assert.deepEqual(doc.document.ppt, [{ device: "3/0/0", bind: "boot" }]);
    assert.deepEqual(doc.document.guests, []);
    const checked = checkDocumentData(doc.document);
    assert.ok(checked.ok);
    assert.equal(doc.sha256, documentHash(checked.state));
  });

  test("errors have a stable code and say what to do; the session goes on", async () => {
    const bad = await s.call("guest.put", { guest: { name: "x y", cpus: 0, memory: "1G" } });
    assert.equal(bad.error.code, -32602);
    assert.equal(bad.error.data.code, "E_SPEC_INVALID");
    assert.deepEqual(bad.error.data.problems.map((p: { path: string }) => p.path), ["name", "cpus", "disks"]);
    const unknown = await s.call("guest.explode");
    assert.deepEqual([unknown.error.code, unknown.error.data.code], [-32601, "E_NO_METHOD"]);
    const params = await s.call("ppt.get", { device: "3/0/0", extra: 1 });
    assert.deepEqual([params.error.code, params.error.data.code], [-32602, "E_INVALID_PARAMS"]);
    assert.match(params.error.message, /unknown parameter\(s\) "extra"/);
    const parse = await s.raw("{not json");
    assert.deepEqual([parse.id, parse.error.code, parse.error.data.code], [null, -32700, "E_PARSE"]);
    const req = await s.raw(JSON.stringify({ id: 9, method: "agent.hello" }));
    assert.deepEqual([req.id, req.error.data.code], [9, "E_INVALID_REQUEST"]);
    const mismatch = await s.call("ppt.put", { reservation: { device: "4/0/0", vendor_id: "0x10de" } });
    assert.equal(mismatch.error.data.code, "E_SPEC_INVALID");
    assert.equal(mismatch.error.message, "reservation.vendor_id: expected 0x10de, but the device at 4/0/0 has 0x8086");
    const huge = await s.raw(JSON.stringify({ jsonrpc: "2.0", id: 10, method: "host.apply", params: { document: "#".repeat(5 * 1024 * 1024) } }));
    assert.equal(huge.error.data.code, "E_TOO_LARGE");
    const hello = await s.ok("agent.hello");
    assert.equal(hello.protocol, 1, "still answering after all of that");
  });

  test("the session ends at EOF with exit 0", async () => {
    assert.equal(await s.end(), 0);
  });
});

describe("bhyve-agent rpc: dispatch and names from a hostile client", () => {
  const h = new AgentHost("intel-vtd");
  let s: RpcSession;
  before(() => (s = new RpcSession(h.root)));
  after(async () => {
    s.child.kill("SIGKILL");
    await h.destroy();
  });

  test("inherited property names are unknown methods (-32601), never answered or crashed", async () => {
    for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__", "__defineGetter__", "isPrototypeOf"]) {
      const r = await s.call(name);
      assert.deepEqual([r.error?.code, r.error?.data?.code], [-32601, "E_NO_METHOD"], name);
      assert.doesNotMatch(r.error.message, /at |\.ts|\.mjs/, "no stack");
    }
  });

  test("notifications (no id) get no answer; bad ids are invalid requests", async () => {
    s.send(JSON.stringify({ jsonrpc: "2.0", method: "agent.hello" }));
    s.send(JSON.stringify({ jsonrpc: "2.0", method: "no.such.method" }));
    s.send(JSON.stringify({ jsonrpc: "2.0", method: "guest.get", params: { name: "../x" } }));
    const next = await s.call("agent.hello");
    assert.equal(typeof next.id, "number", "the next answer is the call's own");
    assert.equal(next.result.protocol, 1);
    const obj = await s.raw(JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "agent.hello" }));
    assert.deepEqual([obj.id, obj.error.data.code], [null, "E_INVALID_REQUEST"]);
    const arr = await s.raw("[1,2]");
    assert.deepEqual([arr.id, arr.error.data.code], [null, "E_INVALID_REQUEST"]);
  });

  test("guest names and devices are checked as guest.put and ppt.put check them, by every method", async () => {
    const outside = join(h.root, "..", "outside");
    mkdirSync(outside, { recursive: true });
    for (const method of ["guest.get", "guest.delete", "guest.start", "guest.stop"]) {
      for (const name of ["../../../../etc/passwd", "../outside", "a/b", ".hidden", "x".repeat(100_000), "nul\u0000byte", "", 7]) {
        const r = await s.call(method, { name });
        assert.equal(r.error?.data?.code, "E_SPEC_INVALID", `${method} ${JSON.stringify(String(name).slice(0, 20))}`);
        assert.equal(r.error.data.problems[0].path, "name");
        assert.ok(r.error.message.length < 300, "the message quotes a long name cut short");
        assert.ok(!r.error.message.includes(h.root), "no host path in the answer");
      }
    }
    for (const method of ["ppt.get", "ppt.delete"]) {
      for (const device of ["../../x", "9/99/9", "x".repeat(100_000), "3/0/0\u0000", "pci1:3:0:0"]) {
        const r = await s.call(method, { device });
        assert.equal(r.error?.data?.code, "E_SPEC_INVALID", `${method} ${device.slice(0, 20)}`);
        assert.equal(r.error.data.problems[0].path, "device");
        assert.ok(r.error.message.length < 300);
      }
    }
  });

  test("a blank or null document is refused (E_EMPTY_DOCUMENT), an explicit empty state is not; deep nesting is refused cleanly", async () => {
    await s.ok("host.apply", { document: { guests: [{ name: "keep", cpus: 1, memory: "512M", bootrom: FW }] } });
    for (const document of ["", "   \n\t\n", "# a comment only\n", "null", "~", {}, "{}"]) {
      const r = await s.call("host.apply", { document });
      assert.equal(r.error?.data?.code, "E_EMPTY_DOCUMENT", JSON.stringify(document));
      assert.match(r.error.message, /guests: \[\]/, "it says how to ask for no guests");
    }
    assert.ok(h.machine().vms.keep, "the guest was not removed");
    const deep = await s.raw(`{"jsonrpc":"2.0","id":5,"method":"host.apply","params":{"document":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`);
    assert.equal(deep.error?.data?.code, "E_TOO_DEEP");
    const deepYaml = await s.call("host.apply", { document: `guests: ${"[".repeat(5000)}${"]".repeat(5000)}\n` });
    assert.equal(deepYaml.error?.data?.code, "E_TOO_DEEP");
    const none = await s.ok("host.apply", { document: "guests: []\n" });
    assert.deepEqual(none.changed.map((c: { what: string }) => c.what), ["guest keep"], "an explicit empty state still removes the guests");
  });

  test("a change request is on the audit log before it is made, and refused when the log cannot be written", async () => {
    const log = join(h.paths.logDir, "audit.log");
    await s.ok("host.configure", { host: { vmm_load: true } });
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const last2 = lines.slice(-2);
    assert.equal(last2[0].outcome, "pending", "the request line comes first");
    assert.deepEqual(Object.keys(last2[0].request).sort(), ["bytes", "sha256"]);
    assert.equal(last2[1].id, last2[0].id);
    assert.equal(last2[1].outcome, "ok");
    assert.deepEqual(last2[1].request, { host: { vmm_load: true } }, "a change carried out keeps its parameters");
    // The log cannot be written: the change is refused and nothing happens.
    const conf = readFileSync(h.paths.loaderConf, "utf8");
    const saved = readFileSync(log);
    rmSync(log);
    mkdirSync(log);
    try {
      const r = await s.call("host.configure", { host: { vmm_load: false } });
      assert.equal(r.error?.data?.code, "E_AUDIT");
      assert.match(r.error.message, /nothing was changed/);
      assert.equal(readFileSync(h.paths.loaderConf, "utf8"), conf, "loader.conf untouched");
    } finally {
      rmSync(log, { recursive: true });
      mkdirSync(h.paths.logDir, { recursive: true });
      const { writeFileSync } = await import("node:fs");
      writeFileSync(log, saved);
    }
  });

  test("refused requests are recorded by size and hash, not by their parameters", async () => {
    const log = join(h.paths.logDir, "audit.log");
    const before = statSync(log).size;
    for (let i = 0; i < 20; i++) {
      const r = await s.call("guest.put", { guest: { name: "bad name", cpus: 1, memory: "1G", junk: "y".repeat(50_000) } });
      assert.equal(r.error.data.code, "E_SPEC_INVALID");
    }
    const grown = statSync(log).size - before;
    assert.ok(grown < 20 * 2000, `20 refused 50 KB requests added ${grown} bytes (their parameters would be 1 MB)`);
    const last = readFileSync(log, "utf8").trim().split("\n").slice(-2).map((l) => JSON.parse(l));
    assert.equal(last[0].request.bytes > 50_000, true);
    assert.equal(last[1].outcome, "refused");
    assert.equal(last[1].request, undefined);
  });

  test("bhyve-agent audit escapes control characters from requests", async () => {
    // Messages quote request values escaped already; the printer must hold even for a raw one
    // (an entry written by an older agent, or a message that slipped through).
    const { appendFileSync } = await import("node:fs");
    appendFileSync(join(h.paths.logDir, "audit.log"), `${JSON.stringify({ time: new Date().toISOString(), via: "ssh", client: "127.0.0.1 5\u001b]0;x\u0007", key: null, method: "guest.put", request: { bytes: 1, sha256: "0" }, outcome: "refused", code: "E_SPEC_INVALID", message: "bootrom: /x\u001b[2J\u202e\u200b" })}\n`);
    const a = h.cli(["audit"]);
    assert.equal(a.status, 0, a.stderr);
    assert.doesNotMatch(a.stdout, /[\u0000-\u0008\u000b-\u001f\u007f\u202e\u200b]/, "no raw control, bidi or zero-width characters");
    assert.match(a.stdout, /\\x1b\[2J\\u202e\\u200b/, "shown escaped");
    assert.match(a.stdout, /127\.0\.0\.1 5\\x1b\]0;x\\x07/);
  });

});
