/**
 * Bootstrap and upgrade against a sandbox host behind the real sshd: `cdktf-bhyve bootstrap` logs
 * in with the administrator's key (a full shell), checks the host, uploads the agent, builds the
 * native pieces with this machine's compiler and installs everything under the sandbox root; the
 * deploy key it adds can then only speak the agent protocol. `agent.upgrade` then installs a newer
 * bundle over that protocol, checked and switched atomically, with the running guest untouched, and
 * `bhyve-agent rollback` goes back.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AgentCallError, AgentConnection } from "../../provider/ssh/agent-client.js";
import { ShellSession } from "../../provider/ssh/shell-session.js";
import { FW, until } from "../support/agent-host.js";
import { runBin } from "../support/cli.js";
import { prerequisite, repoPath } from "../support/helpers.js";
import { sshKeyPair, TerraformDir } from "../support/terraform.js";
import { PROVIDER_VERSION } from "../../provider/version.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("bootstrap and agent.upgrade, end to end", prerequisite("bootstrap and agent.upgrade, end to end", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  const keys = mkdtempSync(join(tmpdir(), "cdktf-bhyve-deploy-"));
  const deployKey = join(keys, "deploy_ed25519");
  const conns: AgentConnection[] = [];

  const bootstrap = (extra: string[] = []): Promise<Ran> => new Promise((resolve) => {
    execFile(process.execPath, [repoPath("dist/cdktf-bhyve.mjs"), "bootstrap", host.address, "--host-key", host.hostKeyFingerprint,
      "--ssh-user", fleet.account.user, "--ssh-key-file", fleet.adminKeyFile, "--root", host.sandbox.root, "--node", process.execPath,
      "--deploy-key", `${deployKey}.pub`, ...extra], { timeout: 900_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });
  const said = (r: Ran) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  /** A fresh connection with the deploy key (a new agent process, as each provider run makes). */
  const deployConnection = (): AgentConnection => {
    const c = new AgentConnection(host.address, host.hostKeyFingerprint, { auth: { user: fleet.account.user, privateKey: readFileSync(deployKey, "utf8") }, connectTimeoutMs: 10_000, commandTimeoutMs: 120_000 });
    conns.push(c);
    return c;
  };
  const installDir = () => join(host.sandbox.root, "usr/local/libexec/bhyve-agent");

  before(async () => {
    const kp = sshKeyPair();
    writeFileSync(deployKey, kp.privateKey, { mode: 0o600 });
    writeFileSync(`${deployKey}.pub`, `${kp.publicKey.trim()} deploy@ci\n`);
    [host] = (await fleet.start([{ name: "boot", profile: "intel-vtd", admin: true }], 71)) as [SshdHost];
  });
  after(async () => {
    conns.forEach((c) => c.close());
    await fleet.stop();
    rmSync(keys, { recursive: true, force: true });
  });

  test("a host without Node.js at the given path: the exact packages are named and nothing is installed", async () => {
    const r = await bootstrap(["--node", "/nonexistent/bin/node"]);
    assert.equal(r.code, 1, said(r));
    assert.match(r.stdout, /: FreeBSD 14\.\d-RELEASE/);
    assert.match(r.stderr, /is not ready for the agent; nothing was installed:\n {2}- Node\.js is not at \/nonexistent\/bin\/node: (pkg )?install (-y )?node20 npm-node20/);
    assert.equal(existsSync(installDir()), false);
  });

  test("bootstrap installs the agent, builds the native pieces on the host, and adds a restricted deploy key; a second run changes nothing", async () => {
    const r = await bootstrap();
    assert.equal(r.code, 0, said(r));
    assert.match(r.stdout, /: native pieces \(.+\): built with this host's compiler$/m);
    assert.match(r.stdout, /: agent 0\.1\.0-[0-9a-f]{12}: installed as current$/m);
    assert.match(r.stdout, /usr\/local\/bin\/bhyve-agent: written$/m);
    assert.match(r.stdout, /usr\/local\/etc\/rc\.d\/bhyve_agent: written/m);
    assert.match(r.stdout, /: deploy key in .+\/root\/\.ssh\/authorized_keys: added/m);
    for (const f of ["native/build/Release/bhyve-monitor", "native/build/Release/bhyve_probe.node", "current/dist/bhyve-agent.mjs"]) assert.ok(existsSync(join(installDir(), f)), f);
    const keys = readFileSync(join(host.sandbox.root, "root/.ssh/authorized_keys"), "utf8");
    assert.match(keys, /^restrict,command="'[^"]+\/usr\/local\/bin\/bhyve-agent' 'rpc' '--root' '[^"]+'" ssh-ed25519 \S+ deploy@ci$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /upload\.\w+ /, "the upload directory is not left behind");

    const hello = await deployConnection().call("agent.hello");
    assert.equal(hello.version, "0.1.0");
    assert.ok(realpathSync(hello.executable!).startsWith(realpathSync(join(installDir(), "versions"))), `the deploy key runs the installed agent, not ${hello.executable}`);
    assert.equal(hello.native_probe.available, true, "the addon built on the host loads");

    // The deploy key cannot do anything but the agent protocol: a command it asks for is not run.
    const s = await ShellSession.open(host.address, host.hostKeyFingerprint, { auth: { user: fleet.account.user, privateKey: readFileSync(deployKey, "utf8") }, connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 });
    try {
      const id = await s.run(["id"]);
      assert.doesNotMatch(id.stdout, /uid=/);
    } finally {
      s.close();
    }

    const again = await bootstrap();
    assert.equal(again.code, 0, said(again));
    for (const l of [/native pieces \(.+\): unchanged/, /agent 0\.1\.0-[0-9a-f]{12}: already current/, /bhyve-agent: unchanged/, /bhyve_agent: unchanged/, /deploy key in .+: unchanged/]) assert.match(again.stdout, l);
    assert.equal(readFileSync(join(host.sandbox.root, "root/.ssh/authorized_keys"), "utf8"), keys);
  });

  test("agent.upgrade: checked, switched atomically, previous kept; the running guest is not touched; rollback goes back", async () => {
    const c = deployConnection();
    const apply = await c.call("host.apply", { document: { guests: [{ name: "web", cpus: 1, memory: "512M", bootrom: FW, nics: [{ tap: "tap0" }] }] } });
    assert.deepEqual(apply.refused, []);
    await until(() => host.sandbox.machine().vms.web?.process != null, "web runs");
    const monitorPid = (await c.call("guest.list")).find((g) => g.name === "web")!.monitor_pid;

    const current = readFileSync(repoPath("dist/bhyve-agent.mjs"), "utf8");
    const newer = Buffer.from(current.replace('var AGENT_VERSION = "0.1.0";', 'var AGENT_VERSION = "0.1.1";'));
    assert.notEqual(newer.toString(), current, "the test bundle differs");
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const call = (params: { bundle: string; sha256: string; version?: string }) => c.call("agent.upgrade", params);

    // The host's policy decides whether a deploy key may replace the agent; by default it may not.
    await assert.rejects(call({ bundle: newer.toString("base64"), sha256: sha(newer) }), (e: AgentCallError) => e.code === "E_POLICY" && /policy agent_upgrade: false/.test(e.message));
    const conf = join(host.sandbox.root, "usr/local/etc/bhyve-agent.conf");
    writeFileSync(conf, `${readFileSync(conf, "utf8")}policy:\n  agent_upgrade: true\n`);
    await assert.rejects(call({ bundle: newer.toString("base64"), sha256: sha(Buffer.from("other")) }), (e: AgentCallError) => e.code === "E_CHECKSUM" && /nothing was installed/.test(e.message));
    const broken = Buffer.from("this is not javascript(");
    await assert.rejects(call({ bundle: broken.toString("base64"), sha256: sha(broken) }), (e: AgentCallError) => e.code === "E_BUNDLE_BROKEN");
    await assert.rejects(call({ bundle: newer.toString("base64"), sha256: sha(newer), version: "9.9.9" }), (e: AgentCallError) => e.code === "E_VERSION_MISMATCH");
    assert.equal((await deployConnection().call("agent.hello")).version, "0.1.0", "refused upgrades switched nothing");

    const up = await call({ bundle: newer.toString("base64"), sha256: sha(newer), version: "0.1.1" });
    assert.equal(up.changed, true);
    assert.match(up.installed, /^0\.1\.1-[0-9a-f]{12}$/);
    assert.match(up.previous!, /^0\.1\.0-[0-9a-f]{12}$/);
    assert.equal((await deployConnection().call("agent.hello")).version, "0.1.1", "a new session runs the new version");
    const after = await deployConnection().call("guest.list");
    assert.deepEqual(after.map((g) => [g.name, g.state, g.monitor_pid]), [["web", "running", monitorPid]], "the guest's monitor was not disturbed");

    const rb = runBin("bhyve-agent", ["rollback", "--root", host.sandbox.root]);
    assert.equal(rb.status, 0, rb.stderr);
    assert.match(rb.stdout, /^current: 0\.1\.0-[0-9a-f]{12} \(was 0\.1\.1-[0-9a-f]{12}, kept as previous\)$/m);
    assert.equal((await deployConnection().call("agent.hello")).version, "0.1.0");
  });

  test("the provider warns about an older agent, and upgrades it when agent_upgrade = true", async () => {
    const current = readFileSync(repoPath("dist/bhyve-agent.mjs"), "utf8");
    const older = Buffer.from(current.replace('var AGENT_VERSION = "0.1.0";', 'var AGENT_VERSION = "0.0.9";'));
    await deployConnection().call("agent.upgrade", { bundle: older.toString("base64"), sha256: createHash("sha256").update(older).digest("hex") });
    assert.equal((await deployConnection().call("agent.hello")).version, "0.0.9");
    const tf = new TerraformDir();
    try {
      const config = (upgrade: boolean) => tf.config({
        terraform: { required_providers: { bhyve: { source: "cdktf-bhyve/bhyve", version: PROVIDER_VERSION } } },
        provider: { bhyve: { ssh_user: fleet.account.user, ssh_private_key_file: deployKey, agent_upgrade: upgrade } },
        data: { bhyve_host_facts: { h: { address: host.address, host_key: host.hostKeyFingerprint } } },
      });
      config(false);
      assert.equal((await tf.tf(["init", "-input=false"])).code, 0);
      const warned = await tf.tf(["plan", "-input=false"]);
      assert.equal(warned.code, 0, warned.stderr);
      assert.match((warned.stdout + warned.stderr).replace(/\s+/g, " "), /Warning: Older bhyve-agent on \S+ .*runs bhyve-agent 0\.0\.9; this provider comes with 0\.1\.0\. Set agent_upgrade = true/);
      assert.equal((await deployConnection().call("agent.hello")).version, "0.0.9", "nothing is installed unless allowed");
      config(true);
      const upgraded = await tf.tf(["plan", "-input=false"]);
      assert.equal(upgraded.code, 0, upgraded.stderr);
      assert.match((upgraded.stdout + upgraded.stderr).replace(/\s+/g, " "), /Warning: Upgraded bhyve-agent on \S+ .*from 0\.0\.9 to 0\.1\.0-[0-9a-f]{12}; 0\.0\.9-[0-9a-f]{12} is kept for bhyve-agent rollback/);
      assert.equal((await deployConnection().call("agent.hello")).version, "0.1.0");
    } finally {
      tf.cleanup();
    }
  });
});
