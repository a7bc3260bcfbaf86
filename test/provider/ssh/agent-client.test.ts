import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { AgentCallError, AgentConnection, AgentRpc, fingerprint, parseAddress } from "../../../provider/ssh/agent-client.js";
import { serveSandboxOverSsh } from "../../../sandbox/ssh-gateway.js";
import { sshHost, sshKeyPair, type SshHost } from "../../support/terraform.js";
import { until } from "../../support/agent-host.js";

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
    const facts = await c.call("host.facts");
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
    const again = await c.call("agent.hello");
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

/** An AgentRpc whose requests are kept, and the bytes that answer request `id` with `result`. */
function rpcUnderTest() {
  const sent: Array<{ id: number; method: string }> = [];
  const broken: AgentCallError[] = [];
  const rpc = new AgentRpc("h:22", (line) => void sent.push(JSON.parse(line)), (e) => void broken.push(e));
  const answer = (id: number, result: unknown) => Buffer.from(`${JSON.stringify({ jsonrpc: "2.0", id, result })}\n`);
  return { rpc, sent, broken, answer };
}

describe("the agent's answers as a byte stream (AgentRpc)", () => {
  const TEXT = "héllo € 𝄞";

  test("an answer split anywhere, even inside a UTF-8 character, arrives whole", async () => {
    const { rpc, sent, answer } = rpcUnderTest();
    const call = rpc.call<string>("host.get", {}, 60_000);
    const bytes = answer(sent[0]!.id, TEXT);
    for (let i = 0; i < bytes.length; i++) rpc.receive(bytes.subarray(i, i + 1));
    assert.equal(await call, TEXT);
  });

  test("several answers in one chunk, and one answer over chunks cut in the middle of € and 𝄞", async () => {
    const { rpc, sent, answer } = rpcUnderTest();
    const calls = [1, 2, 3].map(() => rpc.call<string>("guest.list", {}, 60_000));
    const all = Buffer.concat([answer(sent[0]!.id, "a"), answer(sent[1]!.id, "b"), answer(sent[2]!.id, TEXT)]);
    const euro = all.indexOf(Buffer.from("€"));
    const clef = all.indexOf(Buffer.from("𝄞"));
    rpc.receive(all.subarray(0, euro + 1));
    rpc.receive(all.subarray(euro + 1, clef + 2));
    rpc.receive(all.subarray(clef + 2));
    assert.deepEqual(await Promise.all(calls), ["a", "b", TEXT]);
    assert.equal(rpc.inFlight, 0);
  });

  test("a line that is not JSON fails every call in flight with E_PROTOCOL, quoting it, and breaks the connection", async () => {
    const { rpc, broken } = rpcUnderTest();
    const calls = [rpc.call("host.apply", {}, 60_000), rpc.call("host.get", {}, 60_000)];
    rpc.receive(Buffer.from("Welcome to FreeBSD!\n"));
    for (const [i, method] of ["host.apply", "host.get"].entries()) {
      await assert.rejects(calls[i]!, (e: unknown) => {
        assert.ok(e instanceof AgentCallError);
        assert.equal(e.code, "E_PROTOCOL");
        assert.match(e.message, /the agent on h:22 sent a line that is not JSON: "Welcome to FreeBSD!"/);
        assert.match(e.message, new RegExp(`${method.replace(".", "\\.")} was in flight`));
        return true;
      });
    }
    assert.equal(broken.length, 1, "the owner is told once");
    assert.equal(broken[0]!.code, "E_PROTOCOL");
    await assert.rejects(rpc.call("host.get", {}, 60_000), code("E_PROTOCOL"), "a broken stream takes no more calls");
  });

  test("an answer to an id never sent, an answer given twice, bytes that are not UTF-8, and JSON that is no answer are E_PROTOCOL", async () => {
    const bad: Array<[string, (r: ReturnType<typeof rpcUnderTest>) => Buffer, RegExp]> = [
      ["unknown id", (r) => r.answer(r.sent[0]!.id + 40, "x"), /answered a request this client did not send or already had an answer to \(id 41\)/],
      ["string id", () => Buffer.from('{"jsonrpc":"2.0","id":"1","result":1}\n'), /\(id "1"\)/],
      ["no id", () => Buffer.from('{"jsonrpc":"2.0","result":1}\n'), /\(id missing\)/],
      ["twice", (r) => Buffer.concat([r.answer(r.sent[0]!.id, "x"), r.answer(r.sent[0]!.id, "y")]), /\(id 1\)/],
      ["not UTF-8", () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), /not UTF-8 \(4 bytes\)/],
      ["a number", () => Buffer.from("42\n"), /sent "42" where a JSON-RPC answer was expected/],
      ["neither result nor error", (r) => Buffer.from(`{"jsonrpc":"2.0","id":${r.sent[0]!.id}}\n`), /answered host\.get with neither a result nor an error/],
    ];
    for (const [what, bytes, message] of bad) {
      const r = rpcUnderTest();
      const first = r.rpc.call("host.get", {}, 60_000).catch((e: unknown) => e);
      const second = r.rpc.call("host.get", {}, 60_000);
      r.rpc.receive(bytes(r));
      await assert.rejects(second, (e: unknown) => e instanceof AgentCallError && e.code === "E_PROTOCOL" && message.test(e.message), what);
      await first;
      assert.equal(r.broken.length, 1, what);
    }
  });

  test("a late answer to a call that timed out is dropped, not an error; the agent's own errors keep their code", async () => {
    const { rpc, sent, broken, answer } = rpcUnderTest();
    await assert.rejects(rpc.call("host.apply", {}, 1), code("E_TIMEOUT"));
    const next = rpc.call("ppt.get", {}, 60_000);
    rpc.receive(Buffer.concat([answer(sent[0]!.id, "late"), Buffer.from(`${JSON.stringify({ jsonrpc: "2.0", id: sent[1]!.id, error: { code: -32602, message: "device: nope", data: { code: "E_SPEC_INVALID", problems: [{ path: "device", message: "nope" }] } } })}\r\n\n`)]));
    await assert.rejects(next, (e: unknown) => e instanceof AgentCallError && e.code === "E_SPEC_INVALID" && e.problems![0]!.path === "device");
    assert.deepEqual(broken, []);
    const again = rpc.call("host.get", {}, 60_000);
    rpc.receive(answer(sent[2]!.id, "fine"));
    assert.equal(await again, "fine");
  });

  test("an error the agent could not tie to a request (id null) fails the calls in flight with its code", async () => {
    const { rpc, broken } = rpcUnderTest();
    const call = rpc.call("agent.upgrade", {}, 60_000);
    rpc.receive(Buffer.from(`${JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "request line longer than 4194304 bytes", data: { code: "E_TOO_LARGE" } } })}\n`));
    await assert.rejects(call, (e: unknown) => e instanceof AgentCallError && e.code === "E_TOO_LARGE" && /could not read a request \(request line longer than 4194304 bytes\) while agent\.upgrade was in flight/.test(e.message));
    assert.equal(broken.length, 1);
  });

  test("fail() rejects every call in flight at once and refuses later ones", async () => {
    const { rpc } = rpcUnderTest();
    const calls = [rpc.call("host.apply", {}, 10 * 60_000), rpc.call("guest.start", {}, 10 * 60_000)];
    rpc.fail((method) => new AgentCallError(`closed during ${method}`, "E_CLOSED"));
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(settled.map((s) => s.status === "rejected" && (s.reason as AgentCallError).message), ["closed during host.apply", "closed during guest.start"]);
    assert.equal(rpc.inFlight, 0);
    await assert.rejects(rpc.call("host.get", {}, 60_000), /closed during host\.get/);
  });
});

