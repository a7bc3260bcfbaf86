/**
 * The SIGKILL torture: on one sandbox host, `bhyve-agent apply` alternates between two documents
 * that differ in loader.conf settings, live and boot reservations and guests, and is killed with
 * SIGKILL at a uniformly random moment of the whole apply (process start included), over and over.
 * After every kill: loader.conf (and its backup) is byte for byte one of the known versions,
 * state.json (and state.json.previous) is a whole, valid state or absent before the first write, and
 * no guest runs twice (at most one bhyve-monitor and one bhyve process per guest name). Every
 * `checkEvery` kills (1: after every kill), and at the end, the killed apply run again without a
 * kill must converge: exit 0, and the host is what the document says (loader.conf, state, devices'
 * drivers, exactly its guests running once). Between checks, kills land on applies that start
 * from the torn state the previous kill left.
 *
 * Used by `npm run torture` (test/torture/torture.ts, 1000 kills) and by a 50-kill unit test.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { appendFileSync, cpSync, lstatSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseLoaderConf, withManagedBlock } from "../../agent/parse/loader-conf.js";
import { renderLoaderConf } from "../../agent/model/render.js";
import { documentHash } from "../../agent/model/document.js";
import { decodeDesired } from "../../agent/engine/service.js";
import { decodeAgentState, previousStateFile } from "../../agent/host/state.js";
import { readGuest } from "../../agent/guests/lifecycle.js";
import { readMachine } from "../../sandbox/machine.js";
import { repoPath } from "../support/helpers.js";
import { AgentHost, FW } from "../support/agent-host.js";

const AGENT = repoPath("dist/bhyve-agent.mjs");

/** The two documents the torture alternates between. */
export const DOC_A = {
  host: { vmm_load: true },
  ppt: [
    { device: "4/0/0", bind: "live" },
    { device: "3/0/0", bind: "boot" },
    { device: "3/0/1", bind: "boot" },
  ],
  guests: [
    { name: "common", cpus: 1, memory: "256M", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], restart: "always" },
    { name: "a-nic", cpus: 1, memory: "256M", bootrom: FW, passthru: [{ device: "4/0/0", slot: 6 }], start_order: 5 },
    { name: "a-web", cpus: 2, memory: "512M", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/web1" }] },
  ],
};

export const DOC_B = {
  host: { vmm_load: true },
  ppt: [
    { device: "4/0/1", bind: "live" },
    { device: "5/0/0", bind: "boot" },
  ],
  guests: [
    { name: "common", cpus: 2, memory: "512M", bootrom: FW, disks: [{ path: "/dev/zvol/zroot/vm/disk0" }], restart: "always" },
    { name: "b-nic", cpus: 1, memory: "256M", bootrom: FW, passthru: [{ device: "4/0/1", slot: 7, function: 0 }] },
    { name: "b-db", cpus: 1, memory: "256M", disks: [{ path: "/dev/zvol/zroot/vm/db1" }] },
  ],
};

/** Every guest name of the two documents. */
const GUEST_NAMES: ReadonlySet<string> = new Set([...DOC_A.guests, ...DOC_B.guests].map((g) => g.name));

/** Options of a torture run. */
export interface TortureOptions {
  /** SIGKILLs delivered to a running apply (applies that finish before their kill moment do not count). */
  readonly kills: number;
  /** Seed of the kill moments (printed, so that a run can be repeated). */
  readonly seed?: number;
  /** The killed apply, run again uninterrupted, must converge every this many kills (and always at the end); default 1. */
  readonly checkEvery?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** Asked before each kill: true ends the run early (after the final converge checks). */
  readonly stop?: () => boolean;
  /** Whether the host's tools are answered by a tool server (default) or each run in a node of its own. */
  readonly toolServer?: boolean;
}

/** What a torture run found. */
export interface TortureResult {
  seed: number;
  kills: number;
  /** Applies that finished before their kill moment came. */
  finishedFirst: number;
  /** loader.conf, its backup, state.json or state.json.previous not whole after a kill. */
  torn: number;
  /** A guest with two monitors or two bhyve processes. */
  duplicates: number;
  /** Uninterrupted applies that converged / that were run. */
  converged: number;
  convergeChecks: number;
  /** Duration of an uninterrupted apply of each document, in ms (the kill window). */
  windowMs: { A: number; B: number };
  violations: string[];
  wallMs: number;
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; ms: number }>;
}

