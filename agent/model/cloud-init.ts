/**
 * A guest's cloud-init NoCloud seed, as files: `user-data` as given, `meta-data` with the
 * instance id and host name the agent sets, `network-config` when given. The instance id follows
 * the guest's name and the seed's content, so that a changed seed is a new instance to cloud-init
 * (it runs its first-boot modules again) and a visible change in a plan. Pure: the agent writes the
 * files and builds the image (makefs -t cd9660 -o R,L=cidata).
 */
import { createHash } from "node:crypto";
import { parse, stringify } from "yaml";
import type { CloudInit } from "./types.js";

/** The volume label cloud-init's NoCloud source looks for. */
export const SEED_LABEL = "cidata";

/** Where a guest's seed image lives on the host: in its directory, removed with it. */
export function seedPath(name: string): string {
  return `/var/db/bhyve-agent/guests/${name}/seed.iso`;
}

/** The instance id: the guest's name and the first 16 hex digits of the seed content's SHA-256. */
export function instanceId(name: string, ci: CloudInit): string {
  const h = createHash("sha256");
  for (const part of [ci.userData, ci.metaData ?? "", ci.networkConfig ?? ""]) h.update(`${Buffer.byteLength(part)}:`).update(part);
  return `iid-${name}-${h.digest("hex").slice(0, 16)}`;
}

/** The seed's files by name. meta-data: the operator's mapping, with the agent's instance-id over it and local-hostname unless given. */
export function seedFiles(name: string, ci: CloudInit): Record<string, string> {
  const given = ci.metaData !== undefined ? ((parse(ci.metaData) as Record<string, unknown> | null) ?? {}) : {};
  const meta = { "local-hostname": name, ...given, "instance-id": instanceId(name, ci) };
  return {
    "user-data": ci.userData,
    "meta-data": stringify(meta),
    ...(ci.networkConfig !== undefined ? { "network-config": ci.networkConfig } : {}),
  };
}
