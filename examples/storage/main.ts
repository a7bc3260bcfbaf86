/**
 * The storage example as a CDKTF app. The host comes from the environment:
 *   BHYVE_HOST_ADDRESS     host or host:port            (default 127.0.1.12:22)
 *   BHYVE_HOST_KEY         SHA256:... host key          (default: a placeholder; deploy needs the real one)
 *   BHYVE_SSH_KEY_FILE     private key for the agent    (default ~/.ssh/id_ed25519)
 *   BHYVE_SSH_USER         SSH user                     (default root)
 *   BHYVE_ROOT_SIZE        web1's root volume           (default 20G; grow only)
 */
import { App } from "cdktf";
import { homedir } from "node:os";
import { join } from "node:path";
import { StorageStack } from "./stack.js";

const app = new App();
new StorageStack(app, "storage", {
  address: process.env.BHYVE_HOST_ADDRESS ?? "127.0.1.12:22",
  hostKey: process.env.BHYVE_HOST_KEY ?? "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  sshPrivateKeyFile: process.env.BHYVE_SSH_KEY_FILE ?? join(homedir(), ".ssh", "id_ed25519"),
  ...(process.env.BHYVE_SSH_USER ? { sshUser: process.env.BHYVE_SSH_USER } : {}),
  ...(process.env.BHYVE_ROOT_SIZE ? { rootSize: process.env.BHYVE_ROOT_SIZE } : {}),
});
app.synth();
