import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { guestAction } from "../../sandbox/host.js";
import { makeTlsIdentity } from "../../provider/plugin/cert.js";
import { repoPath } from "../support/helpers.js";
import { until } from "../support/agent-host.js";
import { sshHost, sshKeyPair, TerraformDir, type SshHost } from "../support/terraform.js";

const user = sshKeyPair();
import { FW } from "../support/sandbox.js";

describe("the provider through the real terraform CLI, against a sandbox host over SSH", () => {
  let h: SshHost;
  let tf: TerraformDir;
  let original: string;
  let conn: { address: string; host_key: string };
  const config = (extra: Record<string, unknown> = {}, guestExtra: Record<string, unknown> = {}) => ({
    terraform: { required_providers: { bhyve: { source: "cdktf-bhyve/bhyve", version: "0.1.0" } } },
    provider: { bhyve: { ssh_private_key_file: join(tf.dir, "id_ed25519"), connect_timeout: "5s", host_keys: { [conn.address]: conn.host_key } } },
    resource: {
      bhyve_host: { h: { ...conn } },
      bhyve_ppt_device: { nic: { ...conn, device: "4/0/1", bind: "live", vendor_id: "0x8086", device_id: "0x1521", depends_on: ["bhyve_host.h"] } },
      bhyve_guest: { fw1: { ...conn, name: "fw1", cpus: 2, memory: "2G", bootrom: FW, disk: [{ path: "/dev/zvol/zroot/vm/fw1" }], passthru: [{ device: "4/0/1", slot: 7, function: 0 }], depends_on: ["bhyve_ppt_device.nic"], ...guestExtra } },
      ...extra,
    },
  });
  const plan = async () => tf.tf(["plan", "-detailed-exitcode", "-input=false"]);

  before(async () => {
    h = await sshHost("intel-vtd", user.publicKey, "127.0.1.21");
    tf = new TerraformDir();
    writeFileSync(join(tf.dir, "id_ed25519"), user.privateKey, { mode: 0o600 });
    conn = { address: h.gateway.address, host_key: h.gateway.hostKeyFingerprint };
    original = readFileSync(join(h.host.root, "boot/loader.conf"), "utf8");
  });
  after(async () => {
    await h.gateway.close();
    await h.host.destroy();
    tf.cleanup();
  });

  test("init takes the provider from the filesystem mirror", async () => {
    tf.config(config());
    const r = await tf.tf(["init", "-input=false"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Installing cdktf-bhyve\/bhyve v0\.1\.0/);
  });

  test("apply creates the host settings, the live reservation and the guest; then a plan has nothing to do", async () => {
    const r = await tf.tf(["apply", "-auto-approve", "-input=false"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Apply complete! Resources: 3 added, 0 changed, 0 destroyed\./);
    assert.match(readFileSync(join(h.host.root, "boot/loader.conf"), "utf8"), /^pptdevs="4\/0\/1"$/m);
    await until(() => h.host.machine().vms.fw1?.process != null, "fw1 running");
    const p = await plan();
    assert.equal(p.code, 0, p.stdout + p.stderr);
    const show = await tf.tf(["state", "show", "bhyve_guest.fw1"]);
    assert.match(show.stdout, /status\s+= "running"/);
    assert.match(show.stdout, /"7:0,passthru,4\/0\/1",/);
  });

  const driftCases: Array<[string, () => Promise<void> | void, RegExp]> = [
    ["a guest powered off from inside", () => guestAction(h.host.root, "fw1", "poweroff").then(() => {}), /state\s+= "stopped" -> "running"/],
    ["a device unbound from ppt with devctl", async () => {
      await guestAction(h.host.root, "fw1", "poweroff");
      await until(() => !h.host.machine().vms.fw1, "fw1 gone");
      assert.equal(h.host.run("devctl", ["set", "driver", "-f", "pci0:4:0:1", "igb"]).status, 0);
    }, /bound\s+= false -> true/],
    ["a managed loader.conf line edited by hand", () => {
      const f = join(h.host.root, "boot/loader.conf");
      writeFileSync(f, readFileSync(f, "utf8").replace('vmm_load="YES"', 'vmm_load="NO"'));
    }, /loader_conf_in_sync\s+= false -> true/],
    ["a guest deleted behind Terraform's back", () => {
      const r = h.host.cli(["apply", "-", "--json"], JSON.stringify({ ppt: [{ device: "4/0/1", bind: "live", vendor_id: "0x8086", device_id: "0x1521" }] }));
      assert.equal(r.status, 0, r.stderr);
    }, /# bhyve_guest\.fw1 will be created/],
  ];
  for (const [what, cause, shows] of driftCases) {
    test(`drift: ${what} shows in plan -detailed-exitcode (2), and apply heals it`, async () => {
      await cause();
      const p = await plan();
      assert.equal(p.code, 2, p.stdout + p.stderr);
      assert.match(p.stdout, shows);
      const a = await tf.tf(["apply", "-auto-approve", "-input=false"]);
      assert.equal(a.code, 0, a.stdout + a.stderr);
      await until(() => h.host.machine().vms.fw1?.process != null, "fw1 running again");
      const again = await plan();
      assert.equal(again.code, 0, again.stdout + again.stderr);
    });
  }

  test("import: a guest, a reservation and the host, with the host key from the provider's host_keys", async () => {
    for (const addr of ["bhyve_guest.fw1", "bhyve_ppt_device.nic", "bhyve_host.h"]) assert.equal((await tf.tf(["state", "rm", addr])).code, 0);
    for (const [addr, id] of [["bhyve_host.h", conn.address], ["bhyve_ppt_device.nic", `${conn.address}/4/0/1`], ["bhyve_guest.fw1", `${conn.address}/fw1`]] as const) {
      const r = await tf.tf(["import", "-input=false", addr, id]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const p = await plan();
    assert.equal(p.code, 0, p.stdout + p.stderr);
  });

  test("importing a VM the agent did not create is refused with what to do instead (adopt)", async () => {
    assert.equal(h.host.run("bhyvectl", ["--create", "--vm=byhand"]).status, 0);
    const c = config() as { resource: { bhyve_guest: Record<string, unknown> } };
    c.resource.bhyve_guest.byhand = { ...conn, name: "byhand", cpus: 1, memory: "256M", bootrom: FW };
    tf.config(c);
    try {
      const r = await tf.tf(["import", "-input=false", "bhyve_guest.byhand", `${conn.address}/byhand`]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr.replace(/[\s│]+/g, " "), /Not the agent's guest .*a VM named byhand runs on .*, but the agent did not create it.*declare the guest with adopt = true/);
    } finally {
      tf.config(config());
      h.host.run("bhyvectl", ["--destroy", "--vm=byhand"]);
    }
  });

  test("import blocks: terraform plan -generate-config-out writes configuration for the host, the reservation and the guest that imports them with no change", async () => {
    for (const addr of ["bhyve_guest.fw1", "bhyve_ppt_device.nic", "bhyve_host.h"]) assert.equal((await tf.tf(["state", "rm", addr])).code, 0);
    const ids = { "bhyve_host.h": conn.address, "bhyve_ppt_device.nic": `${conn.address}/4/0/1`, "bhyve_guest.fw1": `${conn.address}/fw1` };
    const { resource: _resources, ...rest } = config();
    tf.config({ ...rest, import: Object.entries(ids).map(([to, id]) => ({ to, id })) });
    const generated = join(tf.work, "generated.tf");
    try {
      const g = await tf.tf(["plan", "-input=false", "-generate-config-out=generated.tf"]);
      assert.equal(g.code, 0, g.stdout + g.stderr);
      const text = readFileSync(generated, "utf8");
      for (const [addr] of Object.entries(ids)) {
        const [type, name] = addr.split(".");
        assert.match(text, new RegExp(`resource "${type}" "${name}" \\{`), `${addr} written`);
      }
      assert.match(text, /name\s+= "fw1"/);
      assert.match(text, /passthru \{[^}]*device\s+= "4\/0\/1"/);
      assert.match(g.stdout, /Plan: 3 to import, 0 to add, 0 to change, 0 to destroy\./);
      const a = await tf.tf(["apply", "-auto-approve", "-input=false"]);
      assert.equal(a.code, 0, a.stdout + a.stderr);
      assert.match(a.stdout, /Apply complete! Resources: 3 imported, 0 added, 0 changed, 0 destroyed\./);
      const p = await plan();
      assert.equal(p.code, 0, p.stdout + p.stderr);
    } finally {
      // The hand-written configuration again for the tests after this one, whatever happened here.
      rmSync(generated, { force: true });
      tf.config(config());
    }
    const back = await plan();
    assert.equal(back.code, 0, `the generated configuration means what the hand-written one does:\n${back.stdout}${back.stderr}`);
  });

  test("a configuration mistake fails at plan, naming the attribute, before anything reaches the host", async () => {
    tf.config(config({}, { passthru: [{ device: "4/0/1", slot: 31, function: 0 }] }));
    const before = readFileSync(join(h.host.root, "boot/loader.conf"), "utf8");
    const p = await plan();
    assert.equal(p.code, 1);
    assert.match(p.stderr, /Invalid guest configuration/);
    assert.match(p.stderr, /passthru\[0\]\.slot: slot 31 is reserved for the LPC bridge/);
    assert.match(p.stderr, /on main\.tf\.json line \d+, in resource\.bhyve_guest\.fw1/);
    assert.equal(readFileSync(join(h.host.root, "boot/loader.conf"), "utf8"), before);
    tf.config(config());
  });

  test("a wrong pinned host key: refused, the offered key shown, nothing changed", async () => {
    tf.config(config({}, { host_key: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", cpus: 4 }));
    const a = await tf.tf(["apply", "-auto-approve", "-input=false"]);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /Host key mismatch/);
    assert.ok(a.stderr.replace(/\s+│?\s*/g, " ").includes(`the host offered ${conn.host_key}`), a.stderr);
    tf.config(config());
    assert.equal((await plan()).code, 0, "the guest was not changed");
  });

  test("destroy gives everything back: the device to igb, loader.conf byte for byte as it was", async () => {
    const d = await tf.tf(["destroy", "-auto-approve", "-input=false"]);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal(readFileSync(join(h.host.root, "boot/loader.conf"), "utf8"), original);
    const s = JSON.parse(h.host.cli(["status", "--json"]).stdout);
    assert.deepEqual(s.guests, []);
    assert.equal(h.host.machine().pci.find((f) => f.bus === 4 && f.function === 1)!.driver, "igb");
  });
});

test("the provider prints Terraform's go-plugin handshake naming a socket it listens on, stops cleanly on SIGTERM (socket removed, exit 0), and refuses to run without the magic cookie", { timeout: 60_000 }, async (t) => {
  const cookie = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, [repoPath("dist/terraform-provider-bhyve.mjs")], {
      env: { PATH: process.env.PATH, TF_PLUGIN_MAGIC_COOKIE: cookie, PLUGIN_PROTOCOL_VERSIONS: "5,6", PLUGIN_CLIENT_CERT: makeTlsIdentity().certPem },
    });
    const exited = new Promise<unknown>((r) => child.on("exit", (code, signal) => r(signal ?? code)));
    let sock = "";
    try {
      const line = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString())));
      times.push(performance.now() - t0);
      const m = /^1\|6\|unix\|(\/.+\/plugin\.sock)\|grpc\|[A-Za-z0-9+/]{60,}\n$/.exec(line);
      assert.ok(m, line);
      sock = m[1]!;
      assert.ok(statSync(sock).isSocket(), `${sock} is a socket`);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, "the provider stops on SIGTERM with exit 0 (one that does not runs into the test's timeout)");
    assert.equal(existsSync(sock), false, "and removes its socket");
  }
  t.diagnostic(`provider start to handshake: ${times.map((x) => x.toFixed(0)).join(", ")} ms`);
  const refused = spawn(process.execPath, [repoPath("dist/terraform-provider-bhyve.mjs")], { env: { PATH: process.env.PATH } });
  let err = "";
  refused.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => refused.on("exit", r));
  assert.equal(code, 1);
  assert.match(err, /This binary is a plugin/);
});
