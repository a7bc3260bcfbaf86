import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { test } from "node:test";
import { repoPath } from "./support/helpers.js";

const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8"));

test("the top level holds exactly the agreed entries (besides dotfiles, the lock file and build output)", () => {
  const ignored = new Set(["node_modules", "dist", "cdktf.out", "package-lock.json"]);
  const entries = readdirSync(repoPath(".")).filter((e) => !e.startsWith(".") && !ignored.has(e)).sort();
  assert.deepEqual(entries, ["README.md", "agent", "bench", "build.mjs", "cdktf.json", "docs", "examples", "native", "package.json", "provider", "sandbox", "test", "tsconfig.json"]);
  // bench/ holds the benchmarks' committed figures (results.json), where the benchmark issue puts
  // them, and the largest size's run behind real OpenSSH sshd (results-sshd.json, bench --sshd);
  // beside each, the run before it (-previous), kept for comparison.
  const files = ["results-previous.json", "results-sshd-previous.json", "results-sshd.json", "results.json"];
  assert.deepEqual(readdirSync(repoPath("bench")).sort(), files);
  for (const f of files) {
    const r = JSON.parse(readFileSync(repoPath(`bench/${f}`), "utf8"));
    assert.ok(typeof r.machine === "object" && Array.isArray(r.runs) && r.runs.length > 0, `${f} is a bench run`);
  }
  assert.match(JSON.parse(readFileSync(repoPath("bench/results-sshd-previous.json"), "utf8")).machine.ssh_server, /^OpenSSH sshd/);
  assert.match(JSON.parse(readFileSync(repoPath("bench/results-sshd.json"), "utf8")).machine.ssh_server, /^OpenSSH sshd/);
});

test("package.json: name, ESM, Node 20, the commands, TypeScript pinned to 5.9, the four scripts", () => {
  assert.equal(pkg.name, "cdktf-bhyve");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.engines.node, ">=20");
  assert.deepEqual(Object.keys(pkg.bin).sort(), ["bhyve-agent", "bhyve-sandbox", "cdktf-bhyve"]);
  assert.equal(pkg.devDependencies.typescript, "~5.9");
  for (const s of ["build", "test", "demo", "bench"]) assert.equal(typeof pkg.scripts[s], "string", s);
  assert.match(pkg.scripts.test, /--test-reporter=tap/);
  assert.match(pkg.scripts.test, /--import tsx/);
});

test("tsconfig is strict ESM (NodeNext)", () => {
  const ts = JSON.parse(readFileSync(repoPath("tsconfig.json"), "utf8"));
  assert.equal(ts.compilerOptions.strict, true);
  assert.equal(ts.compilerOptions.module, "NodeNext");
});

test(".ci/run is executable and ends with the README's test command", () => {
  const ci = readFileSync(repoPath(".ci/run"), "utf8");
  assert.ok(statSync(repoPath(".ci/run")).mode & 0o100);
  assert.match(ci, /set -euo pipefail/);
  assert.match(ci, /^npm test$/m);
  const readme = readFileSync(repoPath("README.md"), "utf8");
  assert.match(readme, /npm install && npm test/);
  assert.match(readme, /npm install && npm run demo/);
});

test("agent/model and agent/parse stay pure: no fs, child_process or network imports", () => {
  for (const dir of ["agent/model", "agent/parse"]) {
    for (const f of readdirSync(repoPath(dir))) {
      const src = readFileSync(repoPath(`${dir}/${f}`), "utf8");
      assert.ok(!/from "node:(fs|child_process|net|http|https|dgram|fs\/promises)"/.test(src), `${dir}/${f} imports I/O`);
    }
  }
});

test("the agent bundle installed on hosts carries no sandbox code; the sandbox has its own bundle", () => {
  // esbuild marks each module it bundles with a "// path/of/module.ts" line.
  const modules = (bundle: string) => [...readFileSync(repoPath(`dist/${bundle}`), "utf8").matchAll(/^\/\/ ((?:agent|sandbox|provider)\/\S+\.ts)$/gm)].map((m) => m[1]!);
  const agent = modules("bhyve-agent.mjs");
  assert.ok(agent.includes("agent/cli/main.ts") && agent.includes("agent/model/validate.ts"), `the agent's own modules are listed: ${agent.slice(0, 5).join(", ")}`);
  assert.deepEqual(agent.filter((m) => !m.startsWith("agent/")), [], "modules from outside agent/ in the agent bundle");
  const sandbox = modules("bhyve-sandbox.mjs");
  assert.ok(sandbox.includes("sandbox/cli.ts") && sandbox.includes("sandbox/machine.ts"), sandbox.slice(0, 5).join(", "));
});

test("README's layout names every directory of agent/, provider/ and the top level, and only directories that exist", () => {
  const readme = readFileSync(repoPath("README.md"), "utf8");
  const block = readme.slice(readme.indexOf("## Layout")).split("```")[1]!;
  const named = new Set(block.split("\n").map((l) => /^(\S+?)\/?(?:\s|$)/.exec(l)?.[1]).filter((x): x is string => !!x));
  for (const n of named) assert.ok(statSync(repoPath(n)).isDirectory(), `the layout names ${n}, which is not a directory`);
  const dirs = (d: string) => readdirSync(repoPath(d), { withFileTypes: true }).filter((e) => e.isDirectory() && !["node_modules", "dist", "build", "cdktf.out"].includes(e.name) && !e.name.startsWith(".")).map((e) => (d === "." ? e.name : `${d}/${e.name}`));
  const want = [...dirs(".").filter((d) => d !== "bench"), ...dirs("agent"), ...dirs("provider")].filter((d) => !["agent", "provider"].includes(d));
  assert.deepEqual(want.filter((d) => !named.has(d)), [], "directories the layout does not name");
});
