/**
 * Hostile command lines for `bhyve-agent`, run in-process through main(): each is refused with a
 * UserError carrying its exact code and exit status (anything else thrown would be a crash, exit
 * 70 with a stack), prints nothing, leaks no internal detail, and leaves the sandbox host (a
 * guest running, a device bound to ppt) and the file system as they were.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main } from "../../../agent/cli/main.js";
import { sandboxMain } from "../../../sandbox/cli.js";
import { UserError } from "../../../agent/cli/errors.js";
import { MAX_DOCUMENT_BYTES } from "../../../agent/model/index.js";
import { AgentHost, FW } from "../../support/agent-host.js";
import { assertNoLeak, assertUnchanged, label, snapshot } from "./hostile-helpers.js";

const h = new AgentHost("intel-vtd");
const dir = mkdtempSync(join(tmpdir(), "bhyve-hostile-cli-"));
let socketServer: Server | undefined;

/** Input files of every kind, by name. */
const files: Record<string, string> = {};
const file = (name: string, content: string | Uint8Array): string => (files[name] = join(dir, name), writeFileSync(files[name], content), files[name]);

before(async () => {
  await h.apply({
    host: { vmm_load: true },
    ppt: [{ device: "4/0/1", bind: "live" }],
    guests: [{ name: "web1", cpus: 1, memory: "1G", bootrom: FW, passthru: [{ device: "4/0/1", slot: 5, function: 0 }], disks: [{ path: "/dev/zvol/zroot/vm/web1" }], nics: [{ tap: "tap0" }] }],
  });
  assert.ok(h.machine().vms.web1?.process, "the guest runs before the corpus starts");
  file("empty.yaml", "");
  file("comments.yaml", "# guests:\n#   - name: a\n");
  file("null.json", "null");
  file("invalid.yaml", "guests:\n  - { name: web1, cpus: 0, memory: 1G, bootrom: /fw }\n");
  file("nul.yaml", 'guests:\n  - { name: "web\\0", cpus: 1, memory: 1G, bootrom: /fw }\n');
  file("deep.json", `{"guests": ${"[".repeat(100)}${"]".repeat(100)}}`);
  file("tag.yaml", "guests: !!python/object:os.system []\n");
  file("yaml11.yaml", "%YAML 1.1\n---\nhost: { vmm_load: no }\nguests: []\n");
  file("latin1.yaml", Uint8Array.from([...Buffer.from("guests: [] # caf"), 0xe9, 0x0a]));
  file("utf16.yaml", Uint8Array.from([0xff, 0xfe, ...Buffer.from("guests: []\n", "utf16le")]));
  file("big.yaml", `guests: []\n# ${"x".repeat(MAX_DOCUMENT_BYTES)}\n`);
  file("sparse.yaml", "");
  truncateSync(files["sparse.yaml"]!, 2 ** 30); // a gigabyte of NULs, read no further than the limit
  file("not-a-dir", "guests: []\n");
  files["dir"] = join(dir, "a-directory");
  mkdirSync(files["dir"]);
  files["fifo"] = join(dir, "fifo");
  execFileSync("mkfifo", [files["fifo"]]);
  files["zero-link"] = join(dir, "zero-link");
  symlinkSync("/dev/zero", files["zero-link"]);
  files["loop"] = join(dir, "loop");
  symlinkSync(files["loop"], files["loop"]);
  files["dangling"] = join(dir, "dangling");
  symlinkSync(join(dir, "nowhere"), files["dangling"]);
  files["socket"] = join(dir, "socket");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(files["socket"], resolve));
  socketServer = server;
});

