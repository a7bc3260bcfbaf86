import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { repoPath } from "../../helpers.js";
import { checkDocumentData, documentHash } from "../../../agent/spec/index.js";
import { AgentHost, FW, until } from "../agent-helpers.js";

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

  test("host.configure, ppt.put (live) and ppt.get", async () => {
    const c = await s.ok("host.configure", { host: { vmm_load: true } });
    assert.deepEqual(c.changed.map((x: { what: string }) => x.what), ["loader.conf", "vmm.ko"]);
    const put = await s.ok("ppt.put", { reservation: { device: "pci0:4:0:1", vendor_id: "0x8086", device_id: 0x1521, bind: "live" } });
    assert.deepEqual(put.changed.map((x: { what: string }) => x.what), ["loader.conf", "ppt 4/0/1"]);
    const got = await s.ok("ppt.get", { device: "4/0/1" });
    assert.deepEqual([got.reserved, got.bound, got.driver, got.in_loader_conf, got.vendor_id, got.hardware.device_id], [true, true, "ppt0", true, 0x8086, "0x1521"]);
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
    assert.match(params.error.message, /unknown parameter\(s\) extra/);
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
