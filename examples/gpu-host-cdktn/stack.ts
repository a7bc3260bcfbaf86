/**
 * The GPU host example for CDK Terrain (cdktn 0.24), the community continuation of CDKTF: the
 * same constructs from cdktf-bhyve/cdktn, the same documents and passthru.md as examples/gpu-host.
 * One GPU host: an NVIDIA GPU and its HDMI audio function go to a UEFI guest (ml1) in one guest
 * slot, keeping their function numbers; port 1 of a two-port I350 is bound to ppt at once (live)
 * for a FreeBSD guest booted with bhyveload (fw1). The same desired state as ../gpu-host/host.yaml.
 */
import { TerraformStack } from "cdktn";
import type { Construct } from "constructs";
import { BhyveHost, BhyveProvider, Guest } from "cdktf-bhyve/cdktn";

/** Where the host is and how to log in. */
export interface Connection {
  readonly address: string;
  readonly hostKey: string;
  readonly sshPrivateKeyFile: string;
  /** SSH user; default root. */
  readonly sshUser?: string;
}

/** The GPU host stack. */
export class GpuHostStack extends TerraformStack {
  readonly host: BhyveHost;

  constructor(scope: Construct, id: string, conn: Connection) {
    super(scope, id);
    new BhyveProvider(this, "bhyve", { sshPrivateKeyFile: conn.sshPrivateKeyFile, ...(conn.sshUser ? { sshUser: conn.sshUser } : {}), hostKeys: { [conn.address]: conn.hostKey } });
    const host = new BhyveHost(this, "gpu-host", { address: conn.address, hostKey: conn.hostKey, vmmLoad: true, amdviEnable: "auto" });
    this.host = host;

    const gpu = host.reservePpt("gpu", { device: "3/0/0", vendorId: 0x10de, deviceId: 0x1e07, bind: "boot" });
    const audio = host.reservePpt("gpu-audio", { device: "3/0/1", vendorId: 0x10de, deviceId: 0x10f7, bind: "boot" });
    const nicPort = host.reservePpt("nic-port1", { device: "4/0/1", vendorId: 0x8086, deviceId: 0x1521, bind: "live" });

    new Guest(this, "ml1", {
      host,
      name: "ml1",
      cpus: 8,
      memory: "32G",
      bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
      disks: [{ path: "/dev/zvol/zroot/vm/ml1", type: "nvme" }],
      nics: [{ tap: "tap0", model: "virtio-net", mac: "58:9c:fc:00:00:01" }],
      passthru: [{ device: gpu, slot: 6 }, { device: audio, slot: 6 }],
      state: "running",
      restart: "always",
      startOrder: 10,
    });
    new Guest(this, "fw1", {
      host,
      name: "fw1",
      cpus: 2,
      memory: "2G",
      disks: [{ path: "/dev/zvol/zroot/vm/fw1", type: "virtio-blk" }],
      nics: [{ tap: "tap1", model: "virtio-net" }],
      passthru: [{ device: nicPort, slot: 7, function: 0 }],
      state: "running",
      restart: "on-reboot",
      startOrder: 5,
    });
  }
}
