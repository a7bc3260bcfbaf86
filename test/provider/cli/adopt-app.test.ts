/**
 * The app `cdktf-bhyve adopt` writes: it synthesizes; each adoptable VM is a Guest with adopt whose
 * document renders to the machine that runs; its passthrough devices are reserved with the ids the
 * host reports; what the agent already has is imported; the rest is left alone in comments that
 * nothing read from the host can break out of.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { ForeignReport, ForeignVm } from "../../../agent/guests/adopt.js";
import { proposeGuest, renderingDifferences } from "../../../agent/model/adopt.js";
import { checkGuestAlone } from "../../../agent/model/validate.js";
import { adoptedApp, type AdoptInput } from "../../../provider/cli/lib/adopt-app.js";
import { linkAppDependencies } from "../../support/helpers.js";

const UUID = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";
const FW = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";
const ON14 = { acpiAlways: true };
const GPU = `/usr/sbin/bhyve -c 4 -m 8G -Hwl bootrom,${FW} -S -U ${UUID} -u -S -s 0,hostbridge -s 31,lpc -s 4:0,virtio-blk,/dev/zvol/zroot/vm/gpu/disk0 -s 15:0,virtio-net,tap0,mac=58:9c:fc:0a:1b:2c -s 20:0,passthru,2/0/0 -l com1,/dev/nmdm-gpu.1A gpu`.split(" ");
/** A hostile path: quotes, a comment's end, a line break and a JavaScript line separator. */
const EVIL = '/vm/x"*/\nprocess.exit(3)//\u2028y';

function vm(name: string, argv: string[] | null, extra: Partial<ForeignVm> = {}): ForeignVm {
  const p = argv ? proposeGuest(argv, ON14) : { document: null, unsupported: ["no starter of it wrote its command line down"] };
  return {
    name, pid: 4242, parent: { pid: 4241, command: `/bin/sh /usr/local/sbin/vm _run ${name}`, kind: "vm-bhyve" },
    vm_bhyve: null, argv, argv_from: argv ? `/vm/${name}/vm-bhyve.log (run 1)` : null, document: p.document, unsupported: p.unsupported,
    adoptable: p.unsupported.length === 0, notes: [], ...extra,
  };
}

