/**
 * Host safety over the deploy key, against a sandbox host behind the real sshd: the management NIC
 * (the one holding the address sshd answers on) and the root disk's controller are refused, guest
 * paths outside the policy's prefixes are refused, the guest-count and wired-memory limits hold, the
 * policy cannot be changed through the agent protocol, and every change request is in the audit log
 * with the client's address and the fingerprint of the key it used.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readAudit } from "../../agent/host/audit.js";
import { HostPaths } from "../../agent/host/paths.js";
import { AgentCallError, AgentConnection } from "../../provider/ssh/agent-client.js";
import { FAST_CONFIG, FW } from "../support/agent-host.js";
import { prerequisite } from "../support/helpers.js";
import { SshdFleet, sshdSkipReason, type SshdHost } from "../support/sshd-hosts.js";

const skip = sshdSkipReason();

describe("host safety through the deploy key", prerequisite("host safety through the deploy key", skip), () => {
  const fleet = new SshdFleet();
  let host: SshdHost;
  let conn: AgentConnection;
  const policyFile = () => join(host.sandbox.root, "usr/local/etc/bhyve-agent.conf");
  const refusal = (call: Promise<unknown>, path: string, message: RegExp) =>
    assert.rejects(call, (e: AgentCallError) => {
      assert.equal(e.code, "E_POLICY", e.message);
      const p = e.problems?.find((x) => x.path === path);
      assert.ok(p, `a problem at ${path}: ${JSON.stringify(e.problems)}`);
      assert.match(p.message, message);
      return true;
    });

  before(async () => {
    [host] = (await fleet.start([{ name: "safe", profile: "intel-vtd" }], 81)) as [SshdHost];
    conn = new AgentConnection(host.address, host.hostKeyFingerprint, { auth: { user: fleet.account.user, privateKey: readFileSync(fleet.keyFile, "utf8") }, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 });
  });
  after(async () => {
    conn.close();
    await fleet.stop();
  });

  test("the NIC of the management connection and the root disk's controller are refused, saying why and how to override", async () => {
    const loader = readFileSync(join(host.sandbox.root, "boot/loader.conf"), "utf8");
    await refusal(conn.call("ppt.put", { reservation: { device: "0/31/6", bind: "live" } }), "reservation.device",
      new RegExp(`^0/31/6 \\(em0\\) is protected: it carries the agent's management connection \\(em0 holds ${host.listen.replace(/\./g, "\\.")}, the address this SSH session came in on\\)\\..*add "0/31/6" to policy ppt\\.take_protected in /usr/local/etc/bhyve-agent\\.conf$`));
    await refusal(conn.call("host.apply", { document: { ppt: [{ device: "0/17/5" }] } }), "ppt[0].device", /^0\/17\/5 \(ahci0\) is protected: it is the storage controller of the root file system/);
    assert.equal(readFileSync(join(host.sandbox.root, "boot/loader.conf"), "utf8"), loader, "nothing changed");
    const ok = await conn.call("ppt.put", { reservation: { device: "4/0/1", bind: "live" } });
    assert.deepEqual(ok.refused, [], "another NIC port is fine");
  });

  test("disks and bootroms outside the allowed prefixes are refused", async () => {
    await refusal(conn.call("guest.put", { guest: { name: "evil", cpus: 1, memory: "1G", bootrom: FW, disks: [{ path: "/dev/ada0" }] } }), "guest.disks[0].path", /^\/dev\/ada0 is outside the allowed disk paths/);
    await refusal(conn.call("guest.put", { guest: { name: "evil", cpus: 1, memory: "1G", bootrom: "/usr/local/etc/bhyve-agent.conf", disks: [{ path: "/dev/zvol/zroot/vm/disk0" }] } }), "guest.bootrom", /is outside the allowed firmware paths \(policy bootrom_prefixes/);
    assert.equal((await conn.call("guest.get", { name: "evil" })).state, "missing");
  });

  test("guest-count and wired-memory limits hold", async () => {
    writeFileSync(policyFile(), `${FAST_CONFIG}policy:\n  max_guests: 2\n  max_wired_percent: 10\n`);
    const web = (n: number) => ({ name: `web${n}`, cpus: 1, memory: "512M", bootrom: FW, nics: [{ tap: `tap${n}` }] });
    const r = await conn.call("host.apply", { document: { ppt: [{ device: "4/0/1", bind: "live" }], guests: [web(1), web(2)] } });
    assert.deepEqual(r.refused, []);
    await refusal(conn.call("guest.put", { guest: web(3) }), "guests", /^3 guests are more than this host allows \(policy max_guests: 2/);
    await refusal(conn.call("guest.put", { guest: { ...web(2), memory: "8G", wired: true } }), "guests", /wire 8\.0 GiB, more than 10% of this host's 63\.5 GiB of memory \(6\.3 GiB; policy max_wired_percent: 10/);
  });

  test("the policy cannot be changed over the agent protocol", async () => {
    const before = readFileSync(policyFile(), "utf8");
    await assert.rejects(conn.call("host.apply", { document: { policy: { max_guests: 100 } } }), (e: AgentCallError) => e.code === "E_SPEC_INVALID" && /policy/.test(e.message));
    await assert.rejects(conn.callUnchecked("host.configure", { host: { vmm_load: true }, policy: {} }), (e: AgentCallError) => e.code === "E_INVALID_PARAMS");
    // A guest disk that climbs out of an allowed prefix to the policy file: the spec refuses ".." before the policy is asked.
    await assert.rejects(conn.call("guest.put", { guest: { name: "w", cpus: 1, memory: "1G", bootrom: FW, disks: [{ path: "/dev/zvol/../../usr/local/etc/bhyve-agent.conf" }] } }),
      (e: AgentCallError) => e.code === "E_SPEC_INVALID" && e.problems?.[0]?.path === "disks[0].path");
    const bundle = Buffer.from("console.log('0.0.1')");
    await assert.rejects(conn.call("agent.upgrade", { bundle: bundle.toString("base64"), sha256: createHash("sha256").update(bundle).digest("hex") }),
      (e: AgentCallError) => e.code === "E_POLICY" && /policy agent_upgrade: false/.test(e.message));
    assert.equal(readFileSync(policyFile(), "utf8"), before);
    assert.deepEqual(Object.keys(await conn.call("agent.hello")).includes("policy"), false);
  });

  test("every change request is in the audit log, with the client address and the key's fingerprint", async () => {
    const log = readAudit(new HostPaths(host.sandbox.root));
    const keyFp = `SHA256:${createHash("sha256").update(Buffer.from(readFileSync(`${fleet.keyFile}.pub`, "utf8").split(" ")[1]!, "base64")).digest("base64").replace(/=+$/, "")}`;
    assert.ok(log.length >= 8, `${log.length} entries`);
    for (const e of log) {
      assert.equal(e.via, "ssh");
      assert.match(e.client ?? "", /^127\.\d+\.\d+\.\d+ \d+$/);
      assert.equal(e.key, keyFp);
    }
    const accepted = log.filter((e) => e.outcome === "ok").map((e) => e.method);
    assert.deepEqual(accepted, ["ppt.put", "host.apply"]);
    const put = log.find((e) => e.method === "ppt.put" && e.outcome === "ok")!;
    assert.deepEqual(put.request, { reservation: { device: "4/0/1", bind: "live" } });
    assert.ok((put.changed as Array<{ what: string }>).some((c) => c.what === "ppt 4/0/1"));
    // A refused request is kept by its size and hash only: the bundle's bytes are not in the log.
    const upgrade = log.find((e) => e.method === "agent.upgrade" && e.outcome === "refused" && e.code === "E_POLICY");
    assert.ok(upgrade, "the refused upgrade is on record");
    assert.deepEqual(Object.keys(upgrade.request as object).sort(), ["bytes", "sha256"]);
    assert.match((upgrade.request as { sha256: string }).sha256, /^[0-9a-f]{64}$/);
    const cli = host.sandbox.cli(["audit", "--since", "1h"]);
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^\\S+Z {2}127\\.\\S+ \\d+ key ${keyFp.replace(/[+/]/g, "\\$&")} {2}ppt\\.put {2}ok, \\d+ change\\(s\\)$`, "m"));
    assert.match(cli.stdout, /guest\.put {2}refused E_POLICY: /);
  });
});