function startApply(root: string, file: string): Run {
  const started = Date.now();
  const child = spawn(process.execPath, [AGENT, "apply", file, "--root", root, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; ms: number }>((res) =>
    child.on("close", (code, signal) => res({ code, signal, out, ms: Date.now() - started })),
  );
  return { child, done };
}

/**
 * Monitors and bhyve processes of the sandbox at `root`, by guest name (zombies left out). A
 * monitor names its spec directory (under the root) in its argv. A simulated bhyve names the root's
 * usr/sbin/bhyve until it retitles itself `bhyve: NAME`; after that it is the sandbox's when its
 * parent is one of the sandbox's monitors, when the sandbox records its PID, or when it is in the
 * session of a monitor of the sandbox seen before (`sessions`, kept by the caller): a bhyve whose
 * monitor died stays in its session. With `names`, a retitled bhyve found only by its session
 * counts when it has one of those names: over a long run PIDs are reused, and a session id once a
 * monitor's can be another sandbox's bhyve's (another test running at the same time).
 */
export function guestProcesses(root: string, sessions: Set<number> = new Set(), names?: ReadonlySet<string>): Map<string, { monitors: number[]; bhyves: number[] }> {
  const out = new Map<string, { monitors: number[]; bhyves: number[] }>();
  const entry = (name: string) => {
    let e = out.get(name);
    if (!e) out.set(name, (e = { monitors: [], bhyves: [] }));
    return e;
  };
  const specPrefix = `${root}/var/db/bhyve-agent/guests/`;
  const bhyvePath = `${root}/usr/sbin/bhyve`;
  const text = execFileSync("/bin/ps", ["-A", "-ww", "-o", "pid=,ppid=,sid=,stat=,args="], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const rows = text.split("\n").flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    return m && !m[4]!.startsWith("Z") ? [{ pid: Number(m[1]), ppid: Number(m[2]), sid: Number(m[3]), args: m[5]!.split(" ") }] : [];
  });
  const monitors = new Set<number>();
  for (const r of rows) {
    const last = r.args[r.args.length - 1]!;
    if (r.args.some((a) => a.endsWith("/bhyve-monitor")) && last.startsWith(specPrefix)) {
      entry(last.slice(specPrefix.length)).monitors.push(r.pid);
      monitors.add(r.pid);
      sessions.add(r.sid);
    }
  }
  let recorded = new Set<number>();
  try {
    recorded = new Set(Object.values(readMachine(root).vms).flatMap((vm) => (vm.process ? [vm.process.pid] : [])));
  } catch {
    // no machine state (yet): only the other signs count
  }
  for (const r of rows) {
    const last = r.args[r.args.length - 1]!;
    if (r.args.includes(bhyvePath)) entry(last).bhyves.push(r.pid);
    else if (r.args.length === 2 && r.args[0] === "bhyve:" && (monitors.has(r.ppid) || recorded.has(r.pid) || (sessions.has(r.sid) && (!names || names.has(r.args[1]!))))) entry(r.args[1]!).bhyves.push(r.pid);
  }
  return out;
}

function duplicateText(procs: Map<string, { monitors: number[]; bhyves: number[] }>): string[] {
  return [...procs].flatMap(([name, p]) => [
    ...(p.monitors.length > 1 ? [`guest ${name} has ${p.monitors.length} monitors (pids ${p.monitors.join(", ")})`] : []),
    ...(p.bhyves.length > 1 ? [`guest ${name} has ${p.bhyves.length} bhyve processes (pids ${p.bhyves.join(", ")})`] : []),
  ]);
}

/**
 * Guests running twice, once the moment has passed: a monitor forks (to detach, and before it
 * execs bhyve or a helper), so for a few milliseconds one guest shows two processes with the same
 * command line. A real duplicate stays; this waits up to `graceMs` for the count to drop.
 */
async function lastingDuplicates(root: string, sessions: Set<number>, names: ReadonlySet<string>, graceMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = duplicateText(guestProcesses(root, sessions, names));
    if (found.length === 0 || Date.now() > deadline) return found;
    await sleep(50);
  }
}

