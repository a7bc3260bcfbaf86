import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { AgentCallError, AgentConnection, fingerprint, parseAddress } from "../../../provider/ssh/agent-client.js";
import { serveSandboxOverSsh } from "../../../agent/sandbox/ssh-gateway.js";
import { sshHost, sshKeyPair, type SshHost } from "../tf-helpers.js";

const user = sshKeyPair();
const opts = (over: Partial<{ privateKey: string; connectTimeoutMs: number; commandTimeoutMs: number }> = {}) => ({
  auth: { user: "root", privateKey: over.privateKey ?? user.privateKey },
  connectTimeoutMs: over.connectTimeoutMs ?? 5000,
  commandTimeoutMs: over.commandTimeoutMs ?? 30_000,
});
const code = (c: string) => (e: unknown) => e instanceof AgentCallError && e.code === c;

test("addresses and fingerprints", () => {
  assert.deepEqual(parseAddress("10.0.0.5"), { host: "10.0.0.5", port: 22 });
  assert.deepEqual(parseAddress("127.0.1.3:2222"), { host: "127.0.1.3", port: 2222 });
  assert.deepEqual(parseAddress("[::1]:2200"), { host: "::1", port: 2200 });
  assert.throws(() => parseAddress("a b"), code("E_ADDRESS"));
  assert.equal(fingerprint(Buffer.from("x")), "SHA256:LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE");
});

describe("the agent client against a sandbox host over SSH", () => {
  let h: SshHost;
  before(async () => (h = await sshHost("intel-vtd", user.publicKey, "127.0.1.2")));
  after(async () => {
    await h.gateway.close();
    await h.host.destroy();
  });

  test("many calls on one connection and one agent process; protocol checked by hello", async () => {
    const c = new AgentConnection(h.gateway.address, h.gateway.hostKeyFingerprint, opts());
    const facts = await c.call<{ cpu: { vendor: string } }>("host.facts");
    assert.equal(facts.cpu.vendor, "intel");
    for (let i = 0; i < 5; i++) await c.call("host.status");
    await Promise.all([c.call("guest.list"), c.call("ppt.get", { device: "3/0/0" }), c.call("host.get")]);
    assert.equal(c.connects, 1);
    assert.equal(h.gateway.agentStarts, 1);
    assert.equal(c.hello!.protocol, 1);
    await assert.rejects(c.call("ppt.get", { device: "nope" }), (e: unknown) => e instanceof AgentCallError && e.code === "E_SPEC_INVALID" && e.problems![0]!.path === "device");
    c.close();
  });

  test("a wrong pinned key is refused before login, and the error shows the key offered", async () => {
    const wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const c = new AgentConnection(h.gateway.address, wrong, opts());
    const starts = h.gateway.agentStarts;
    await assert.rejects(c.call("host.facts"), (e: unknown) => {
      assert.ok(e instanceof AgentCallError);
      assert.equal(e.code, "E_HOST_KEY");
      assert.ok(e.message.includes(`the host offered ${h.gateway.hostKeyFingerprint} (ssh-ed25519)`), e.message);
      assert.ok(e.message.includes(`expected ${wrong}`));
      return true;
    });
    assert.equal(h.gateway.agentStarts, starts, "no agent ran");
  });

  test("a key the host does not accept", async () => {
    const c = new AgentConnection(h.gateway.address, h.gateway.hostKeyFingerprint, opts({ privateKey: sshKeyPair().privateKey }));
    await assert.rejects(c.call("host.facts"), code("E_AUTH"));
  });

  test("a dropped connection fails the call in flight; the next call reconnects", async () => {
    const c = new AgentConnection(h.gateway.address, h.gateway.hostKeyFingerprint, opts());
    await c.call("agent.hello");
    const inflight = c.call("host.apply", { document: { guests: [{ name: "slow", cpus: 1, memory: "256M", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd" }] } });
    await new Promise((r) => setTimeout(r, 300));
    const ps = execFileSync("/bin/ps", ["-eo", "pid=,args="], { encoding: "utf8" });
    const agent = ps.split("\n").find((l) => l.includes(`rpc --root ${h.host.root}`));
    assert.ok(agent, "the agent process is there");
    process.kill(Number(agent.trim().split(/\s+/)[0]), "SIGKILL");
    await assert.rejects(inflight, (e: unknown) => e instanceof AgentCallError && e.code === "E_DISCONNECTED" && /lost during host\.apply/.test(e.message));
    const again = await c.call<{ protocol: number }>("agent.hello");
    assert.equal(again.protocol, 1);
    assert.equal(c.connects, 2);
    c.close();
  });
});

describe("hosts that do not answer, and agents that speak another protocol", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  before(() => new Promise<void>((r) => {
    silent = createServer((s) => void sockets.push(s)); // accepts and never says a word
    silent.listen(0, "127.0.0.1", () => r());
  }));
  after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    silent.close(() => r());
  }));

  test("a clear timeout naming the setting", async () => {
    const c = new AgentConnection(`127.0.0.1:${(silent.address() as { port: number }).port}`, "SHA256:x", opts({ connectTimeoutMs: 700 }));
    const t0 = Date.now();
    await assert.rejects(c.call("host.facts"), (e: unknown) => e instanceof AgentCallError && e.code === "E_CONNECT_TIMEOUT" && /did not answer within 1 s \(connect_timeout\)/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);
  });

  test("a protocol mismatch names both sides and what to install", async () => {
    const fake = "process.stdin.on('data', d => { for (const l of d.toString().split('\\n').filter(Boolean)) { const r = JSON.parse(l); process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: { version: '9.0.0', protocol: 2, root: '/' } }) + '\\n'); } })";
    const gw = await serveSandboxOverSsh("/nonexistent", { authorizedKey: user.publicKey, agentArgv: [process.execPath, "-e", fake] });
    try {
      const c = new AgentConnection(gw.address, gw.hostKeyFingerprint, opts());
      await assert.rejects(c.call("host.facts"), (e: unknown) => e instanceof AgentCallError && e.code === "E_PROTOCOL" && /speaks protocol 2 \(bhyve-agent 9\.0\.0\); this provider speaks protocol 1/.test(e.message));
    } finally {
      await gw.close();
    }
  });

  test("the gateway refuses to listen off loopback", async () => {
    await assert.rejects(serveSandboxOverSsh("/x", { host: "0.0.0.0", authorizedKey: user.publicKey, agentArgv: [] }), /loopback only/);
  });
});