function input(vms: ForeignVm[], managed: AdoptInput["managed"] = { document: { host: {}, ppt: [], switches: [], guests: [] }, managed: false }): AdoptInput {
  const report: ForeignReport = { release: "14.3-RELEASE", vm_bhyve: { enabled: true, vm_dir: "/vm", stores: ["/vm"], vm_list: [], problems: [] }, pptdevs: ["2/0/0"], vms };
  return {
    address: "127.0.1.40:2222", hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", report,
    facts: { pci: [{ selector: "pci0:2:0:0", device: "2/0/0", driver: "ppt", unit: 0, class: "0x030000", header: 0, bridge: false, vendor_id: "0x10de", device_id: "0x1e07", subvendor_id: "0x0000", subdevice_id: "0x0000", device_name: "TU102 */ evil\nname" }] },
    managed, agentVersion: "0.1.0", at: "2026-12-03T12:00:00.000Z",
  };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes the app and synthesizes it as the CLI does; returns the stack's directory in cdktf.out. */
function synth(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-adopted-"));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  linkAppDependencies(dir);
  execFileSync(process.execPath, ["--import", "tsx", join(dir, "main.ts")], { cwd: dir, env: { ...process.env, CDKTF_OUTDIR: join(dir, "out"), BHYVE_SSH_KEY_FILE: "/nonexistent" }, stdio: "pipe" });
  return join(dir, "out", "stacks", "adopted-127-0-1-40-2222");
}

describe("cdktf-bhyve adopt's app", () => {
  test("an adoptable VM: a Guest with adopt whose document renders to what runs, its device reserved with the host's ids; the rest left alone", () => {
    const app = adoptedApp(input([vm("gpu", GPU), vm("handmade", null, { parent: { pid: 1, command: "/sbin/init", kind: "init" } })]));
    assert.deepEqual([app.adopted, app.left, app.imported], [["gpu"], ["handmade"], []]);
    const main = app.files["main.ts"]!;
    assert.match(main, /host\.reservePpt\("ppt-2-0-0", \{ device: "2\/0\/0", vendorId: "0x10de", deviceId: "0x1e07", bind: "boot" \}\)/);
    assert.match(main, /\/\/ VM handmade is left alone/);
    const out = synth(app.files);
    const tf = JSON.parse(readFileSync(join(out, "cdk.tf.json"), "utf8")) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    const guests = Object.values(tf.resource.bhyve_guest!);
    assert.equal(guests.length, 1);
    const g = guests[0]!;
    assert.equal(g.adopt, true);
    assert.equal(g.name, "gpu");
    assert.deepEqual(Object.values(tf.resource.bhyve_ppt_device!).map((p) => [p.device, p.vendor_id, p.bind]), [["2/0/0", "0x10de", "boot"]]);
    // The document the app declares renders to the machine that runs: the agent will take it over.
    const doc = JSON.parse(readFileSync(join(out, "bhyve", "host.json"), "utf8")) as { guests: unknown[] };
    const decoded = checkGuestAlone(doc.guests[0]);
    assert.ok(decoded.ok, decoded.ok ? "" : JSON.stringify(decoded.problems));
    assert.equal(decoded.guest.adopt, true);
    assert.deepEqual(renderingDifferences(GPU, decoded.guest, ON14), []);
  });

  test("what the agent already manages is declared as stored and imported (host, reservation, guest)", () => {
    const managed = {
      managed: true,
      document: {
        host: { vmm_load: true, amdvi_enable: "auto", require_iommu: true, require_nested_paging: true },
        ppt: [{ device: "2/0/0", vendor_id: "0x10de", bind: "live" }],
        switches: [],
        guests: [{ name: "mine", cpus: 2, memory: "1G", bootrom: FW, disks: [{ zvol: "zroot/vm/mine/disk0", size: "20G", type: "nvme" }], nics: [], passthru: [{ device: "2/0/0", slot: 6, function: 0 }], state: "running", restart: "always", start_order: 0 }],
      },
    };
    const app = adoptedApp(input([], managed));
    assert.deepEqual(app.imported, ["bhyve_host 127.0.1.40:2222", "bhyve_ppt_device 2/0/0", "bhyve_guest mine"]);
    const out = synth(app.files);
    const tf = JSON.parse(readFileSync(join(out, "cdk.tf.json"), "utf8")) as { import?: Array<{ id: string; to: string }>; resource: Record<string, Record<string, Record<string, unknown>>> };
    assert.deepEqual(tf.import?.map((i) => i.id).sort(), ["127.0.1.40:2222", "127.0.1.40:2222/2/0/0", "127.0.1.40:2222/mine"]);
    const g = Object.values(tf.resource.bhyve_guest!)[0]!;
    assert.deepEqual([g.restart, (g.disk as Array<Record<string, unknown>>)[0]!.zvol, (g.disk as Array<Record<string, unknown>>)[0]!.size], ["always", "zroot/vm/mine/disk0", "20G"]);
  });

  test("nothing read from the host breaks out of a string or a comment: quotes, */, line breaks and U+2028 in a path and a device name", () => {
    const argv = [...GPU.slice(0, -3), "-s", `5:0,ahci-cd,${EVIL}`, ...GPU.slice(-3)];
    const app = adoptedApp(input([vm("gpu", argv)]));
    // The VM is not adoptable (the model refuses such a path) and its command line is only in a comment.
    assert.deepEqual(app.left, ["gpu"]);
    const main = app.files["main.ts"]!;
    for (const line of main.split("\n")) assert.ok(!line.trimStart().startsWith("process.exit"), line);
    assert.ok(!main.includes("\u2028"));
    synth(app.files); // exits 0: process.exit(3) never ran
  });

  test("a hostile report (a compromised host's agent) is checked as input: names, devices, versions cannot become code", () => {
    const bad = input([{ ...vm("gpu", GPU), name: "x`);process.exit(4);//" }, { ...vm("ok", null), name: "ok\nprocess.exit(5)" }]);
    const app = adoptedApp({ ...bad, report: { ...bad.report, release: "14.3 */ process.exit(6); /*", pptdevs: ["2/0/0", "3/0/0);process.exit(7);//"] }, agentVersion: "1 */ process.exit(8) /*" });
    assert.deepEqual(app.adopted, []);
    const main = app.files["main.ts"]!;
    assert.ok(!/process\.exit\(7\)/.test(main.split("\n").filter((l) => !l.trimStart().startsWith("//") && !l.trimStart().startsWith("*")).join("\n")), main);
    synth(app.files); // exits 0: none of the process.exit calls ran
  });

  test("--cdktn: the same app for CDK Terrain (cdktn and cdktf-bhyve/cdktn) synthesizes the same documents and resources", () => {
    const vms = [vm("gpu", GPU)];
    const a = adoptedApp(input(vms));
    const b = adoptedApp({ ...input(vms), flavour: "cdktn" });
    assert.match(b.files["main.ts"]!, /from "cdktn";/);
    assert.match(b.files["main.ts"]!, /from "cdktf-bhyve\/cdktn";/);
    assert.match(b.files["package.json"]!, /"cdktn": "\^0.24.0"/);
    const [x, y] = [synth(a.files), synth(b.files)];
    assert.equal(readFileSync(join(y, "bhyve", "host.json"), "utf8"), readFileSync(join(x, "bhyve", "host.json"), "utf8"));
    const resources = (dir: string) => (JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as { resource: unknown }).resource;
    assert.deepEqual(resources(y), resources(x));
  });
});
