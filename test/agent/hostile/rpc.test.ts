/**
 * Hostile JSON-RPC lines, served in-process by serve() against one sandbox host (a guest running,
 * a device bound to ppt): each gets the exact error (JSON-RPC code, `data.code`, the parameter or
 * document path at fault), or no answer at all for a notification; no answer holds a stack, the
 * agent root or a source file name; and the host is left as it was (the audit log aside).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { MAX_LINE_BYTES, serve } from "../../../agent/rpc/server.js";
import { METHODS } from "../../../agent/rpc/methods.js";
import { MAX_DOCUMENT_BYTES } from "../../../agent/model/index.js";
import { AgentHost, FW } from "../../support/agent-host.js";
import { assertNoLeak, assertUnchanged, auditLines, label, snapshot } from "./hostile-helpers.js";

const h = new AgentHost("intel-vtd");

const GUEST = { name: "web1", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }], disks: [{ path: "/dev/zvol/zroot/vm/web1" }], nics: [{ tap: "tap0" }] };

before(async () => {
  await h.apply({ host: { vmm_load: true }, ppt: [{ device: "4/0/1", bind: "live" }], guests: [GUEST] });
  assert.ok(h.machine().vms.web1?.process, "the guest runs before the corpus starts");
});
after(() => h.destroy());

/** Serves `input` (lines, or raw chunks) in-process and returns the answer lines. */
async function session(input: Array<string | Buffer>): Promise<string[]> {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  await serve(h.paths, Readable.from(input.map((c) => (typeof c === "string" ? Buffer.from(c) : c))), output);
  return Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean);
}

const errorsLog = (): string => {
  const p = join(h.paths.logDir, "errors.log");
  return existsSync(p) ? readFileSync(p, "utf8") : "";
};

/** What the answer to one hostile line must be. */
interface RpcRefusal {
  /** The JSON-RPC error code. */
  readonly rpc: number;
  /** `error.data.code`. */
  readonly code: string;
  /** The id the answer carries: the request's, or null when it could not be read. */
  readonly id?: string | number | null;
  /** The path of the first problem, for refusals that name a field. */
  readonly path?: string;
  readonly message?: RegExp;
}

/** Sends one line and asserts the single answer, its cleanliness, and that the host did not change. */
async function refused(line: string | Buffer | Array<string | Buffer>, want: RpcRefusal): Promise<void> {
  const before = snapshot(h);
  const bugs = errorsLog();
  const input = Array.isArray(line) ? line : [typeof line === "string" ? `${line}\n` : Buffer.concat([line, Buffer.from("\n")])];
  const answers = await session(input);
  assert.equal(answers.length, 1, `expected one answer, got ${answers.length}: ${answers.join("\n").slice(0, 500)}`);
  const text = answers[0]!;
  const a = JSON.parse(text) as { jsonrpc: string; id: unknown; result?: unknown; error?: { code: number; message: string; data: { code: string; problems?: Array<{ path: string; message: string }>; total?: number } } };
  assert.equal(a.jsonrpc, "2.0");
  assert.ok(a.error, `no error: ${text.slice(0, 500)}`);
  assert.ok(!("result" in a), "an error answer with a result");
  assert.deepEqual(a.id, want.id === undefined ? 1 : want.id, "id");
  assert.equal(a.error.data.code, want.code, text.slice(0, 800));
  assert.equal(a.error.code, want.rpc, text.slice(0, 800));
  if (want.path !== undefined) {
    assert.ok(a.error.data.problems && a.error.data.problems.length > 0, `no problems: ${text.slice(0, 500)}`);
    assert.equal(a.error.data.problems[0]!.path, want.path, text.slice(0, 800));
    assert.ok(a.error.data.problems.length <= 50 && (a.error.data.total ?? 0) >= a.error.data.problems.length);
  }
  if (want.message) assert.match(a.error.message, want.message);
  assertNoLeak(text, "the answer", [h.root]);
  assert.ok(text.length < 20_000, `an answer of ${text.length} bytes`);
  assert.equal(errorsLog(), bugs, "a bug was recorded in errors.log");
  assertUnchanged(h, before, "the request");
}

