/**
 * The GPU host example as a CDK Terrain app (deploy with cdktn-cli: cdktn deploy). The host comes
 * from the environment:
 *   BHYVE_HOST_ADDRESS     host or host:port            (default 127.0.1.11:22)
 *   BHYVE_HOST_KEY         SHA256:... host key          (default: a placeholder; deploy needs the real one)
 *   BHYVE_SSH_KEY_FILE     private key for the agent    (default ~/.ssh/id_ed25519)
 *   BHYVE_SSH_USER         SSH user                     (default root)
 */
import { App } from "cdktn";
import { homedir } from "node:os";
import { join } from "node:path";
import { GpuHostStack } from "./stack.js";

const app = new App();
new GpuHostStack(app, "gpu-host", {
  address: process.env.BHYVE_HOST_ADDRESS ?? "127.0.1.11:22",
  hostKey: process.env.BHYVE_HOST_KEY ?? "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  sshPrivateKeyFile: process.env.BHYVE_SSH_KEY_FILE ?? join(homedir(), ".ssh", "id_ed25519"),
  ...(process.env.BHYVE_SSH_USER ? { sshUser: process.env.BHYVE_SSH_USER } : {}),
});
app.synth();