after(async () => {
  await new Promise<void>((resolve) => (socketServer ? socketServer.close(() => resolve()) : resolve()));
  await h.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What a refused command line must give. */
interface CliRefusal {
  readonly code: string;
  /** 64 for usage errors, 1 otherwise. */
  readonly exit?: number;
  readonly message?: RegExp;
  /** Paths that must not exist afterwards (a missing --root, a sandbox that was refused). */
  readonly absent?: readonly string[];
  /** The message may name files of the agent's upload (install says which ones an upload lacks). */
  readonly namesUploadFiles?: boolean;
}

/** Runs main(argv) with its output captured (the test runner's own reports, as Buffers, pass through). */
async function runCaptured(argv: string[], run: (argv: string[]) => Promise<number>): Promise<{ result: unknown; error: unknown; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const capture = (into: string[], real: typeof process.stdout.write, stream: NodeJS.WriteStream) =>
    ((chunk: unknown, ...rest: unknown[]) => (typeof chunk === "string" ? (into.push(chunk), true) : real.call(stream, chunk as Uint8Array, ...(rest as []))));
  process.stdout.write = capture(out, realOut, process.stdout) as typeof process.stdout.write;
  process.stderr.write = capture(err, realErr, process.stderr) as typeof process.stderr.write;
  try {
    return { result: await run(argv), error: undefined, stdout: out.join(""), stderr: err.join("") };
  } catch (e) {
    return { result: undefined, error: e, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}

/** Runs argv (through `bhyve-agent`, or `run`) and asserts the refusal, that nothing was printed, and that the host did not change. */
async function refused(argv: string[], want: CliRefusal, run: (argv: string[]) => Promise<number> = main): Promise<void> {
  const before = snapshot(h);
  const r = await runCaptured(argv, run);
  assert.ok(r.error !== undefined, `accepted (returned ${String(r.result)}): ${r.stdout.slice(0, 300)}`);
  assert.ok(r.error instanceof UserError, `not a UserError (the binary would exit 70 with a stack): ${(r.error as Error)?.stack ?? String(r.error)}`);
  assert.equal(r.error.code, want.code, r.error.message);
  assert.equal(r.error.exitCode, want.exit ?? (want.code === "E_USAGE" ? 64 : 1), r.error.message);
  if (want.message) assert.match(r.error.message, want.message);
  assertNoLeak(want.namesUploadFiles ? r.error.message.replace(/is not an agent upload: bhyve-agent\.mjs, native\/binding\.gyp, node_modules\/node-addon-api\/package\.json, rc\.d\/bhyve_agent missing$/, "") : r.error.message, argv.join(" ").slice(0, 80));
  assert.ok(r.error.message.length < 4000, `a message of ${r.error.message.length} characters`);
  assert.equal(r.stdout, "", "printed on standard output");
  assert.equal(r.stderr, "", "printed on standard error");
  assertUnchanged(h, before, argv.join(" ").slice(0, 80));
  for (const p of want.absent ?? []) assert.ok(!existsSync(p), `${p} was created`);
}

const usage = (message?: RegExp): CliRefusal => ({ code: "E_USAGE", message });

describe("cli: unknown commands, including inherited property names", () => {
  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "prototype", "isPrototypeOf", "", " ", "VALIDATE",
    "validate ", "validate\u0000", "\u202eetadilav", "apply;reboot", "../../bin/sh", "--version", "-v", "--root", "status\n", "x".repeat(10_000)]) {
    test(`bhyve-agent ${label(name)}`, () => refused([name], usage(/^bhyve-agent: unknown command /)));
  }
  test("no command at all prints the usage and exits 64", async () => {
    const r = await runCaptured([], main);
    assert.equal(r.result, 64);
    assert.match(r.stdout, /^usage: bhyve-agent COMMAND/);
  });
  test("version takes no operand", () => refused(["version", "x"], usage()));
});

describe("cli: validate, render and apply with bad operands", () => {
  for (const command of ["validate", "render"]) {
    for (const args of [[], ["a", "b"], ["--json"], ["-x"], ["--root", "/"], ["--"]]) {
      test(`${command} ${args.join(" ")}`, () => refused([command, ...args], usage(new RegExp(`usage: bhyve-agent ${command}`))));
    }
  }
  for (const args of [[], ["a", "b"], ["-x"], ["--jsn"], ["--root"]]) {
    test(`apply ${args.join(" ")}`, () => refused(["apply", ...args], usage()));
  }
});

describe("cli: input files of every kind", () => {
  const kinds: ReadonlyArray<[string, () => string, CliRefusal]> = [
    ["a missing file", () => join(dir, "missing.yaml"), { code: "E_READ", message: /cannot read: no such file$/ }],
    ["a directory", () => files["dir"]!, { code: "E_READ", message: /cannot read: is a directory$/ }],
    ["/dev/zero", () => "/dev/zero", { code: "E_NOT_REGULAR", message: /is a character device, not a regular file/ }],
    ["/dev/null", () => "/dev/null", { code: "E_NOT_REGULAR", message: /is a character device/ }],
    ["a FIFO", () => files["fifo"]!, { code: "E_NOT_REGULAR", message: /is a FIFO, not a regular file/ }],
    ["a symbolic link to /dev/zero", () => files["zero-link"]!, { code: "E_NOT_REGULAR", message: /is a character device/ }],
    ["a symbolic link to itself", () => files["loop"]!, { code: "E_READ", message: /too many symbolic links/ }],
    ["a dangling symbolic link", () => files["dangling"]!, { code: "E_READ", message: /no such file/ }],
    ["a socket", () => files["socket"]!, { code: "E_NOT_REGULAR", message: /is a socket/ }],
    ["a path through a file", () => join(files["not-a-dir"]!, "x.yaml"), { code: "E_READ", message: /not a directory/ }],
    ["a name too long", () => join(dir, "n".repeat(300)), { code: "E_READ", message: /the name is too long/ }],
    ["over 1 MiB", () => files["big.yaml"]!, { code: "E_TOO_LARGE", message: /larger than 1048576 bytes/ }],
    ["a sparse gigabyte", () => files["sparse.yaml"]!, { code: "E_TOO_LARGE" }],
    ["Latin-1 bytes", () => files["latin1.yaml"]!, { code: "E_ENCODING", message: /byte 16 \(line 1\) is 0xe9/ }],
    ["UTF-16", () => files["utf16.yaml"]!, { code: "E_ENCODING", message: /byte 0 .* 0xff/ }],
    ["an empty file", () => files["empty.yaml"]!, { code: "E_EMPTY_DOCUMENT", message: /^document: is empty/ }],
    ["comments only", () => files["comments.yaml"]!, { code: "E_EMPTY_DOCUMENT" }],
    ["null", () => files["null.json"]!, { code: "E_EMPTY_DOCUMENT" }],
    ["an invalid guest", () => files["invalid.yaml"]!, { code: "E_SPEC_INVALID", message: /^guests\[0\]\.cpus: 0 is out of range \(1-4096\)$/ }],
    ["a NUL in a name", () => files["nul.yaml"]!, { code: "E_SPEC_INVALID", message: /^guests\[0\]\.name: contains U\+0000/ }],
    ["nesting 100 deep", () => files["deep.json"]!, { code: "E_TOO_DEEP", message: /^document: nests/ }],
    ["a foreign YAML tag", () => files["tag.yaml"]!, { code: "E_SPEC_INVALID", message: /^guests: has the YAML tag !!python\/object:os\.system/ }],
    ["a %YAML 1.1 directive", () => files["yaml11.yaml"]!, { code: "E_SPEC_INVALID", message: /^line 1, column 1: the directive %YAML 1\.1/ }],
  ];
  for (const command of ["validate", "render", "apply"]) {
    for (const [name, path, want] of kinds) {
      test(`${command}: ${name}`, () => refused([command, path(), ...(command === "apply" ? ["--root", h.root] : [])], want));
    }
  }
});

describe("cli: --root and the options of the host commands", () => {
  const missing = join(dir, "no-such-root");
  const commands = ["status", "facts", "policy", "audit", "autostart", "shutdown", "rollback", "rpc"];
  const options: ReadonlyArray<[string, () => string[], CliRefusal]> = [
    ["an extra operand", () => ["extra", "--root", h.root], usage()],
    ["an unknown flag", () => ["--jsonn", "--root", h.root], usage(/unknown option "--jsonn"|usage:/)],
    ["--root without a value", () => ["--root"], usage(/--root needs a value|usage:/)],
    ["a relative --root", () => ["--root", "var/db"], usage(/--root takes an absolute path, not "var\/db"/)],
    ["an empty --root=", () => ["--root="], usage(/--root takes an absolute path, not ""/)],
    ["a missing --root", () => ["--root", missing], { ...usage(/no such directory/), absent: [missing] }],
    ["a --root that is a file", () => ["--root", files["not-a-dir"]!], usage(/not a directory/)],
    ["--root /dev/null", () => ["--root", "/dev/null"], usage(/not a directory/)],
  ];
  for (const command of commands) {
    for (const [name, args, want] of options) {
      // rollback and rpc take no --json; their unknown-flag refusal is the same usage error.
      test(`${command}: ${name}`, () => refused([command, ...args()], want));
    }
  }
  // A directory that is not a host: the first tool the command needs is missing, a refusal with its code (exit 1), not a crash.
  for (const command of ["status", "facts", "policy"]) {
    test(`${command} on a directory that is not a host`, async () => {
      const empty = mkdtempSync(join(dir, "empty-root-"));
      await refused([command, "--root", empty], { code: "E_TOOL_MISSING", message: /is missing/ });
      // Only the host lock (status reads under it), as on any host the agent runs on.
      const lock = ["var", "var/run", "var/run/bhyve-agent", "var/run/bhyve-agent/host.lock"];
      const created = (readdirSync(empty, { recursive: true }) as string[]).filter((p) => !lock.includes(p));
      assert.deepEqual(created, [], "files were created in it");
    });
  }
  test("apply with a valid document and a missing --root creates nothing", () =>
    refused(["apply", files["not-a-dir"]!, "--root", missing], { ...usage(/no such directory/), absent: [missing] }));
  test("apply with a valid document and a --root that is a file", () => refused(["apply", files["not-a-dir"]!, "--root", files["not-a-dir"]!], usage(/not a directory/)));
});

describe("cli: audit --since values", () => {
  for (const since of ["", "yesterday", "1", "12", "foo 1", "Tue", "-1d", "1y", "1.5h", "1e3s", "NaN", "Infinity", "30 m", "2026-13-45",
    "2026-02-30", "2026-11-30T25:00", "2026-11-30 10:00", "2026-11-30T10:00:00+25:00", "999999999999d", "9999999999999d", "\u0661d"]) {
    test(`--since ${label(since)}`, () => refused(["audit", "--since", since, "--root", h.root], usage(since === "" ? /--since needs a value/ : /--since takes a time/)));
  }
  test("valid times and ages are still taken", async () => {
    for (const since of ["30s", "2h", "7d", "2026-11-30", "2024-02-29", "2026-11-30T10:00", "2026-11-30T10:00:00Z", "2026-11-30T10:00:00.5+02:00"]) {
      const r = await runCaptured(["audit", "--since", since, "--root", h.root, "--json"], main);
      assert.equal(r.error, undefined, `${since}: ${String(r.error)}`);
      assert.equal(r.result, 0);
      assert.ok(Array.isArray(JSON.parse(r.stdout)), since);
    }
  });
  test("--since without a value", () => refused(["audit", "--root", h.root, "--since"], usage(/--since needs a value/)));
  test("--since followed by a flag", () => refused(["audit", "--since", "--json", "--root", h.root], usage(/--since needs a value/)));
});

describe("cli: install and rollback", () => {
  test("install without --from", () => refused(["install", "--root", h.root], usage(/usage: bhyve-agent install/)));
  test("install --from without a value", () => refused(["install", "--root", h.root, "--from"], usage(/--from needs a value/)));
  test("install --from a missing directory", () => refused(["install", "--from", join(dir, "no-upload"), "--root", h.root], { ...usage(/is not an agent upload/), namesUploadFiles: true }));
  test("install --from a directory that is not an upload", () => refused(["install", "--from", files["dir"]!, "--root", h.root], { ...usage(/is not an agent upload/), namesUploadFiles: true }));
  test("rollback with nothing installed", () => refused(["rollback", "--root", h.root], { code: "E_NO_PREVIOUS" }));
});

describe("cli: bhyve-sandbox with bad arguments", () => {
  const fresh = join(dir, "fresh-sandbox");
  const cases: ReadonlyArray<[string, () => string[], CliRefusal]> = [
    ["no subcommand", () => [], usage()],
    ["constructor", () => ["constructor"], usage()],
    ["__proto__", () => ["__proto__"], usage()],
    ["an unknown subcommand", () => ["explode", h.root], usage()],
    ["profiles with an operand", () => ["profiles", "x"], usage()],
    ["create without a directory", () => ["create", "--profile", "intel-vtd"], usage()],
    ["create without a profile", () => ["create", fresh], { ...usage(), absent: [fresh] }],
    ["create with an unknown profile", () => ["create", fresh, "--profile", "nope"], { code: "E_PROFILE", message: /unknown profile "nope"/, absent: [fresh] }],
    ["create with the profile constructor", () => ["create", fresh, "--profile", "constructor"], { code: "E_PROFILE", absent: [fresh] }],
    ["create on a file", () => ["create", files["not-a-dir"]!, "--profile", "intel-vtd"], { code: "E_EXISTS", message: /is not a directory/ }],
    ["create over the running host", () => ["create", h.root, "--profile", "intel-vtd"], { code: "E_EXISTS", message: /not empty/ }],
    ["reboot without a directory", () => ["reboot"], usage()],
    ["reboot of a directory that is not a sandbox", () => ["reboot", files["dir"]!], { code: "E_NOT_SANDBOX" }],
    ["reboot of a missing directory", () => ["reboot", fresh], { code: "E_NOT_SANDBOX", absent: [fresh] }],
    ["destroy of a directory that is not a sandbox", () => ["destroy", dir], { code: "E_NOT_SANDBOX", message: /not removing it/ }],
    ["destroy of two directories", () => ["destroy", h.root, dir], usage()],
    ["guest with an unknown action", () => ["guest", h.root, "web1", "explode"], usage()],
    ["guest with the action constructor", () => ["guest", h.root, "web1", "constructor"], usage()],
    ["guest with the action __proto__", () => ["guest", h.root, "web1", "__proto__"], usage()],
    ["guest without an action", () => ["guest", h.root, "web1"], usage()],
    ["guest that does not exist", () => ["guest", h.root, "nosuch", "poweroff"], { code: "E_NOT_RUNNING" }],
    ["guest named like a path", () => ["guest", h.root, "../../web1", "poweroff"], { code: "E_NOT_RUNNING" }],
    ["guest named __proto__", () => ["guest", h.root, "__proto__", "poweroff"], { code: "E_NOT_RUNNING" }],
    ["ignore-acpi of a guest that does not exist", () => ["guest", h.root, "nosuch", "ignore-acpi"], { code: "E_NOT_RUNNING" }],
    ["guest on a missing directory", () => ["guest", fresh, "web1", "poweroff"], { code: "E_NOT_SANDBOX", absent: [fresh] }],
    ["network on a missing directory", () => ["network", fresh, "--address", "192.0.2.1"], { code: "E_NOT_SANDBOX", absent: [fresh] }],
    ["network without an address", () => ["network", h.root], usage()],
    ["network with an odd option", () => ["network", h.root, "--address"], usage()],
    ["network with an unknown option", () => ["network", h.root, "--gateway", "192.0.2.254", "--address", "192.0.2.1"], usage()],
    ["network with an address out of range", () => ["network", h.root, "--address", "192.0.2.256"], { code: "E_NET", message: /not an IPv4 address/ }],
    ["network with a host name", () => ["network", h.root, "--address", "localhost"], { code: "E_NET" }],
    ["network with prefix 33", () => ["network", h.root, "--address", "192.0.2.1", "--prefix", "33"], { code: "E_NET", message: /prefix 33 is not 1-32/ }],
    ["network with prefix abc", () => ["network", h.root, "--address", "192.0.2.1", "--prefix", "abc"], { code: "E_NET" }],
    ["network with a NIC that does not exist", () => ["network", h.root, "--address", "192.0.2.1", "--lagg", "nosuch0,nosuch1"], { code: "E_NET", message: /no such NIC/ }],
    ["network with lagg and bridge", () => ["network", h.root, "--address", "192.0.2.1", "--lagg", "igb0", "--bridge", "igb1"], { code: "E_NET", message: /not both/ }],
  ];
  for (const [name, args, want] of cases) test(name, () => refused(args(), want, sandboxMain));
  test("the directory that destroy refused is still there", () => assert.ok(readdirSync(dir).length > 0));
});