/** A request line with id 1. */
const req = (method: unknown, params?: unknown): string => JSON.stringify({ jsonrpc: "2.0", id: 1, method, ...(params === undefined ? {} : { params }) });
const parseError: RpcRefusal = { rpc: -32700, code: "E_PARSE", id: null };
const badRequest = (id: string | number | null = null): RpcRefusal => ({ rpc: -32600, code: "E_INVALID_REQUEST", id });
const badParams: RpcRefusal = { rpc: -32602, code: "E_INVALID_PARAMS" };
const invalid = (path: string, message?: RegExp): RpcRefusal => ({ rpc: -32602, code: "E_SPEC_INVALID", path, message });

describe("rpc: lines that are not JSON", () => {
  for (const line of ["x", "{", "}", "{'jsonrpc': '2.0'}", "nul", "NaN", "None", '{"jsonrpc":"2.0"', "1 2", "{}}", "[1,]", '{"a":1,}',
    '"unterminated', "\u0000", "\ufeff{}", '{"jsonrpc":"2.0","id":1,"method":"guest.list",}', "{\"id\":01}", "\u202e{}", "{\"a\":\"\\x41\"}"]) {
    test(label(line), () => refused(line, parseError));
  }
  test("a line that is not UTF-8 is refused, never read with U+FFFD in it", async () => {
    const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"guest.delete","params":{"name":"web'), Buffer.from([0xff]), Buffer.from('1"}}')]);
    await refused(bytes, { rpc: -32700, code: "E_ENCODING", id: null });
  });
  test("a UTF-8 overlong slash in a document path", async () => {
    const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"host.apply","params":{"document":"guests: [{ name: a, cpus: 1, memory: 1G, disks: [{ path: /vm'), Buffer.from([0xc0, 0xaf]), Buffer.from('x }] }]"}}')]);
    await refused(bytes, { rpc: -32700, code: "E_ENCODING", id: null });
  });
});

describe("rpc: JSON that is not a request object", () => {
  for (const line of ["1", "-0", "1e400", '"guest.list"', "true", "null", "[]", "[1]", `[${req("guest.list")}]`, "[[]]", '{"jsonrpc":"2.0","id":1,"method":"guest.list"}'.replace("{", "[{").concat("]")]) {
    test(label(line), () => refused(line, badRequest()));
  }
});

describe("rpc: a bad jsonrpc version, method or id", () => {
  const versions: unknown[] = [undefined, "1.0", 2.0, "2.0 ", null, "2", ["2.0"], { v: "2.0" }, "\u0032.0\u200b"];
  for (const v of versions) {
    test(`jsonrpc ${label(v)}`, () => refused(JSON.stringify({ jsonrpc: v, id: 1, method: "guest.list" }), badRequest(1)));
  }
  for (const m of [1, null, {}, [], true, ["guest.list"]]) {
    test(`method ${label(m)}`, () => refused(JSON.stringify({ jsonrpc: "2.0", id: 1, method: m }), badRequest(1)));
  }
  for (const id of ["{}", "[]", "true", "false", "1e400", "-1e400", '{"a":1}', "[1]"]) {
    test(`id ${id}`, () => refused(`{"jsonrpc":"2.0","id":${id},"method":"guest.list"}`, { ...badRequest(null), message: /id must be a string, a number or null/ }));
  }
  test("id kept as sent: a string with control characters", () => refused(JSON.stringify({ jsonrpc: "2.0", id: "a\u0000\u202eb", method: "nope" }), { rpc: -32601, code: "E_NO_METHOD", id: "a\u0000\u202eb" }));
  test("id kept as sent: a negative fraction", () => refused(JSON.stringify({ jsonrpc: "2.0", id: -1.5, method: "nope" }), { rpc: -32601, code: "E_NO_METHOD", id: -1.5 }));
  test("id kept as sent: null", () => refused(JSON.stringify({ jsonrpc: "2.0", id: null, method: "nope" }), { rpc: -32601, code: "E_NO_METHOD", id: null }));
});

describe("rpc: method names that are not methods, including inherited ones", () => {
  for (const m of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__", "", " ", "agent.hello ",
    "AGENT.HELLO", "agent.hello.constructor", "agent", "guest", "guest.put\u0000", "guest.list\n", "guest\u200b.list", "host.apply;rm", "../guest.list", "x".repeat(100_000)]) {
    test(`method ${label(m)}`, () => refused(req(m), { rpc: -32601, code: "E_NO_METHOD" }));
  }
  test("a long method name is echoed cut short", async () => {
    const answers = await session([`${req("y".repeat(100_000))}\n`]);
    assert.ok(answers[0]!.length < 2000, `${answers[0]!.length} bytes`);
  });
});