/**
 * A stand-in agent run by the SSH gateway: answers agent.hello like bhyve-agent 0.1.0 and does
 * `other` (JavaScript, with the request `r` and `send(object)`) for every other request.
 */
function fakeAgent(other: string, hello = "send({ jsonrpc: '2.0', id: r.id, result: { version: '0.1.0', protocol: 1, root: '/' } })"): string[] {
  const script = `const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => { const r = JSON.parse(l); if (r.method === 'agent.hello') { ${hello}; return; } ${other}; });`;
  return [process.execPath, "-e", script];
}

describe("the connection against stand-in agents over SSH", () => {
  const TEN_MINUTES = 10 * 60_000;
  const withAgent = async (agentArgv: string[], run: (c: AgentConnection) => Promise<void>): Promise<void> => {
    const gw = await serveSandboxOverSsh("/nonexistent", { authorizedKey: user.publicKey, agentArgv });
    const c = new AgentConnection(gw.address, gw.hostKeyFingerprint, opts({ commandTimeoutMs: TEN_MINUTES }));
    try {
      await run(c);
    } finally {
      c.close();
      await gw.close();
    }
  };

  test("an answer the agent writes in two pieces cut inside € is read whole", async () => {
    const split = "const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: 'h\\u00e9llo \\u20ac' }) + '\\n'); const cut = b.indexOf(0xe2) + 1; process.stdout.write(b.subarray(0, cut)); setTimeout(() => process.stdout.write(b.subarray(cut)), 50)";
    await withAgent(fakeAgent(split), async (c) => {
      assert.equal(await c.call("host.get"), "héllo €");
      assert.equal(await c.call("host.get"), "héllo €");
    });
  });

  test("a garbage line fails the call with E_PROTOCOL and drops the connection; the next call reconnects", async () => {
    await withAgent(fakeAgent("process.stdout.write('Welcome to FreeBSD!\\n')"), async (c) => {
      await assert.rejects(c.call("host.get"), (e: unknown) => e instanceof AgentCallError && e.code === "E_PROTOCOL" && /sent a line that is not JSON: "Welcome to FreeBSD!"/.test(e.message));
      assert.equal(c.hello, null);
      assert.equal((await c.call("agent.hello")).protocol, 1);
      assert.equal(c.connects, 2);
    });
  });

  test("close() fails a call in flight to an agent that never answers at once (E_CLOSED), not at command_timeout", { timeout: 120_000 }, async () => {
    await withAgent(fakeAgent("/* never answers */"), async (c) => {
      const inflight = c.call("host.apply", { document: {} });
      await until(() => c.inFlight === 1, "host.apply sent");
      c.close();
      await assert.rejects(inflight, (e: unknown) => {
        assert.ok(e instanceof AgentCallError);
        assert.equal(e.code, "E_CLOSED");
        assert.match(e.message, /the connection to 127\.0\.0\.1:\d+ was closed by the provider .* during host\.apply/);
        return true;
      });
      assert.equal(c.inFlight, 0);
      assert.equal((await c.call("agent.hello")).protocol, 1, "the next call reconnects");
      assert.equal(c.connects, 2);
    });
  });

  test("close() while the connection is being opened (agent.hello unanswered) fails the waiting calls with E_CLOSED", { timeout: 120_000 }, async () => {
    await withAgent(fakeAgent("", "/* never answers hello */"), async (c) => {
      const waiting = [c.call("host.get"), c.call("guest.list")];
      await until(() => c.connects === 1, "the SSH connection");
      c.close();
      for (const w of waiting) await assert.rejects(w, code("E_CLOSED"));
    });
  });

  test("an agent that exits under a call in flight fails it with E_DISCONNECTED", { timeout: 120_000 }, async () => {
    await withAgent(fakeAgent("process.exit(3)"), async (c) => {
      await assert.rejects(c.call("host.apply"), (e: unknown) => e instanceof AgentCallError && e.code === "E_DISCONNECTED" && /lost during host\.apply/.test(e.message));
    });
  });
});
