import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { App, TerraformStack, TerraformVariable } from "cdktf";
import { BhyveHost, BhyveProvider, BhyvePush, Guest, type Manifest } from "cdktf-bhyve";
import { checkDocumentText, documentHash } from "../../../agent/model/document.js";
import { FleetStack } from "../../../examples/fleet/stack.js";
import { parseInventory } from "../../../examples/fleet/inventory.js";

const KEY = "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78";
const outdirs: string[] = [];
after(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const inventory = (mode: "push" | "provider", webGuests = 2) => parseInventory({
  sshPrivateKeyFile: "/home/ops/.ssh/deploy_ed25519", sshUser: "toor", connectTimeout: "5s", mode,
  hosts: [
    { name: "gpu1", address: "127.0.1.31:22", hostKey: KEY, role: "gpu", webGuests },
    { name: "edge1", address: "127.0.1.32:2222", hostKey: KEY, role: "edge", webGuests: 1 },
  ],
});

/** Synthesizes a fleet app into a fresh directory; returns the stack's working directory and its cdk.tf.json. */
function synthFleet(mode: "push" | "provider", webGuests = 2) {
  const outdir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-push-"));
  outdirs.push(outdir);
  const app = new App({ outdir });
  new FleetStack(app, "fleet", inventory(mode, webGuests));
  app.synth();
  const dir = join(outdir, "stacks", "fleet");
  const json = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(dir, "bhyve", "hosts.json"), "utf8")) as Manifest;
  return { dir, json, manifest };
}

/** A push-mode stack "s" in a fresh output directory, with one host (127.0.1.2). */
function pushStack() {
  const outdir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-push-"));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "s");
  new BhyvePush(stack, "bhyve");
  const host = new BhyveHost(stack, "h1", { address: "127.0.1.2", hostKey: KEY });
  return { outdir, app, stack, host };
}