describe("rpc: params that are not an object", () => {
  for (const method of ["guest.list", "guest.get", "host.apply", "ppt.put", "agent.upgrade"]) {
    for (const params of ['"x"', "1", "[]", "null", "true", "[{}]"]) {
      test(`${method} params ${params}`, () => refused(`{"jsonrpc":"2.0","id":1,"method":"${method}","params":${params}}`, { ...badParams, message: /params must be an object/ }));
    }
  }
});

describe("rpc: unknown parameters, for every method", () => {
  const valid: Record<string, object> = {
    "agent.upgrade": { sha256: "0".repeat(64), bundle: "AA==" },
    "host.configure": { host: { vmm_load: true } },
    "host.apply": { document: { guests: [GUEST] } },
    "ppt.get": { device: "4/0/1" },
    "ppt.put": { reservation: { device: "4/0/1", bind: "live" } },
    "ppt.delete": { device: "4/0/1" },
    "guest.get": { name: "web1" },
    "guest.put": { guest: GUEST },
    "guest.delete": { name: "web1" },
    "guest.start": { name: "web1" },
    "guest.stop": { name: "web1" },
  };
  for (const method of METHODS.keys()) {
    test(`${method} with an extra parameter`, () => refused(req(method, { ...valid[method], x: 1 }), { ...badParams, message: /unknown parameter\(s\) "x"/ }));
    const params = JSON.stringify(valid[method] ?? {}).slice(1, -1);
    const line = `{"jsonrpc":"2.0","id":1,"method":"${method}","params":{"__proto__":{"name":"web1"}${params ? `,${params}` : ""}}}`;
    test(`${method} with a __proto__ parameter`, () => refused(line, { ...badParams, message: /"__proto__"/ }));
  }
  test("many unknown parameters are listed five at most", () =>
    refused(req("guest.list", Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`p${i}\u0000`, i]))), { ...badParams, message: /and 995 more/ }));
});

describe("rpc: names that are not guest names", () => {
  const names: unknown[] = [undefined, 1, null, true, [], {}, "", "../../../../etc/passwd", "a/b", ".", "..", ".web1", "-web1", "web1\u0000",
    "web1\n", "web\u202e1", "w\u0435b1", "web1 ", "x".repeat(32), "x".repeat(100_000), "__proto__", "web1/../web1", "%2e%2e"];
  for (const method of ["guest.get", "guest.delete", "guest.start", "guest.stop"]) {
    for (const name of names) {
      test(`${method} name ${label(name)}`, () => refused(req(method, name === undefined ? {} : { name }), invalid("name", /is not a guest name/)));
    }
  }
  for (const method of ["guest.start", "guest.stop", "guest.delete"]) {
    // Valid names that are not guests, some of them property names of every object.
    for (const name of ["constructor", "toString", "nosuch"]) {
      if (method === "guest.delete") continue; // deleting a guest that is not there is a no-op, not a refusal
      test(`${method} ${name}: not a guest of the desired state`, () => refused(req(method, { name }), invalid("name", new RegExp(`there is no guest ${name}`))));
    }
  }
});

describe("rpc: devices that are not PCI addresses", () => {
  const devices: ReadonlyArray<[unknown, RegExp]> = [
    [undefined, /not a PCI address/], [1, /not a PCI address/], [null, /not a PCI address/], [["4/0/1"], /not a PCI address/], ["", /not a PCI address/],
    ["x", /not a PCI address/], ["pci1:4:0:1", /domain 1/], ["256/0/0", /bus 256/], ["4/32/0", /slot 32/], ["4/1/8", /ARI/], ["../../etc", /not a PCI address/],
    ["4/0/1\u0000", /not a PCI address/], ["4/0/1 ", /not a PCI address/], [" 4/0/1", /not a PCI address/], ["4/0/1".repeat(7), /not a PCI address/],
    ["\u0664/0/1", /not a PCI address/],
  ];
  for (const method of ["ppt.get", "ppt.delete"]) {
    for (const [device, message] of devices) {
      test(`${method} device ${label(device)}`, () => refused(req(method, device === undefined ? {} : { device }), invalid("device", message)));
    }
  }
});