/** Runs the torture; the sandbox host and every process it ran are gone when it returns or throws. */
export async function runTorture(opts: TortureOptions): Promise<TortureResult> {
  const started = Date.now();
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = prng(seed);
  const log = opts.log ?? (() => {});
  const checkEvery = opts.checkEvery ?? 1;
  const h = new AgentHost("intel-vtd");
  // The start watch only reports an early bhyve failure; the torture checks the processes itself, so
  // a short one lets the same number of kills cost a third of the time.
  appendFileSync(join(h.root, "usr/local/etc/bhyve-agent.conf"), "  start_watch_ms: 200\n");
  let running: Run | undefined;
  const result: TortureResult = { seed, kills: 0, finishedFirst: 0, torn: 0, duplicates: 0, converged: 0, convergeChecks: 0, windowMs: { A: 0, B: 0 }, violations: [], wallMs: 0 };
  const violation = (what: string): void => {
    result.violations.push(what);
    log(`VIOLATION: ${what}`);
  };
  try {
    // Tools answered by a tool server, as on the e2e hosts: a tool run costs milliseconds, as on FreeBSD.
    if (opts.toolServer !== false) await h.serveTools();
    const files = { A: join(h.root, "..", "a.json"), B: join(h.root, "..", "b.json") };
    writeFileSync(files.A, JSON.stringify(DOC_A));
    writeFileSync(files.B, JSON.stringify(DOC_B));
    const desired = { A: decodeDesired(DOC_A), B: decodeDesired(DOC_B) };
    const loaderConf = join(h.root, "boot/loader.conf");
    const original = readFileSync(loaderConf, "utf8");
    const rendered = {
      A: withManagedBlock(parseLoaderConf(original), renderLoaderConf(desired.A, { cpuVendor: "intel" })),
      B: withManagedBlock(parseLoaderConf(original), renderLoaderConf(desired.B, { cpuVendor: "intel" })),
    };
    const knownLoaderConf = new Set([original, rendered.A, rendered.B]);
    const stateFile = h.paths.stateFile;
    let stateWritten = false;
    const sessions = new Set<number>();

    /** Whole files after a kill: loader.conf and its backup, state.json and its previous copy. */
    const checkFiles = (when: string): void => {
      let torn = false;
      const lc = readFileSync(loaderConf, "utf8");
      if (!knownLoaderConf.has(lc)) {
        torn = true;
        violation(`${when}: loader.conf is none of the known versions:\n${lc}`);
      }
      if (existsSync(h.paths.loaderConfBackup) && !knownLoaderConf.has(readFileSync(h.paths.loaderConfBackup, "utf8"))) {
        torn = true;
        violation(`${when}: loader.conf.previous is none of the known versions`);
      }
      if (!existsSync(stateFile)) {
        if (stateWritten) {
          torn = true;
          violation(`${when}: state.json disappeared`);
        }
      } else {
        stateWritten = true;
        for (const f of [stateFile, previousStateFile(h.paths)]) {
          if (!existsSync(f)) continue;
          const r = decodeAgentState(readFileSync(f, "utf8"));
          if (!r.ok) {
            torn = true;
            violation(`${when}: ${f} is not a whole state: ${r.reason}`);
          }
        }
      }
      const leftovers = readdirSync(h.paths.dbDir, { withFileTypes: true }).filter((d) => d.isFile() && d.name.endsWith(".tmp"));
      if (leftovers.length > 4) violation(`${when}: temporary files pile up in ${h.paths.dbDir}: ${leftovers.map((d) => d.name).join(", ")}`);
      if (torn) result.torn++;
    };

    /** The host is what document `which` says. */
    const checkConverged = async (which: "A" | "B", r: { code: number | null; out: string }, when: string): Promise<void> => {
      result.convergeChecks++;
      const problems: string[] = [];
      if (r.code !== 0) problems.push(`apply exited ${r.code}: ${r.out.slice(-2000)}`);
      if (readFileSync(loaderConf, "utf8") !== rendered[which]) problems.push("loader.conf is not the document's");
      const st = existsSync(stateFile) ? decodeAgentState(readFileSync(stateFile, "utf8")) : null;
      if (!st?.ok || documentHash(st.state.desired) !== documentHash(desired[which])) problems.push("state.json does not hold the document");
      const m = h.machine();
      const doc = which === "A" ? DOC_A : DOC_B;
      const other = which === "A" ? DOC_B : DOC_A;
      for (const p of doc.ppt) {
        const hw = m.pci.find((f) => `${f.bus}/${f.slot}/${f.function}` === p.device);
        if (p.bind === "live" && hw?.driver !== "ppt") problems.push(`${p.device} is on ${hw?.driver ?? "no driver"}, not ppt`);
      }
      for (const p of other.ppt) {
        if (doc.ppt.some((q) => q.device === p.device)) continue;
        const hw = m.pci.find((f) => `${f.bus}/${f.slot}/${f.function}` === p.device);
        if (hw?.driver === "ppt") problems.push(`${p.device} is still bound to ppt though the document does not reserve it`);
      }
      const names = new Set(doc.guests.map((g) => g.name));
      for (const g of doc.guests) {
        const rt = readGuest(h.paths, g.name);
        if (rt.state !== "running" || rt.monitor_pid === null || rt.pid === null) problems.push(`guest ${g.name} is ${rt.state} (${rt.reason}), not running`);
      }
      for (const g of other.guests) {
        if (names.has(g.name)) continue;
        const rt = readGuest(h.paths, g.name);
        if (rt.state !== "missing" || rt.vm_exists) problems.push(`guest ${g.name} is still there (${rt.state})`);
      }
      const procs = guestProcesses(h.root, sessions, GUEST_NAMES);
      for (const [name, p] of procs) {
        if (!names.has(name) && (p.monitors.length || p.bhyves.length)) problems.push(`guest ${name} is not in the document but has processes`);
      }
      for (const name of names) {
        const p = procs.get(name);
        if (!p || p.monitors.length !== 1 || p.bhyves.length !== 1) problems.push(`guest ${name} has ${p?.monitors.length ?? 0} monitor(s) and ${p?.bhyves.length ?? 0} bhyve process(es), not one of each`);
      }
      if (problems.length) violation(`${when}: the apply of ${which} did not converge: ${problems.join("; ")}; the host's files are kept in ${keepEvidence(h.root, seed)}`);
      else result.converged++;
    };

    const uninterrupted = async (which: "A" | "B", when: string): Promise<number> => {
      running = startApply(h.root, files[which]);
      const r = await running.done;
      running = undefined;
      await checkConverged(which, r, when);
      return r.ms;
    };

    // The kill window: how long an uninterrupted apply of each document takes (from the other's state).
    await uninterrupted("A", "first apply of A");
    result.windowMs.B = await uninterrupted("B", "measuring B");
    result.windowMs.A = await uninterrupted("A", "measuring A");
    log(`seed ${seed}; uninterrupted apply: A ${result.windowMs.A} ms, B ${result.windowMs.B} ms`);

    let turn = 0;
    while (result.kills < opts.kills && result.violations.length < 20 && !opts.stop?.()) {
      const which = turn++ % 2 === 0 ? "B" : "A";
      const delay = random() * result.windowMs[which];
      const run = (running = startApply(h.root, files[which]));
      const timer = setTimeout(() => run.child.kill("SIGKILL"), delay);
      const r = await run.done;
      clearTimeout(timer);
      running = undefined;
      if (r.signal === "SIGKILL") result.kills++;
      else result.finishedFirst++;
      const when = `kill ${result.kills} (${which}, ${Math.round(delay)} ms${r.signal ? "" : ", finished first"})`;
      checkFiles(when);
      const dups = await lastingDuplicates(h.root, sessions, GUEST_NAMES);
      if (dups.length) {
        result.duplicates++;
        violation(`${when}: ${dups.join("; ")}`);
      }
      if (r.signal === "SIGKILL" && result.kills % checkEvery === 0 && result.kills < opts.kills) {
        // The apply that was killed, run again to the end (what an operator does after a crash);
        // the next kill is of the other document, from this one's converged state.
        await uninterrupted(which, `after kill ${result.kills}`);
        log(`${result.kills} kills: torn ${result.torn}, duplicates ${result.duplicates}, converged ${result.converged}/${result.convergeChecks} (${Math.round((Date.now() - started) / 1000)} s)`);
      }
    }
    // The end: the next uninterrupted apply converges, and so does one of the other document.
    const last = turn % 2 === 0 ? "B" : "A";
    await uninterrupted(last, "final apply");
    await uninterrupted(last === "A" ? "B" : "A", "final apply of the other document");
  } finally {
    if (running) {
      running.child.kill("SIGKILL");
      await running.done;
    }
    await h.destroy();
    result.wallMs = Date.now() - started;
  }
  return result;
}

/**
 * Copies what the agent, the monitors and the simulated kernel wrote on the host (state, guest
 * events and logs, the machine state) to a new directory under the system's temporary directory,
 * so that a rerun that did not converge can be looked into after the host is destroyed.
 */
function keepEvidence(root: string, seed: number): string {
  const to = mkdtempSync(join(tmpdir(), `bhyve-torture-${seed}-`));
  for (const dir of ["var/db", "var/run", "var/log", "var/sandbox", "boot"]) {
    if (existsSync(join(root, dir))) cpSync(join(root, dir), join(to, dir), { recursive: true, verbatimSymlinks: true, filter: (src) => !lstatSync(src).isSocket() && !lstatSync(src).isFIFO() });
  }
  return to;
}

/** One line of counts. */
export function summary(r: TortureResult): string {
  return `kills ${r.kills} (plus ${r.finishedFirst} applies that finished first), torn ${r.torn}, duplicates ${r.duplicates}, converged ${r.converged}/${r.convergeChecks}, violations ${r.violations.length}, seed ${r.seed}, wall ${(r.wallMs / 1000).toFixed(0)} s`;
}