describe("push mode: one null_resource per host", () => {
  test("the same constructs synthesize null_resources with a document hash and a shell-free local-exec", () => {
    const { dir, json, manifest } = synthFleet("push");
    assert.deepEqual(Object.keys(json.resource), ["null_resource"], "no bhyve_* resources in push mode");
    assert.deepEqual(Object.keys(json.provider), ["null"]);
    assert.match(json.terraform.required_providers.null.source, /^(hashicorp\/)?null$/);
    const resources = Object.entries(json.resource.null_resource as Record<string, { triggers: Record<string, string>; provisioner: Array<{ "local-exec": { interpreter: string[]; command: string } }> }>);
    assert.equal(resources.length, 2);
    for (const [, r] of resources) {
      const exec = r.provisioner[0]!["local-exec"];
      const host = manifest.hosts.find((h) => h.address === r.triggers.address)!;
      assert.ok(host, `a manifest entry for ${r.triggers.address}`);
      assert.deepEqual(exec.interpreter, ["cdktf-bhyve", "push", "--address", host.address, "--host-key", KEY, "--ssh-user", "toor",
        "--ssh-key-file", "/home/ops/.ssh/deploy_ed25519", "--connect-timeout", "5s", "--doc"]);
      assert.equal(exec.command, host.document);
      assert.equal(r.triggers.host_key, KEY);
      // The trigger is the hash of the document written next to the stack.
      const checked = checkDocumentText(readFileSync(join(dir, exec.command), "utf8"));
      assert.ok(checked.ok);
      assert.equal(r.triggers.document_sha256, documentHash(checked.state));
      assert.equal(r.triggers.document_sha256, host.sha256);
    }
    const gpu = checkDocumentText(readFileSync(join(dir, "bhyve", "gpu1.json"), "utf8"));
    assert.ok(gpu.ok);
    assert.deepEqual(gpu.state.guests.map((g) => g.name), ["gpu1-ml", "gpu1-web0", "gpu1-web1"]);
    assert.deepEqual(gpu.state.ppt.map((p) => `${p.device.bus}/${p.device.slot}/${p.device.function} ${p.bind}`), ["3/0/0 live", "3/0/1 live"]);
    assert.equal(manifest.mode, "push");
    assert.deepEqual(manifest.ssh, { user: "toor", private_key_file: "/home/ops/.ssh/deploy_ed25519", connect_timeout: "5s" });
  });

  test("no secret reaches the synthesized JSON", () => {
    const { outdir, app, stack, host } = pushStack();
    new Guest(stack, "g", { host, name: "g", cpus: 1, memory: "1G", disks: [{ path: "/dev/zvol/zroot/g" }] });
    app.synth();
    const tfJson = readFileSync(join(outdir, "stacks", "s", "cdk.tf.json"), "utf8");
    for (const text of [tfJson, readFileSync(join(outdir, "stacks", "s", "bhyve", "hosts.json"), "utf8")]) assert.doesNotMatch(text, /PRIVATE KEY|ssh_private_key"|password/i);
    const r = Object.values(JSON.parse(tfJson).resource.null_resource)[0] as { provisioner: Array<{ "local-exec": { interpreter: string[] } }> };
    assert.deepEqual(r.provisioner[0]!["local-exec"].interpreter, ["cdktf-bhyve", "push", "--address", "127.0.1.2", "--host-key", KEY, "--doc"]);
  });

  test("a changed guest changes the hash (and so replaces the null_resource); an unchanged stack keeps it", () => {
    const a = synthFleet("push", 2);
    const b = synthFleet("push", 2);
    const c = synthFleet("push", 3);
    const sha = (j: typeof a.json, host: string) => (Object.values(j.resource.null_resource) as Array<{ triggers: Record<string, string> }>).find((r) => (r.triggers.address ?? "").startsWith(host))!.triggers.document_sha256;
    assert.equal(sha(a.json, "127.0.1.31"), sha(b.json, "127.0.1.31"));
    assert.notEqual(sha(a.json, "127.0.1.31"), sha(c.json, "127.0.1.31"));
    assert.equal(sha(a.json, "127.0.1.32"), sha(c.json, "127.0.1.32"), "the other host's document did not change");
  });

  test("provider mode writes the same documents and manifest, for status and drift", () => {
    const push = synthFleet("push");
    const prov = synthFleet("provider");
    assert.ok(prov.json.resource.bhyve_guest);
    assert.equal(prov.manifest.mode, "provider");
    assert.deepEqual(prov.manifest.hosts, push.manifest.hosts);
  });

  test("mixing modes, a late BhyvePush, and values known only at apply are refused", () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), "cdktf-bhyve-push-")) });
    outdirs.push(app.outdir);
    const s1 = new TerraformStack(app, "s1");
    new BhyveProvider(s1, "p", {});
    assert.throws(() => new BhyvePush(s1, "push"), /already has a BhyveProvider: a stack uses the provider or push mode, not both/);
    const s2 = new TerraformStack(app, "s2");
    new BhyveHost(s2, "h", { address: "127.0.1.2", hostKey: KEY });
    assert.throws(() => new BhyvePush(s2, "push"), /BhyvePush must be declared before the stack's first BhyveHost/);
    const app3 = new App({ outdir: mkdtempSync(join(tmpdir(), "cdktf-bhyve-push-")) });
    outdirs.push(app3.outdir);
    const s3 = new TerraformStack(app3, "s3");
    new BhyvePush(s3, "push");
    const cpus = new TerraformVariable(s3, "cpus", { type: "number" });
    const h3 = new BhyveHost(s3, "h", { address: "127.0.1.2", hostKey: KEY });
    new Guest(s3, "g", { host: h3, name: "g", cpus: cpus.numberValue, memory: "1G", disks: [{ path: "/dev/zvol/zroot/g" }] });
    assert.throws(() => app3.synth(), /\[s3\/g\] a value is known only at apply; push mode writes the whole document at synth/);
  });
});

describe("push mode carries the disks the agent makes and cloud-init", () => {
  test("the host document has each zvol, clone, file and seed as the agent decodes it, with cloud-init objects written as YAML", () => {
    const { outdir, app, stack, host } = pushStack();
    new Guest(stack, "g", {
      host, name: "g", cpus: 1, memory: "1G",
      disks: [{ zvol: "zroot/vm/g/root", clone: "zroot/images/freebsd-14.3@base", size: "20G", onDelete: "destroy" }, { file: "/vm/g/data.img", size: "4G" }],
      cloudInit: { userData: { packages: ["nginx"] }, metaData: { "local-hostname": "www" } },
    });
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, "stacks", "s", "bhyve", "hosts.json"), "utf8")) as Manifest;
    const doc = checkDocumentText(readFileSync(join(outdir, "stacks", "s", manifest.hosts[0]!.document), "utf8"));
    assert.ok(doc.ok);
    const g = doc.state.guests[0]!;
    assert.deepEqual(g.disks.map((d) => [d.path, d.managed?.kind, d.managed?.clone ?? null, d.managed?.onDelete]), [
      ["/dev/zvol/zroot/vm/g/root", "zvol", "zroot/images/freebsd-14.3@base", "destroy"],
      ["/vm/g/data.img", "file", null, "keep"],
    ]);
    assert.deepEqual(g.cloudInit, { userData: "#cloud-config\npackages:\n  - nginx\n", metaData: "local-hostname: www\n" });
  });
});