describe("rpc: wrong-typed and invalid parameters of every method", () => {
  const cases: ReadonlyArray<[string, string, object, RpcRefusal]> = [
    ["host.configure", "no host", {}, { ...badParams, message: /parameter host must be an object/ }],
    ["host.configure", "host a string", { host: "vmm_load: true" }, badParams],
    ["host.configure", "host a list", { host: [] }, badParams],
    ["host.configure", "host null", { host: null }, badParams],
    ["host.configure", "vmm_load a string", { host: { vmm_load: "yes" } }, invalid("host.vmm_load", /expected true or false/)],
    ["host.configure", "amdvi_enable a number", { host: { amdvi_enable: 2 } }, invalid("host.amdvi_enable")],
    ["host.configure", "an unknown host key", { host: { vmm: true } }, invalid("host.vmm", /unknown key/)],
    ["host.configure", "vmm_load false with a device reserved", { host: { vmm_load: false } }, invalid("host.vmm_load", /must be true when devices are reserved/)],
    ["ppt.put", "no reservation", {}, badParams],
    ["ppt.put", "reservation a string", { reservation: "4/0/1" }, badParams],
    ["ppt.put", "reservation a list", { reservation: [{ device: "4/0/1" }] }, badParams],
    ["ppt.put", "an empty reservation", { reservation: {} }, invalid("device", /is required/)],
    ["ppt.put", "device a number", { reservation: { device: 401 } }, invalid("device", /expected a string/)],
    ["ppt.put", "device in domain 1", { reservation: { device: "pci1:4:0:0" } }, invalid("device", /domain 1/)],
    ["ppt.put", "bind bogus", { reservation: { device: "4/0/1", bind: "now" } }, invalid("bind", /expected one of live, boot/)],
    ["ppt.put", "an unknown key", { reservation: { device: "4/0/1", force: true } }, invalid("force", /unknown key/)],
    ["ppt.put", "vendor_id of another vendor", { reservation: { device: "4/0/1", vendor_id: "0x10de", bind: "live" } }, invalid("reservation.vendor_id", /expected 0x10de/)],
    ["ppt.put", "a device the host does not have", { reservation: { device: "9/0/0" } }, invalid("reservation.device", /no PCI device at 9\/0\/0/)],
    ["ppt.put", "a bridge", { reservation: { device: "0/1/0" } }, invalid("reservation.device", /is a bridge/)],
    ["guest.put", "no guest", {}, badParams],
    ["guest.put", "guest a string", { guest: "web1" }, badParams],
    ["guest.put", "guest a list", { guest: [GUEST] }, badParams],
    ["guest.put", "an empty guest", { guest: {} }, invalid("name", /is required/)],
    ["guest.put", "a path as the name", { guest: { ...GUEST, name: "../../etc" } }, invalid("name", /not a guest name/)],
    ["guest.put", "cpus 0", { guest: { ...GUEST, cpus: 0 } }, invalid("cpus", /out of range/)],
    ["guest.put", "cpus a string", { guest: { ...GUEST, cpus: "1" } }, invalid("cpus", /whole number/)],
    ["guest.put", "memory 1 byte", { guest: { ...GUEST, memory: 1 } }, invalid("memory", /below the smallest guest/)],
    ["guest.put", "a NUL in a disk path", { guest: { ...GUEST, disks: [{ path: "/vm/a\u0000b" }] } }, invalid("disks[0].path", /U\+0000/)],
    ["guest.put", "a relative disk path", { guest: { ...GUEST, disks: [{ path: "vm/a" }] } }, invalid("disks[0].path", /not an absolute path/)],
    ["guest.put", "a multicast MAC", { guest: { ...GUEST, nics: [{ tap: "tap0", mac: "01:00:5e:00:00:01" }] } }, invalid("nics[0].mac", /multicast/)],
    ["guest.put", "slot 31", { guest: { ...GUEST, nics: [{ tap: "tap0", slot: 31 }] } }, invalid("nics[0].slot", /LPC bridge/)],
    ["guest.put", "an unknown key", { guest: { ...GUEST, serial: "x" } }, invalid("serial", /unknown key/)],
    ["guest.put", "a YAML tag in a string is just text, but a bidi character is not", { guest: { ...GUEST, bootrom: "/fw/\u202eA" } }, invalid("bootrom", /U\+202E/)],
    ["guest.put", "another guest on web1's tap", { guest: { name: "web2", cpus: 1, memory: "1G", bootrom: FW, nics: [{ tap: "tap0" }] } }, invalid("guest.nics[0].tap", /tap0 is already used by guest web1/)],
    ["guest.put", "another guest on web1's disk", { guest: { name: "web2", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/zroot/vm/web1" }] } }, invalid("guest.disks[0].path", /two disks on one backing store/)],
    ["guest.put", "another guest with web1's device", { guest: { name: "web2", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }] } }, invalid("guest.passthru[0].device", /already passed to guest web1/)],
    ["guest.put", "a device that is not reserved", { guest: { ...GUEST, passthru: [{ device: "3/0/0", slot: 5 }] } }, invalid("guest.passthru[0].device", /not reserved/)],
    ["guest.put", "more vCPUs than the host allows", { guest: { ...GUEST, cpus: 4096 } }, invalid("guest.cpus", /more than this host allows/)],
    ["guest.put", "more memory than the host has", { guest: { name: "web2", cpus: 1, memory: "1T", disks: [{ path: "/dev/zvol/zroot/vm/db1" }] } }, invalid("guest.memory", /physical memory/)],
    ["guest.put", "more wired memory than the host allows", { guest: { ...GUEST, memory: "1T" } }, invalid("guest.memory", /vm\.max_user_wired/)],
    ["agent.upgrade", "no parameters", {}, { ...badParams, message: /sha256 must be a non-empty string/ }],
    ["agent.upgrade", "sha256 not hex", { sha256: "z".repeat(64), bundle: "AA==" }, { ...badParams, message: /64 hex digits/ }],
    ["agent.upgrade", "sha256 a number", { sha256: 1, bundle: "AA==" }, badParams],
    ["agent.upgrade", "bundle a list", { sha256: "0".repeat(64), bundle: [] }, badParams],
    ["agent.upgrade", "version a number", { sha256: "0".repeat(64), bundle: "AA==", version: 2 }, badParams],
    ["agent.upgrade", "a well-formed upgrade the policy does not allow", { sha256: "0".repeat(64), bundle: "AA==" }, { rpc: -32000, code: "E_POLICY", message: /agent_upgrade/ }],
  ];
  for (const [method, name, params, want] of cases) test(`${method}: ${name}`, () => refused(req(method, params), want));
});

describe("rpc: host.apply documents", () => {
  const docs: ReadonlyArray<[string, unknown, RpcRefusal]> = [
    ["no document", undefined, { ...badParams, message: /parameter document must be an object/ }],
    ["a number", 1, badParams],
    ["a list", [], badParams],
    ["true", true, badParams],
    ["null", null, badParams],
    ["an empty string", "", { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["white space", " \n\t\n", { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["comments only", "# guests: []\n", { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["the text null", "null", { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["an empty object", {}, { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["guests null", { guests: null, ppt: null }, { rpc: -32602, code: "E_EMPTY_DOCUMENT", path: "document" }],
    ["text nested 100 deep", `guests: ${"[".repeat(100)}${"]".repeat(100)}`, { rpc: -32602, code: "E_TOO_DEEP", path: "document" }],
    ["text over 1 MiB", `guests: []\n# ${"x".repeat(MAX_DOCUMENT_BYTES)}`, { rpc: -32602, code: "E_TOO_LARGE", path: "document" }],
    ["a billion laughs", `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, invalid("document", /alias/i)],
    ["a %YAML 1.1 document", "%YAML 1.1\n---\nhost: { vmm_load: no }\nguests: []\n", invalid("line 1, column 1", /%YAML 1\.1/)],
    ["a foreign tag", "guests: !!python/object:os.system []\n", invalid("guests", /YAML tag/)],
    ["two documents", "guests: []\n---\nguests: []\n", invalid("line 2, column 1")],
    ["a syntax error", "guests: [\n", invalid("line 2, column 1")],
    ["a list at the top", "[]", invalid("document", /expected a mapping/)],
    ["an unknown top key", { guests: [], constructor: 1 }, invalid("constructor", /unknown key/)],
    ["cpus 0", { guests: [{ ...GUEST, cpus: 0 }], ppt: [{ device: "4/0/1", bind: "live" }] }, invalid("guests[0].cpus", /out of range/)],
    ["a NUL in a name, as text", 'guests: [{ name: "web\\0", cpus: 1, memory: 1G, bootrom: /fw }]', invalid("guests[0].name", /U\+0000/)],
    ["a zero-width space in a tap", { guests: [{ ...GUEST, nics: [{ tap: "tap\u200b0" }] }], ppt: [{ device: "4/0/1", bind: "live" }] }, invalid("guests[0].nics[0].tap", /U\+200B/)],
    ["a guest name of 100000 characters", { guests: [{ ...GUEST, name: "w".repeat(100_000) }] }, invalid("guests[0].name", /not a guest name/)],
    ["5000 bad guests", { guests: Array.from({ length: 5000 }, (_, i) => ({ name: `../${i}`, cpus: 0, memory: "1" })) }, invalid("guests[0].name")],
    ["a device the host does not have", { ppt: [{ device: "9/0/0" }], guests: [] }, invalid("ppt[0].device", /no PCI device/)],
    ["more vCPUs than the host allows", { ppt: [{ device: "4/0/1", bind: "live" }], guests: [{ ...GUEST, cpus: 4096 }] }, invalid("guests[0].cpus", /more than this host allows/)],
    ["more memory than the host has", { ppt: [{ device: "4/0/1", bind: "live" }], guests: [GUEST, { name: "web2", cpus: 1, memory: "1T", disks: [{ path: "/dev/zvol/zroot/vm/db1" }] }] }, invalid("guests[1].memory", /physical memory/)],
    ["more wired memory than the host allows", { ppt: [{ device: "4/0/1", bind: "live" }], guests: [{ ...GUEST, memory: "1T" }] }, invalid("guests[0].memory", /vm\.max_user_wired/)],
  ];
  for (const [name, document, want] of docs) test(name, () => refused(req("host.apply", document === undefined ? {} : { document }), want));
  test("a __proto__ key in a document object", () =>
    refused(`{"jsonrpc":"2.0","id":1,"method":"host.apply","params":{"document":{"__proto__":{"guests":[]},"guests":[]}}}`, invalid("__proto__", /unknown key/)));
  test("a __proto__ key in a guest", () =>
    refused(`{"jsonrpc":"2.0","id":1,"method":"guest.put","params":{"guest":{"__proto__":{"cpus":1},"name":"web3","memory":"1G","bootrom":"/fw"}}}`, invalid("__proto__", /unknown key/)));
  test("a __proto__ key in a reservation", () =>
    refused(`{"jsonrpc":"2.0","id":1,"method":"ppt.put","params":{"reservation":{"__proto__":{"device":"4/0/0"}}}}`, invalid("__proto__", /unknown key/)));
  test("a request nested deeper than 64 levels is refused before it is parsed", () =>
    refused(req("host.apply", { document: { guests: JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`) } }), { rpc: -32600, code: "E_TOO_DEEP", id: null }));
  test("a line of 200000 open brackets", () => refused("[".repeat(200_000), { rpc: -32600, code: "E_TOO_DEEP", id: null }));
});

describe("rpc: notifications get no answer, whatever is wrong with them, and change nothing", () => {
  const lines = [
    JSON.stringify({ jsonrpc: "2.0", method: "nope" }),
    JSON.stringify({ jsonrpc: "2.0", method: "constructor" }),
    JSON.stringify({ jsonrpc: "1.0", method: "guest.list" }),
    JSON.stringify({ jsonrpc: "2.0", method: 7 }),
    JSON.stringify({ jsonrpc: "2.0", method: "guest.list", params: [] }),
    JSON.stringify({ jsonrpc: "2.0", method: "guest.list", params: { x: 1 } }),
    JSON.stringify({ jsonrpc: "2.0", method: "guest.delete", params: { name: "../../etc/passwd" } }),
    JSON.stringify({ jsonrpc: "2.0", method: "guest.stop", params: { name: "nosuch" } }),
    JSON.stringify({ jsonrpc: "2.0", method: "host.apply", params: { document: "" } }),
    JSON.stringify({ jsonrpc: "2.0", method: "host.apply", params: { document: { guests: [{ name: "x" }] } } }),
    JSON.stringify({ jsonrpc: "2.0", method: "ppt.delete", params: { device: "pci1:4:0:1" } }),
    JSON.stringify({ jsonrpc: "2.0", method: "guest.put", params: { guest: { ...GUEST, cpus: 0 } } }),
  ];
  for (const line of lines) {
    test(label(line), async () => {
      const before = snapshot(h);
      const bugs = errorsLog();
      assert.deepEqual(await session([`${line}\n`]), []);
      assert.equal(errorsLog(), bugs);
      assertUnchanged(h, before, "the notification");
    });
  }
  test("refused notifications of changes are still audited", async () => {
    const n = auditLines(h).length;
    assert.deepEqual(await session([`${JSON.stringify({ jsonrpc: "2.0", method: "guest.stop", params: { name: "nosuch" } })}\n`]), []);
    assert.ok(auditLines(h).length > n);
  });
});

describe("rpc: line framing", () => {
  test("a line over the limit is refused and the next one is answered", async () => {
    const before = snapshot(h);
    const answers = await session([`${req("host.apply", { document: "x".repeat(MAX_LINE_BYTES) })}\n`, `${req("guest.list")}\n`]);
    assert.equal(answers.length, 2);
    assert.equal(JSON.parse(answers[0]!).error.data.code, "E_TOO_LARGE");
    assert.equal(JSON.parse(answers[1]!).result[0].name, "web1");
    assertUnchanged(h, before, "the long line");
  });
  test("a line over the limit that arrives in small chunks, without a newline until the end", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const answers = await session([...Array.from({ length: (MAX_LINE_BYTES / chunk.length) + 2 }, () => chunk), "\n", `${req("guest.list")}\n`]);
    assert.deepEqual(answers.map((a) => JSON.parse(a).error?.data.code ?? "ok"), ["E_TOO_LARGE", "ok"]);
  });
  test("a long line that never ends is refused once", async () => {
    const answers = await session([Buffer.alloc(MAX_LINE_BYTES + 10, 0x7b)]);
    assert.deepEqual(answers.map((a) => JSON.parse(a).error.data.code), ["E_TOO_LARGE"]);
  });
  test("a last request without its newline is answered", async () => {
    const answers = await session([req("nope")]);
    assert.deepEqual(answers.map((a) => JSON.parse(a).error.data.code), ["E_NO_METHOD"]);
  });
  test("a request split inside a UTF-8 character", async () => {
    const line = Buffer.from(`${req("guest.get", { name: "w\u00e9b1" })}\n`);
    const at = line.indexOf(0xc3) + 1;
    const answers = await session([line.subarray(0, at), line.subarray(at)]);
    assert.equal(JSON.parse(answers[0]!).error.data.problems[0].message, '"w\u00e9b1" is not a guest name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit');
  });
  test("blank lines, CR LF and a lone CR are no requests", async () => {
    assert.deepEqual(await session(["\n\n\r\n \t \n\r\n"]), []);
    const answers = await session([`${req("nope")}\r\n`]);
    assert.equal(JSON.parse(answers[0]!).error.data.code, "E_NO_METHOD");
  });
  test("a burst of 200 hostile lines gets 200 answers, in order", async () => {
    const before = snapshot(h);
    const lines = Array.from({ length: 200 }, (_, i) => `${JSON.stringify({ jsonrpc: "2.0", id: i, method: i % 2 ? "guest.start" : "ppt.delete", params: i % 2 ? { name: `../${i}` } : { device: `pci${i + 1}:0:0:0` } })}\n`);
    const answers = (await session(lines)).map((a) => JSON.parse(a));
    assert.deepEqual(answers.map((a) => a.id), Array.from({ length: 200 }, (_, i) => i));
    assert.ok(answers.every((a) => a.error?.data.code === "E_SPEC_INVALID"));
    assertUnchanged(h, before, "the burst");
  });
});

describe("stream methods (guest.console, guest.vnc) only as a request of their own", () => {
  test("in a batch: refused, not answered as attached", async () => {
    await refused(JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "guest.vnc", params: { name: "web1" } }]), { rpc: -32600, code: "E_REQUEST", id: null, message: /take a session of their own/ });
  });
  test("with the name escaped: the same method, refused by name (web1 has no framebuffer), never a relay to something else", async () => {
    await refused('{"jsonrpc":"2.0","id":1,"method":"guest.vn\\u0063","params":{"name":"web1"}}', { rpc: -32000, code: "E_NO_FRAMEBUFFER", message: /guest web1 has no framebuffer/ });
  });
});
