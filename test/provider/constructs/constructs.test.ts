import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { App, Fn, TerraformLocal, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { Construct } from "constructs";
import { BhyveHost, BhyveProvider, Guest, type GuestProps } from "cdktf-bhyve";
import { checkDocumentData } from "../../../agent/model/validate.js";
import { checkDocumentText } from "../../../agent/model/document.js";
import { GpuHostStack } from "../../../examples/gpu-host/stack.js";
import { FleetStack } from "../../../examples/fleet/stack.js";
import { parseInventory } from "../../../examples/fleet/inventory.js";
import { generateBindings, readTree } from "../../../provider/constructs/generate.js";
import { repoPath } from "../../support/helpers.js";
import { TerraformDir } from "../../support/terraform.js";
import { providerSchemaJson } from "../../../provider/constructs/schema-json.js";
import { PROVIDER_VERSION } from "../../../provider/version.js";

const KEY = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78";
import { FW } from "../../support/sandbox.js";

/** Synth output directories made by the tests, removed when the file's tests end. */
const outdirs: string[] = [];
after(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function stackWithHost() {
  const outdir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-synth-"));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "s");
  new BhyveProvider(stack, "bhyve", { sshPrivateKeyFile: "/k" });
  const host = new BhyveHost(stack, "h1", { address: "127.0.1.2:22", hostKey: KEY });
  return { app, stack, host, outdir };
}

/**
 * Synthesizes with validations on; returns the validation lines, or [] when it passed. Anything
 * else thrown (a crash in a construct, a validation failure without problem lines) is rethrown.
 */
function synthErrors(stack: TerraformStack): string[] {
  try {
    Testing.synth(stack, true);
    return [];
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    const lines = message.split("\n").filter((l) => l.startsWith("  [")).map((l) => l.trim());
    if (!message.startsWith("Validation failed with the following errors:") || lines.length === 0) throw err;
    return lines;
  }
}

test("synthErrors tells a crash from a validation failure", () => {
  const { stack } = stackWithHost();
  new (class extends Construct {
    constructor() {
      super(stack, "crash");
      this.node.addValidation({ validate: () => { throw new TypeError("cannot read properties of undefined"); } });
    }
  })();
  assert.throws(() => synthErrors(stack), /cannot read properties of undefined/);
  const bad = stackWithHost();
  new Guest(bad.stack, "g", guest(bad.host, { cpus: 0 }));
  assert.deepEqual(synthErrors(bad.stack), ["[s/g] cpus: 0 is out of range (1-4096)"]);
});

const guest = (host: BhyveHost, over: Partial<GuestProps> = {}): GuestProps => ({ host, name: "g1", cpus: 2, memory: "2G", bootrom: FW, ...over });

describe("synth-time validation: every spec rule, named by construct path and field", () => {
  test("a valid host synthesizes, and a guest depends on the host and the reservations it uses", () => {
    const { stack, host } = stackWithHost();
    const gpu = host.reservePpt("gpu", { device: "3/0/0" });
    host.reservePpt("audio", { device: "pci0:3:0:1" });
    host.reservePpt("unused", { device: "5/0/0" });
    new Guest(stack, "g1", guest(host, { passthru: [{ device: gpu, slot: 6 }, { device: "3/0/1", slot: 6 }] }));
    assert.deepEqual(synthErrors(stack), []);
    const json = JSON.parse(Testing.synth(stack, true));
    const key = (type: string, fragment: string) => `${type}.${Object.keys(json.resource[type]).find((k) => k.includes(fragment))!}`;
    const g = Object.values(json.resource.bhyve_guest)[0] as { depends_on: string[]; passthru: Array<{ device: string }> };
    assert.deepEqual([...g.depends_on].sort(), [key("bhyve_host", "h1"), key("bhyve_ppt_device", "gpu"), key("bhyve_ppt_device", "audio")].sort(),
      "the device given as a string is found among the host's reservations; the unused one is not a dependency");
    assert.deepEqual(g.passthru.map((p) => p.device), ["3/0/0", "3/0/1"]);
  });

  test("switches: host.addSwitch makes a bhyve_switch; a guest NIC on it depends on it; passthru.md lists the switches", () => {
    const { stack, host, outdir } = stackWithHost();
    const lan = host.addSwitch("lan", { uplink: "igb1" });
    host.addSwitch("dmz", { uplink: "igb1", vlan: 20, mtu: 9000 });
    new Guest(stack, "g1", guest(host, { nics: [{ switch: lan }, { switch: "dmz", model: "e1000" }, { tap: "tap9" }] }));
    assert.deepEqual(synthErrors(stack), []);
    const json = JSON.parse(Testing.synth(stack, true));
    const sw = Object.values(json.resource.bhyve_switch) as Array<Record<string, unknown>>;
    assert.deepEqual(sw.map((w) => [w.name, w.uplink, w.vlan ?? null, w.mtu ?? null]).sort(), [["dmz", "igb1", 20, 9000], ["lan", "igb1", null, null]]);
    const g = Object.values(json.resource.bhyve_guest)[0] as { depends_on: string[]; nic: Array<Record<string, unknown>> };
    assert.deepEqual(g.nic.map((n) => [n.switch ?? null, n.tap ?? null]), [["lan", null], ["dmz", null], [null, "tap9"]]);
    assert.equal(g.depends_on.filter((d) => d.startsWith("bhyve_switch.")).length, 2, "both switches, as a construct and by name");
    assert.deepEqual(host.toDocument().switches, [{ name: "lan", uplink: "igb1" }, { name: "dmz", uplink: "igb1", vlan: 20, mtu: 9000 }]);
    Testing.fullSynth(stack);
    const md = readFileSync(join(outdir, "passthru.md"), "utf8");
    assert.match(md, /\| lan \| igb1 \| - \| - \| g1 \|/);
    assert.match(md, /\| dmz \| igb1 \| 20 \| 9000 \| g1 \|/);
    assert.match(md, /virtio-net,\{switch:lan\}/);
  });

  test("the GPU knobs and identity reach bhyve_guest, the host's document and passthru.md; a topology that is not cpus fails at synth", () => {
    const { stack, host, outdir } = stackWithHost();
    new Guest(stack, "g1", guest(host, { cpus: 4, rtc: "localtime", ignoreUnknownMsrs: true, hostbridge: "amd", sockets: 1, cores: 2, threads: 2,
      cpuPinning: [{ vcpu: 0, hostCpu: 4 }], uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8" }));
    assert.deepEqual(synthErrors(stack), []);
    const json = JSON.parse(Testing.synth(stack, true));
    const g = Object.values(json.resource.bhyve_guest)[0] as Record<string, unknown>;
    assert.deepEqual([g.rtc, g.ignore_unknown_msrs, g.hostbridge, g.sockets, g.cores, g.threads, g.cpu_pin, g.uuid],
      ["localtime", true, "amd", 1, 2, 2, [{ vcpu: 0, host_cpu: 4 }], "6ba7b810-9dad-41d1-80b4-00c04fd430c8"]);
    const doc = host.toDocument().guests as Array<Record<string, unknown>>;
    assert.deepEqual(doc[0]!.cpu_pinning, [{ vcpu: 0, host_cpu: 4 }]);
    Testing.fullSynth(stack);
    assert.match(readFileSync(join(outdir, "passthru.md"), "utf8"), /-c cpus=4,sockets=1,cores=2,threads=2 -m 2G -A -H -P -w -p 0:4 -U 6ba7b810-9dad-41d1-80b4-00c04fd430c8 -s 0,amd_hostbridge/);
    const bad = stackWithHost();
    new Guest(bad.stack, "g", guest(bad.host, { cpus: 4, cores: 3 }));
    assert.deepEqual(synthErrors(bad.stack), ["[s/g] cores: sockets x cores x threads is 1 x 3 x 1 = 3, not the guest's 4 cpus"]);
  });

  test("a framebuffer and the console reach bhyve_guest (one framebuffer block), the host's document and passthru.md; one without a bootrom fails at synth", () => {
    const { stack, host, outdir } = stackWithHost();
    new Guest(stack, "g1", guest(host, { console: false, framebuffer: { width: 1280, height: 720, wait: true } }));
    assert.deepEqual(synthErrors(stack), []);
    const json = JSON.parse(Testing.synth(stack, true));
    const g = Object.values(json.resource.bhyve_guest)[0] as Record<string, unknown>;
    assert.deepEqual([g.console, g.framebuffer], [false, { width: 1280, height: 720, wait: true }]);
    assert.deepEqual((host.toDocument().guests as Array<Record<string, unknown>>)[0]!.framebuffer, { width: 1280, height: 720, wait: true });
    Testing.fullSynth(stack);
    const md = readFileSync(join(outdir, "passthru.md"), "utf8");
    assert.match(md, /framebuffer 1280x720, boot held until a viewer connects, VNC on 127\.0\.0\.1:a port the agent allocates from 5900 \(\{vnc-port\} below\); no serial console/);
    assert.match(md, /-s 29:0,fbuf,rfb=127\.0\.0\.1:\{vnc-port\},w=1280,h=720,wait -s 30:0,xhci,tablet -s 31,lpc -l bootrom,/);
    const bad = stackWithHost();
    new Guest(bad.stack, "g", guest(bad.host, { bootrom: undefined, disks: [{ path: "/vm/g.img" }], framebuffer: { width: 1024 } }));
    assert.deepEqual(synthErrors(bad.stack), ["[s/g] framebuffer: a framebuffer needs a UEFI guest: set bootrom, or drop framebuffer (a bhyveload guest has the serial console)"]);
  });

  const cases: Array<[string, (s: TerraformStack, h: BhyveHost) => void, string[]]> = [
    ["two guests on one host given the same device", (s, h) => {
      const gpu = h.reservePpt("gpu", { device: "3/0/0" });
      new Guest(s, "a", guest(h, { name: "a", passthru: [{ device: gpu, slot: 6 }] }));
      new Guest(s, "b", guest(h, { name: "b", passthru: [{ device: gpu, slot: 6 }] }));
    }, ["[s/b] passthru[0].device: 3/0/0 is already passed to guest a"]],
    ["a slot collision between passthrough and a disk", (s, h) => {
      const nic = h.reservePpt("nic", { device: "4/0/0" });
      new Guest(s, "a", guest(h, { name: "a", disks: [{ path: "/vm/a", slot: 6 }], passthru: [{ device: nic, slot: 6 }] }));
    }, ["[s/a] disks[0].slot: slot 6 is already taken by passthru[0] (4/0/0)"]],
    ["a passthrough device with no PptDevice on that host", (s, h) => {
      new Guest(s, "a", guest(h, { name: "a", passthru: [{ device: "5/0/0", slot: 6 }] }));
    }, ["[s/a] passthru[0].device: 5/0/0 is not reserved on this host; add it to ppt"]],
    ["a multi-function device split across guests", (s, h) => {
      const gpu = h.reservePpt("gpu", { device: "3/0/0" });
      const audio = h.reservePpt("audio", { device: "3/0/1" });
      new Guest(s, "a", guest(h, { name: "a", passthru: [{ device: gpu, slot: 6 }] }));
      new Guest(s, "b", guest(h, { name: "b", passthru: [{ device: audio, slot: 6, function: 0 }] }));
    }, ["[s/b] passthru[0].device: 3/0/1 is a function of the device at 3/0, whose function 3/0/0 is passed to guest a; pass all functions of a device to the same guest (FreeBSD assigns functions one by one, and functions of one device are not isolated from each other)"]],
    ["too many reservations for pptdevs, pptdevs2 and pptdevs3", (_s, h) => {
      for (let i = 0; i < 43; i++) h.reservePpt(`d${i}`, { device: `${100 + (i >> 3)}/${10 + ((i >> 1) % 4)}/${i % 8}` });
    }, ["[s/h1] ppt: 43 devices need 4 loader variables of at most 128 characters, but the kernel reads only pptdevs, pptdevs2, pptdevs3; reserve fewer devices on this host"]],
    ["bad names and addresses", (s, h) => {
      h.reservePpt("bad", { device: "3:0:0" });
      new Guest(s, "a", guest(h, { name: "no spaces please" }));
    }, [
      '[s/h1/bad] device: "3:0:0" is not a PCI address; write bus/slot/function in decimal (e.g. 3/0/0) or pci0:B:S:F',
      '[s/a] name: "no spaces please" is not a guest name: 1-31 characters, letters, digits, _ . -, starting with a letter or digit',
    ]],
    ["a PptDevice of another host", (s, h) => {
      const other = new BhyveHost(s, "h2", { address: "127.0.1.3:22", hostKey: KEY });
      const d = other.reservePpt("gpu", { device: "3/0/0" });
      new Guest(s, "a", guest(h, { name: "a", passthru: [{ device: d, slot: 6 }] }));
    }, [
      "[s/a] passthru[0].device: 3/0/0 is not reserved on this host; add it to ppt",
      "[s/a] passthru[0].device: s/h2/gpu is reserved on host s/h2 (127.0.1.3:22), not on s/h1 (127.0.1.2:22)",
    ]],
    ["a NIC on a switch the host does not have, one of another host, and a bad VLAN", (s, h) => {
      const other = new BhyveHost(s, "h2", { address: "127.0.1.3:22", hostKey: KEY });
      const far = other.addSwitch("far");
      h.addSwitch("lan", { vlan: 5 });
      new Guest(s, "a", guest(h, { name: "a", nics: [{ switch: "wan" }, { switch: far }] }));
    }, [
      "[s/h1/switch-lan] vlan: a VLAN is carried on an uplink; set uplink, or drop vlan for a host-only switch",
      "[s/a] nics[0].switch: there is no switch wan in this document (switches: lan)",
      "[s/a] nics[1].switch: there is no switch far in this document (switches: lan)",
      "[s/a] nics[1].switch: s/h2/switch-far is a switch of host s/h2 (127.0.1.3:22), not of s/h1 (127.0.1.2:22)",
    ]],
    ["duplicate guest names and taps on one host", (s, h) => {
      new Guest(s, "a", guest(h, { name: "web", nics: [{ tap: "tap0" }] }));
      new Guest(s, "b", guest(h, { name: "web", nics: [{ tap: "tap0" }] }));
    }, ['[s/b] name: duplicate guest name "web" (also guests[0])', "[s/b] nics[0].tap: tap0 is already used by guest web"]],
  ];
  for (const [what, build, expected] of cases) {
    test(what, () => {
      const { stack, host } = stackWithHost();
      build(stack, host);
      assert.deepEqual(synthErrors(stack).sort(), [...expected].sort());
    });
  }

  test("a guest with values known only at apply is not guessed at; the others are still checked", () => {
    const { stack, host } = stackWithHost();
    const cpus = new TerraformVariable(stack, "cpus", { type: "number" }).numberValue;
    new Guest(stack, "later", guest(host, { name: "later", cpus, passthru: [{ device: "9/0/0", slot: 31 }] }));
    new Guest(stack, "now", guest(host, { name: "now", cpus: 0 }));
    assert.deepEqual(synthErrors(stack), ["[s/now] cpus: 0 is out of range (1-4096)"]);
  });
});

describe("BhyveProvider's SSH key", () => {
  const PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
  const synthOut = (setup: (stack: TerraformStack) => void, skipValidation = false): { errors: string[]; json: string } => {
    const outdir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-key-"));
    outdirs.push(outdir);
    const app = new App({ outdir, skipValidation });
    const stack = new TerraformStack(app, "s");
    setup(stack);
    const errors = skipValidation ? [] : synthErrors(stack);
    if (errors.length === 0) app.synth();
    const file = join(outdir, "stacks", "s", "cdk.tf.json");
    return { errors, json: errors.length === 0 ? readFileSync(file, "utf8") : "" };
  };

  test("a literal key is refused at synth, naming sshPrivateKey and what to use instead", () => {
    const { errors } = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: PEM }));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^\[s\/bhyve\] sshPrivateKey: a literal private key would be written in clear into cdk\.tf\.json; give sshPrivateKeyFile .*sshAgentSocket .*sensitive TerraformVariable/);
    assert.doesNotMatch(errors[0]!, /BEGIN OPENSSH/, "the message does not repeat the key");
  });

  test("even with validations off, a literal key never reaches cdk.tf.json", () => {
    const { json } = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: PEM }), true);
    assert.doesNotMatch(json, /PRIVATE KEY|b3BlbnNzaC1rZXkt|ssh_private_key"/);
  });

  test("a sensitive TerraformVariable's value is taken; cdk.tf.json holds a reference to it, not a key", () => {
    const { errors, json } = synthOut((s) => {
      const key = new TerraformVariable(s, "ssh_key", { type: "string", sensitive: true });
      new BhyveProvider(s, "bhyve", { sshPrivateKey: key.stringValue });
    });
    assert.deepEqual(errors, []);
    const tf = JSON.parse(json);
    assert.equal(tf.provider.bhyve[0].ssh_private_key, "${var.ssh_key}");
    assert.equal(tf.variable.ssh_key.sensitive, true);
    assert.doesNotMatch(json, /PRIVATE KEY/);
  });

  test("a variable reference written as a string is checked against the stack's variables, overrides included", () => {
    const declared = synthOut((s) => {
      s.addOverride("variable.deploy_key", { type: "string", sensitive: true });
      new BhyveProvider(s, "bhyve", { sshPrivateKey: "${var.deploy_key}" });
    });
    assert.deepEqual(declared.errors, []);
    assert.equal(JSON.parse(declared.json).provider.bhyve[0].ssh_private_key, "${var.deploy_key}");
    const undeclared = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: "${var.deploy_key}" }));
    assert.deepEqual(undeclared.errors, ['[s/bhyve] sshPrivateKey: variable "deploy_key" is not declared in this stack, so it cannot be checked to be sensitive; give sshPrivateKeyFile (the key\'s path), sshAgentSocket (an ssh-agent), or a sensitive TerraformVariable\'s value without a default (new TerraformVariable(stack, "ssh_key", { type: "string", sensitive: true }).stringValue)']);
  });

  test("a reference that could still write the key is refused: a local, a non-sensitive variable, a default, an expression", () => {
    const cases: Array<[string, (s: TerraformStack) => string, RegExp]> = [
      ["a local", (s) => new TerraformLocal(s, "key", PEM).asString, /not another expression/],
      ["a variable that is not sensitive", (s) => new TerraformVariable(s, "plain", { type: "string" }).stringValue, /variable "plain" is not sensitive/],
      ["a sensitive variable with a default", (s) => new TerraformVariable(s, "withdef", { type: "string", sensitive: true, default: PEM }).stringValue, /variable "withdef" has a default, which is written in clear/],
      ["a function of a variable", (s) => Fn.trimspace(new TerraformVariable(s, "k2", { type: "string", sensitive: true }).stringValue), /not another expression/],
    ];
    for (const [what, key, message] of cases) {
      const { errors } = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: key(s) }));
      assert.equal(errors.length, 1, what);
      assert.match(errors[0]!, message, what);
      assert.doesNotMatch(errors[0]!, /BEGIN OPENSSH|b3BlbnNzaC1rZXkt/, `${what}: the message does not repeat the key`);
    }
    const mixed = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: `${PEM}\${var.x}` }), true);
    assert.doesNotMatch(mixed.json, /PRIVATE KEY|b3BlbnNzaC1rZXkt/, "text around a reference is a literal: never written, even with validations off");
    const withToken = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKey: PEM + new TerraformVariable(s, "k3", { type: "string", sensitive: true }).stringValue }), true);
    assert.doesNotMatch(withToken.json, /PRIVATE KEY|b3BlbnNzaC1rZXkt/, "text around a token is a literal too: never written, even with validations off");
  });

  test("a key file and an agent socket are taken", () => {
    const file = synthOut((s) => new BhyveProvider(s, "bhyve", { sshPrivateKeyFile: "/home/ops/.ssh/bhyve_deploy", sshAgentSocket: "/tmp/agent.sock" }));
    assert.deepEqual(file.errors, []);
    assert.equal(JSON.parse(file.json).provider.bhyve[0].ssh_private_key_file, "/home/ops/.ssh/bhyve_deploy");
  });
});

