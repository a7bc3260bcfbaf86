/**
 * A fleet from a typed inventory: every host gets its settings; gpu hosts pass their GPU and its
 * audio function to an ML guest; edge hosts bind one NIC port live for a firewall guest; every
 * host runs its share of web guests on a switch "lan" bridged to the host's first I350 port (igb0).
 * Guest names are unique across the fleet.
 */
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { BhyveHost, BhyveProvider, BhyvePush, Guest } from "cdktf-bhyve";
import type { Inventory } from "./inventory.js";

const UEFI = "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd";

/** The fleet stack. */
export class FleetStack extends TerraformStack {
  readonly hosts: BhyveHost[] = [];

  constructor(scope: Construct, id: string, inventory: Inventory) {
    super(scope, id);
    const ssh = {
      sshPrivateKeyFile: inventory.sshPrivateKeyFile,
      ...(inventory.sshUser ? { sshUser: inventory.sshUser } : {}),
      ...(inventory.connectTimeout ? { connectTimeout: inventory.connectTimeout } : {}),
    };
    if (inventory.mode === "push") new BhyvePush(this, "bhyve", ssh);
    else new BhyveProvider(this, "bhyve", { ...ssh, hostKeys: Object.fromEntries(inventory.hosts.map((h) => [h.address, h.hostKey])) });
    for (const spec of inventory.hosts) {
      const host = new BhyveHost(this, spec.name, { address: spec.address, hostKey: spec.hostKey });
      this.hosts.push(host);
      if (spec.role === "gpu") {
        const gpu = host.reservePpt("gpu", { device: "3/0/0", vendorId: 0x10de, bind: "live" });
        const audio = host.reservePpt("gpu-audio", { device: "3/0/1", vendorId: 0x10de, bind: "live" });
        new Guest(this, `${spec.name}-ml`, {
          host, name: `${spec.name}-ml`, cpus: 4, memory: "8G", bootrom: UEFI,
          disks: [{ path: "/dev/zvol/zroot/vm/ml1", type: "nvme" }],
          passthru: [{ device: gpu, slot: 6 }, { device: audio, slot: 6 }],
          restart: "always", startOrder: 10,
        });
      }
      if (spec.role === "edge") {
        const port = host.reservePpt("wan-port", { device: "4/0/1", vendorId: 0x8086, deviceId: 0x1521, bind: "live" });
        new Guest(this, `${spec.name}-fw`, {
          host, name: `${spec.name}-fw`, cpus: 2, memory: "1G",
          disks: [{ path: "/dev/zvol/zroot/vm/fw1" }],
          passthru: [{ device: port, slot: 7, function: 0 }],
          startOrder: 1,
        });
      }
      const lan = spec.webGuests > 0 ? host.addSwitch("lan", { uplink: "igb0" }) : undefined;
      for (let i = 0; i < spec.webGuests; i++) {
        new Guest(this, `${spec.name}-web${i}`, {
          host, name: `${spec.name}-web${i}`, cpus: 1, memory: "512M", bootrom: UEFI,
          nics: [{ switch: lan! }],
          startOrder: 20 + i,
        });
      }
    }
  }
}
