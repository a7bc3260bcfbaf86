/**
 * The policy gate every change passes before anything on the host changes: the desired state
 * against the host's policy file and the devices the host depends on. The protected devices are
 * looked up once per agent process (one SSH session, one command) and only when something is to
 * be reserved.
 */
import { readAgentConfig } from "../host/config.js";
import type { HostFacts } from "../host/facts.js";
import type { HostPaths } from "../host/paths.js";
import { protectedDevices, type ProtectedDevice } from "../host/protected.js";
import { checkPolicy } from "../spec/policy.js";
import type { Problem } from "../spec/problems.js";
import type { DesiredState } from "../spec/types.js";

const found = new Map<string, Promise<{ devices: ProtectedDevice[]; notes: string[] }>>();

/** The protected devices of a host, found once per process. */
export function protectedOnce(paths: HostPaths): Promise<{ devices: ProtectedDevice[]; notes: string[] }> {
  let p = found.get(paths.root);
  if (!p) {
    p = protectedDevices(paths);
    found.set(paths.root, p);
    p.catch(() => found.delete(paths.root));
  }
  return p;
}

const hex4 = (v: string): string => v.replace(/^0x/i, "").toLowerCase().padStart(4, "0");

/** Problems of `desired` with this host's policy (empty when it keeps it). */
export async function policyProblems(paths: HostPaths, desired: DesiredState, facts: HostFacts): Promise<Problem[]> {
  const { policy } = readAgentConfig(paths);
  const prot = desired.ppt.length > 0 ? (await protectedOnce(paths)).devices : [];
  const hardware = new Map(facts.pci.map((p) => [p.device, { vendor: hex4(p.vendor_id), device: hex4(p.device_id) }]));
  return checkPolicy(desired, policy, { protected: prot, hardware, physicalMemory: facts.memory.physical });
}
