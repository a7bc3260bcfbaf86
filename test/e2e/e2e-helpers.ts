/** End-to-end helpers: CDKTF apps deployed to sshd test hosts. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CdktfProject, type RunOutcome } from "../../provider/cli/lib/cdktf-project.js";
import { repoPath } from "../support/helpers.js";
import type { SshdFleet, SshdHost } from "../support/sshd-hosts.js";

/** What a host looks like from outside: loader.conf, ppt bindings, guests. */
export interface HostSnapshot {
  readonly loaderConf: string;
  readonly drivers: Record<string, string>;
  readonly vms: string[];
}

/**
 * Takes a snapshot of a test host. The IOMMU unit is left out: it attaches when vmm.ko loads, and
 * the agent loads vmm live; as on FreeBSD, nothing unloads it before the next boot.
 */
export function snapshot(h: SshdHost): HostSnapshot {
  const m = h.sandbox.machine();
  // PCI class 08h/06h: an IOMMU unit (base system peripheral).
  const iommu = (f: { classCode: number }): boolean => f.classCode >> 8 === 0x0806;
  return {
    loaderConf: readFileSync(join(h.sandbox.root, "boot/loader.conf"), "utf8"),
    drivers: Object.fromEntries(m.pci.filter((f) => !iommu(f)).map((f) => [`${f.bus}/${f.slot}/${f.function}`, f.driver ?? "none"])),
    vms: Object.keys(m.vms).sort(),
  };
}

/** Explains a failed run for an assertion message. */
export function explain(what: string, r: RunOutcome): string {
  const tail = (s: string): string => s.split("\n").slice(-60).join("\n");
  return `${what} exited ${r.code} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** The fleet example pointed at sshd test hosts (gpu1, edge1, gen1 by their names). */
export function fleetProject(
  fleet: SshdFleet,
  hosts: ReadonlyArray<{ host: SshdHost; role: "gpu" | "edge" | "general"; webGuests: number; name?: string }>,
  extra: { connectTimeout?: string; mode?: "provider" | "push" } = {},
): { project: CdktfProject; workDir: string } {
  const workDir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-e2e-"));
  const inventory = {
    sshPrivateKeyFile: fleet.keyFile,
    sshUser: fleet.account.user,
    ...extra,
    hosts: hosts.map(({ host, role, webGuests, name }) => ({ name: name ?? host.name, address: host.address, hostKey: host.hostKeyFingerprint, role, webGuests })),
  };
  writeFileSync(join(workDir, "inventory.json"), JSON.stringify(inventory, null, 1));
  const project = new CdktfProject({ main: repoPath("examples/fleet/main.ts"), workDir, env: { BHYVE_FLEET_INVENTORY: join(workDir, "inventory.json") } });
  return { project, workDir };
}

/** The gpu-host example pointed at one sshd test host: as a CDKTF app (cdktf CLI), or as a CDK Terrain app (examples/gpu-host-cdktn, cdktn CLI). */
export function gpuHostProject(fleet: SshdFleet, host: SshdHost, extraEnv: Record<string, string> = {}, flavour: "cdktf" | "cdktn" = "cdktf"): { project: CdktfProject; workDir: string } {
  const workDir = mkdtempSync(join(tmpdir(), "cdktf-bhyve-e2e-"));
  const project = new CdktfProject({
    main: repoPath(flavour === "cdktf" ? "examples/gpu-host/main.ts" : "examples/gpu-host-cdktn/main.ts"),
    cli: flavour,
    workDir,
    env: {
      BHYVE_HOST_ADDRESS: host.address,
      BHYVE_HOST_KEY: host.hostKeyFingerprint,
      BHYVE_SSH_KEY_FILE: fleet.keyFile,
      BHYVE_SSH_USER: fleet.account.user,
      ...extraEnv,
    },
  });
  return { project, workDir };
}

/** Removes a project's scratch directory. */
export function removeWork(workDir: string): void {
  rmSync(workDir, { recursive: true, force: true });
}
