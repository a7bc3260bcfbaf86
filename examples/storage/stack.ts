/**
 * Storage and first boot: guests whose disks the agent makes. www1 boots from a clone of a golden
 * image (destroyed with the guest) and keeps a reserved data volume (kept when the guest goes);
 * both get their first-boot configuration from a cloud-init seed. www2 runs from a sparse image
 * file. The host's policy must allow the datasets (bhyve-agent.conf):
 *
 *   policy:
 *     zvol_parents: [zroot/vm, zroot/images]
 */
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { BhyveHost, BhyveProvider, Guest } from "cdktf-bhyve";

/** Where the host is and how to log in, and the size of www1's root volume (grow only). */
export interface StorageOptions {
  readonly address: string;
  readonly hostKey: string;
  readonly sshPrivateKeyFile: string;
  /** SSH user; default root. */
  readonly sshUser?: string;
  /** www1's root volume; default 20G. */
  readonly rootSize?: string;
}

/** The storage example's stack. */
export class StorageStack extends TerraformStack {
  constructor(scope: Construct, id: string, o: StorageOptions) {
    super(scope, id);
    new BhyveProvider(this, "bhyve", { sshPrivateKeyFile: o.sshPrivateKeyFile, ...(o.sshUser ? { sshUser: o.sshUser } : {}), hostKeys: { [o.address]: o.hostKey } });
    const host = new BhyveHost(this, "storage-host", { address: o.address, hostKey: o.hostKey });
    new Guest(this, "www1", {
      host,
      name: "www1",
      cpus: 2,
      memory: "2G",
      bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
      disks: [
        { zvol: "zroot/vm/www1/root", clone: "zroot/images/freebsd-14.3@base", size: o.rootSize ?? "20G", type: "nvme", onDelete: "destroy" },
        { zvol: "zroot/vm/www1/data", size: "10G", sparse: false },
      ],
      cloudInit: {
        userData: { hostname: "www1", packages: ["nginx"], ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTheExampleXXXXXXXXXXXXXXX operator"] },
        networkConfig: { version: 2, ethernets: { id0: { match: { name: "vtnet0" }, dhcp4: true } } },
      },
    });
    new Guest(this, "www2", {
      host,
      name: "www2",
      cpus: 1,
      memory: "1G",
      disks: [{ file: "/vm/www2/disk0.img", size: "8G" }],
      cloudInit: { userData: "#!/bin/sh\necho hello from www2 > /etc/motd\n" },
    });
  }
}