describe("cdktf.out/passthru.md", () => {
  test("every synth writes the per-host table, the pptdevs lines and each guest's command line", () => {
    const outdir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-report-"));
    try {
      const app = new App({ outdir });
      new GpuHostStack(app, "gpu-host", { address: "127.0.1.11:22", hostKey: KEY, sshPrivateKeyFile: "/k" });
      app.synth();
      const md = readFileSync(join(outdir, "passthru.md"), "utf8");
      assert.match(md, /^\| 3\/0\/0 \| 0x10de:0x1e07 \| boot \| ml1 \| 6:0 \|$/m);
      assert.match(md, /^\| 3\/0\/1 \| 0x10de:0x10f7 \| boot \| ml1 \| 6:1 \|$/m);
      assert.match(md, /^\| 4\/0\/1 \| 0x8086:0x1521 \| live \| fw1 \| 7:0 \|$/m);
      assert.match(md, /^pptdevs="3\/0\/0 3\/0\/1 4\/0\/1"$/m);
      assert.match(md, /^\/usr\/sbin\/bhyve -c 8 -m 32G -S .* -s 6:0,passthru,3\/0\/0 -s 6:1,passthru,3\/0\/1 .* ml1$/m);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("the examples", () => {
  test("gpu-host: the CDKTF app and host.yaml are the same desired state", () => {
    const app = Testing.app();
    const s = new GpuHostStack(app, "gpu-host", { address: "127.0.1.11:22", hostKey: KEY, sshPrivateKeyFile: "/k" });
    assert.deepEqual(synthErrors(s), []);
    const fromApp = checkDocumentData(s.host.toDocument());
    const fromYaml = checkDocumentText(readFileSync(repoPath("examples/gpu-host/host.yaml"), "utf8"));
    assert.ok(fromApp.ok && fromYaml.ok);
    assert.deepEqual(fromApp.state, fromYaml.state);
  });

  test("fleet: every host valid, names unique, the inventory checked", () => {
    const inv = parseInventory({
      sshPrivateKeyFile: "/k",
      hosts: [
        { name: "gpu1", address: "127.0.1.31:22", hostKey: KEY, role: "gpu", webGuests: 2 },
        { name: "edge1", address: "127.0.1.32:22", hostKey: KEY, role: "edge", webGuests: 1 },
        { name: "gen1", address: "127.0.1.33:22", hostKey: KEY, role: "general", webGuests: 3 },
      ],
    });
    const s = new FleetStack(Testing.app(), "fleet", inv);
    assert.deepEqual(synthErrors(s), []);
    const json = JSON.parse(Testing.synth(s, true));
    assert.equal(Object.keys(json.resource.bhyve_host).length, 3);
    assert.equal(Object.keys(json.resource.bhyve_guest).length, 8);
    assert.equal(Object.keys(json.resource.bhyve_ppt_device).length, 3);
    assert.throws(() => parseInventory({ sshPrivateKeyFile: "/k", hosts: [{ name: "A", address: "x", hostKey: KEY, role: "gpu", webGuests: 1 }] }), /hosts\[0\] needs name \(lowercase\)/);
  });

  for (const dir of [".", "examples/fleet"]) {
    test(`cdktf synth (the real CLI) of ${dir === "." ? "examples/gpu-host" : dir}`, async () => {
      const home = mkdtempSync(join(tmpdir(), "cdktf-bhyve-home-"));
      const out = mkdtempSync(join(tmpdir(), "cdktf-bhyve-out-"));
      try {
        const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
          execFile(repoPath("node_modules/.bin/cdktf"), ["synth", "--output", out], {
            cwd: repoPath(dir), timeout: 120_000,
            env: { PATH: process.env.PATH, HOME: home, CDKTF_HOME: home, CHECKPOINT_DISABLE: "1", DISABLE_VERSION_CHECK: "true", CI: "1" },
          }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
        });
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /Generated Terraform code for the stacks/);
        assert.ok(readFileSync(join(out, "passthru.md"), "utf8").includes("# Passthrough"));
      } finally {
        rmSync(home, { recursive: true, force: true });
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});

describe("the L1 bindings", () => {
  test("the schema they are generated from is the one the running provider reports to terraform", async () => {
    const tf = new TerraformDir();
    try {
      tf.config({ terraform: { required_providers: { bhyve: { source: "cdktf-bhyve/bhyve", version: PROVIDER_VERSION } } } });
      assert.equal((await tf.tf(["init", "-input=false"])).code, 0);
      const r = await tf.tf(["providers", "schema", "-json"]);
      assert.equal(r.code, 0, r.stderr);
      const reported = JSON.parse(r.stdout);
      const ours = providerSchemaJson();
      assert.deepEqual(reported.provider_schemas, ours.provider_schemas);
    } finally {
      tf.cleanup();
    }
  });

  test("regenerating them from the provider's schema gives exactly the files in the repository", async () => {
    const fresh = await generateBindings();
    const committed = readTree(repoPath("provider/constructs/gen"));
    assert.deepEqual([...fresh.keys()].sort(), [...committed.keys()].sort());
    for (const [file, text] of fresh) assert.equal(committed.get(file), text, `${file} differs: run npx cdktf-bhyve gen-bindings`);
  });
});
