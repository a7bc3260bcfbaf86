/**
 * A CDKTF app with two passthrough mistakes, for the end-to-end tests: the GPU's audio function
 * (3/0/1) is never reserved, and the guest's disk is put in the GPU's slot. `cdktf synth` must
 * refuse it, naming the fields, before anything connects to the host.
 */
import { App, TerraformStack } from "cdktf";
import { BhyveHost, BhyveProvider, Guest } from "cdktf-bhyve";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const app = new App();
const stack = new TerraformStack(app, "broken");
new BhyveProvider(stack, "bhyve", { sshPrivateKeyFile: env("BHYVE_SSH_KEY_FILE"), sshUser: env("BHYVE_SSH_USER") });
const host = new BhyveHost(stack, "host", { address: env("BHYVE_HOST_ADDRESS"), hostKey: env("BHYVE_HOST_KEY") });
const gpu = host.reservePpt("gpu", { device: "3/0/0", vendorId: 0x10de });
new Guest(stack, "ml1", {
  host,
  name: "ml1",
  cpus: 4,
  memory: "8G",
  bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
  disks: [{ path: "/dev/zvol/zroot/vm/ml1", type: "nvme", slot: 6 }],
  passthru: [{ device: gpu, slot: 6 }, { device: "3/0/1", slot: 6 }],
});
app.synth();
