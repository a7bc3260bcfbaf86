/**
 * The plugin process: go-plugin's handshake with AutoMTLS, then the gRPC services Terraform's
 * plugin client talks to: the tfplugin6 Provider (handlers.ts) and go-plugin's own (lifecycle.ts).
 * Resource logic lives in ../resources; nothing here knows about bhyve.
 */
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";
import goPluginProto from "./go-plugin.proto";
import healthProto from "./health.proto";
import protocolProto from "./protocol.proto";
import { makeTlsIdentity } from "./cert.js";
import { providerHandlers } from "./handlers.js";
import { addLifecycleServices } from "./lifecycle.js";
import type { ProviderDef } from "./types.js";

/** go-plugin's magic cookie for Terraform providers: without it a person ran the binary by hand. */
export const MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/** Terraform allows 256 MiB messages; grpc-js defaults to 4 MiB. */
const MAX_MESSAGE = 256 * 1024 * 1024;

function loadServices() {
  const root = new protobuf.Root();
  for (const text of [protocolProto, goPluginProto, healthProto]) protobuf.parse(text, root, { keepCase: true });
  const def = fromJSON(root.toJSON(), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, bytes: Buffer });
  return grpc.loadPackageDefinition(def) as any;
}

/** Refuses to run outside Terraform (no magic cookie) or with a protocol other than 6. */
function checkHandshake(): void {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write("This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will load any plugins automatically.\n");
    process.exit(1);
  }
  const versions = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? "6").split(",");
  if (!versions.includes("6")) {
    process.stderr.write(`this provider speaks plugin protocol 6; Terraform offered ${versions.join(",")} (use Terraform 1.0 or newer)\n`);
    process.exit(1);
  }
}

/** Serves `provider` as a Terraform plugin; resolves once the handshake line is printed. */
export async function servePlugin(provider: ProviderDef): Promise<void> {
  checkHandshake();
  const pkg = loadServices();
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE });
  server.addService(pkg.tfplugin6.Provider.service, providerHandlers(provider));
  const dir = mkdtempSync(join(tmpdir(), "tf-bhyve-"));
  addLifecycleServices(server, pkg, provider, dir);

  // AutoMTLS: Terraform's certificate in PLUGIN_CLIENT_CERT, ours in the handshake line.
  const identity = makeTlsIdentity();
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const creds = clientCert
    ? grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: Buffer.from(identity.keyPem), cert_chain: Buffer.from(identity.certPem) }], true)
    : grpc.ServerCredentials.createInsecure();
  const sock = join(dir, "plugin.sock");
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${sock}`, creds, (err) => (err ? reject(err) : resolve())));
  const cert = clientCert ? `|${identity.certDer.toString("base64").replace(/=+$/, "")}` : "";
  process.stdout.write(`1|6|unix|${sock}|grpc${cert}\n`);
}
