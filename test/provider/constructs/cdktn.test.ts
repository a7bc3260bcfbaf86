/**
 * CDK Terrain (cdktn 0.24) beside CDKTF (cdktf 0.21): the GPU host example written for each
 * (examples/gpu-host and examples/gpu-host-cdktn) synthesizes the same host documents, the same
 * manifest, the same passthru.md and the same Terraform configuration (everything but the
 * synthesizing library's own name and version). The cdktn app gets the constructs from
 * cdktf-bhyve/cdktn (dist/cdktn.mjs: the same code bundled against cdktn).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoPath } from "../../support/helpers.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs an example app as the CLIs do (CDKTF_OUTDIR), in a process of its own; returns its output directory. */
function synth(example: string): string {
  const out = mkdtempSync(join(tmpdir(), "cdktf-bhyve-flavour-"));
  dirs.push(out);
  execFileSync(process.execPath, ["--import", "tsx", repoPath(`examples/${example}/main.ts`)], { env: { ...process.env, CDKTF_OUTDIR: out }, stdio: "pipe" });
  return out;
}

/** cdk.tf.json without the synthesizing library's metadata ("//": its name and version). */
function terraformConfig(out: string): unknown {
  const json = JSON.parse(readFileSync(join(out, "stacks", "gpu-host", "cdk.tf.json"), "utf8")) as Record<string, unknown>;
  const strip = (v: unknown): unknown => (Array.isArray(v) ? v.map(strip) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "//").map(([k, x]) => [k, strip(x)])) : v);
  return strip(json);
}

test("the same example under CDKTF and CDK Terrain: the same documents, manifest, passthru.md and Terraform configuration", () => {
  const cdktf = synth("gpu-host");
  const cdktn = synth("gpu-host-cdktn");
  assert.equal(readFileSync(join(cdktn, "passthru.md"), "utf8"), readFileSync(join(cdktf, "passthru.md"), "utf8"));
  const docs = readdirSync(join(cdktf, "stacks", "gpu-host", "bhyve")).sort();
  assert.deepEqual(readdirSync(join(cdktn, "stacks", "gpu-host", "bhyve")).sort(), docs);
  for (const f of docs) assert.equal(readFileSync(join(cdktn, "stacks", "gpu-host", "bhyve", f), "utf8"), readFileSync(join(cdktf, "stacks", "gpu-host", "bhyve", f), "utf8"), f);
  assert.deepEqual(terraformConfig(cdktn), terraformConfig(cdktf));
  const meta = (out: string) => (JSON.parse(readFileSync(join(out, "stacks", "gpu-host", "cdk.tf.json"), "utf8")) as { "//": { metadata: { backend: string; version: string } } })["//"].metadata;
  assert.equal(meta(cdktf).version, "0.21.0");
  assert.equal(meta(cdktn).version.split(".").slice(0, 2).join("."), "0.24", "synthesized by cdktn");
});

/** Runs a one-file app with the given CDK library and cdktf-bhyve entry point; returns its stderr (empty when it synthesized). */
function runApp(lib: "cdktf" | "cdktn", entry: string, body: string): string {
  const app = `import { App, TerraformStack } from "${lib}";\nimport { BhyveHost, BhyveProvider, Guest } from "${entry}";\n${body}`;
  const out = mkdtempSync(join(tmpdir(), "cdktf-bhyve-flavour-"));
  dirs.push(out);
  try {
    execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", app], { cwd: repoPath("."), env: { ...process.env, CDKTF_OUTDIR: out }, stdio: "pipe" });
    return "";
  } catch (err) {
    return String((err as { stderr: Buffer }).stderr);
  }
}

const MISTAKE = `
  const app = new App();
  const stack = new TerraformStack(app, "s");
  new BhyveProvider(stack, "bhyve", { sshPrivateKeyFile: "/dev/null" });
  const host = new BhyveHost(stack, "h", { address: "127.0.1.2", hostKey: "SHA256:Oq4PqC+Jy1ByjMHQ1Wih/YYrLeJ+3E3nmO2pHRlsC78" });
  new Guest(stack, "g", { host, name: "g", cpus: 1, memory: "1G", disks: [{ zvol: "zroot/vm/g", size: "1000K" }] });
  app.synth();`;

test("a mistake fails synth the same way under CDK Terrain and under CDKTF, naming the field", () => {
  const problem = (stderr: string): string | undefined => /\[s\/h\] .*$/m.exec(stderr)?.[0] ?? /disks\[0\]\.size: .*$/m.exec(stderr)?.[0];
  const tf = runApp("cdktf", "cdktf-bhyve", MISTAKE);
  const tn = runApp("cdktn", "cdktf-bhyve/cdktn", MISTAKE);
  assert.match(tf, /disks\[0\]\.size: 1000K is not a multiple of the volume block size \(16K, the default\)/);
  assert.equal(problem(tn), problem(tf));
});

test("a CDK Terrain app given the CDKTF entry point (or the other way round) is told which to import", () => {
  const app = MISTAKE.replace(`disks: [{ zvol: "zroot/vm/g", size: "1000K" }]`, `disks: [{ path: "/dev/zvol/zroot/vm/g" }]`);
  assert.match(runApp("cdktn", "cdktf-bhyve", app), /\[s\/h\] the app .* was not made by the library these constructs use: in a CDK Terrain app \(cdktn\) import them from "cdktf-bhyve\/cdktn"/);
  assert.match(runApp("cdktf", "cdktf-bhyve/cdktn", app), /was not made by the library these constructs use/);
  assert.equal(runApp("cdktn", "cdktf-bhyve/cdktn", app), "", "the right pairing synthesizes");
});
