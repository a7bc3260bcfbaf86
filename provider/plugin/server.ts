/**
 * The plugin process: go-plugin's handshake with AutoMTLS, the gRPC services Terraform's plugin
 * client talks to (tfplugin6 Provider, health, controller, broker, stdio), and the protocol
 * conversion between protobuf messages and the provider's own types. Resource logic lives in
 * ../resources; nothing here knows about bhyve.
 */
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";
import goPluginProto from "./go-plugin.proto";
import healthProto from "./health.proto";
import protocolProto from "./protocol.proto";
import { makeTlsIdentity } from "./cert.js";
import { blockType, protoSchema } from "./schema.js";
import type { Diagnostic, ProviderDef } from "./types.js";
import { decodeJsonValue, decodeValue, encodeValue, ValueError, type CtyType, type Value } from "./values.js";

/** go-plugin's magic cookie for Terraform providers: without it a person ran the binary by hand. */
export const MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/** Terraform allows 256 MiB messages; grpc-js defaults to 4 MiB. */
const MAX_MESSAGE = 256 * 1024 * 1024;

type Unary = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

function loadServices() {
  const root = new protobuf.Root();
  for (const text of [protocolProto, goPluginProto, healthProto]) protobuf.parse(text, root, { keepCase: true });
  const def = fromJSON(root.toJSON(), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, bytes: Buffer });
  return grpc.loadPackageDefinition(def) as any;
}

function protoDiagnostics(diags: readonly Diagnostic[]): object[] {
  return diags.map((d) => ({
    severity: d.severity === "warning" ? "WARNING" : "ERROR",
    summary: d.summary,
    detail: d.detail ?? "",
    ...(d.attribute ? { attribute: { steps: d.attribute.map((s) => (typeof s === "number" ? { element_key_int: s } : { attribute_name: s })) } } : {}),
  }));
}

function errorDiagnostic(err: unknown): Diagnostic {
  if (err instanceof ValueError) return { severity: "error", summary: "Value does not match the schema", detail: err.message, attribute: err.path };
  const e = err as Error & { summary?: string; detail?: string; attribute?: Array<string | number> };
  if (e?.summary) return { severity: "error", summary: e.summary, detail: e.detail ?? e.message, ...(e.attribute ? { attribute: e.attribute } : {}) };
  process.stderr.write(`[ERROR] provider: ${e?.stack ?? String(err)}\n`);
  return { severity: "error", summary: "Internal error in the bhyve provider", detail: `${e?.message ?? String(err)} (this is a bug; the provider's log on stderr has the stack)` };
}

/** Wraps a handler: its diagnostics, or any error, become the response's diagnostics field. */
function unary(diagField: string, fn: (req: any) => Promise<object>): Unary {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err) => callback(null, { [diagField]: protoDiagnostics([errorDiagnostic(err)]) }),
    );
  };
}

/** Serves `provider` as a Terraform plugin; resolves once the handshake line is printed. */
export async function servePlugin(provider: ProviderDef): Promise<void> {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write("This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will load any plugins automatically.\n");
    process.exit(1);
  }
  const versions = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? "6").split(",");
  if (!versions.includes("6")) {
    process.stderr.write(`this provider speaks plugin protocol 6; Terraform offered ${versions.join(",")} (use Terraform 1.0 or newer)\n`);
    process.exit(1);
  }
  const pkg = loadServices();
  const typeOf = (kind: "resource" | "data", name: string): CtyType => {
    const def = kind === "resource" ? provider.resources[name] : provider.dataSources[name];
    if (!def) throw Object.assign(new Error(`unknown ${kind} type ${name}`), { summary: `Unknown ${kind === "resource" ? "resource" : "data source"} type ${name}`, detail: `this provider has ${Object.keys(kind === "resource" ? provider.resources : provider.dataSources).join(", ")}` });
    return blockType(def.schema);
  };
  const resource = (name: string) => {
    typeOf("resource", name);
    return provider.resources[name]!;
  };
  const dv = (type: CtyType, v: Value): object => ({ msgpack: Buffer.from(encodeValue(type, v)) });
  const providerType = blockType(provider.schema);

  const schemaResponse = {
    provider: protoSchema(0, provider.schema),
    resource_schemas: Object.fromEntries(Object.entries(provider.resources).map(([n, r]) => [n, protoSchema(r.version, r.schema)])),
    data_source_schemas: Object.fromEntries(Object.entries(provider.dataSources).map(([n, d]) => [n, protoSchema(0, d.schema)])),
    diagnostics: [],
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
  };

  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE });
  let shutdown: () => void = () => {};

  server.addService(pkg.tfplugin6.Provider.service, {
    GetMetadata: unary("diagnostics", async () => ({
      server_capabilities: schemaResponse.server_capabilities,
      diagnostics: [],
      resources: Object.keys(provider.resources).map((type_name) => ({ type_name })),
      data_sources: Object.keys(provider.dataSources).map((type_name) => ({ type_name })),
    })),
    GetProviderSchema: unary("diagnostics", async () => schemaResponse),
    ValidateProviderConfig: unary("diagnostics", async (req) => ({
      diagnostics: protoDiagnostics(provider.validateConfig(decodeValue(providerType, req.config?.msgpack) as Record<string, Value>)),
    })),
    ConfigureProvider: unary("diagnostics", async (req) => ({
      diagnostics: protoDiagnostics(await provider.configure(decodeValue(providerType, req.config?.msgpack) as Record<string, Value>, req.terraform_version)),
    })),
    ValidateResourceConfig: unary("diagnostics", async (req) => ({
      diagnostics: protoDiagnostics(resource(req.type_name).validate(decodeValue(typeOf("resource", req.type_name), req.config?.msgpack) as Record<string, Value>)),
    })),
    ValidateDataResourceConfig: unary("diagnostics", async (req) => {
      const t = typeOf("data", req.type_name);
      return { diagnostics: protoDiagnostics(provider.dataSources[req.type_name]!.validate(decodeValue(t, req.config?.msgpack) as Record<string, Value>)) };
    }),
    UpgradeResourceState: unary("diagnostics", async (req) => {
      const t = typeOf("resource", req.type_name);
      const r = resource(req.type_name);
      const raw = req.raw_state?.json?.length ? JSON.parse(Buffer.from(req.raw_state.json).toString("utf8")) : null;
      const upgraded = r.upgrade ? r.upgrade(raw, Number(req.version)) : raw;
      return { upgraded_state: dv(t, decodeJsonValue(t, Buffer.from(JSON.stringify(upgraded)))), diagnostics: [] };
    }),
    ReadResource: unary("diagnostics", async (req) => {
      const t = typeOf("resource", req.type_name);
      const current = decodeValue(t, req.current_state?.msgpack) as Record<string, Value> | null;
      const out = await resource(req.type_name).read(current!);
      return { new_state: dv(t, out.state), diagnostics: protoDiagnostics(out.diagnostics), private: req.private ?? Buffer.alloc(0) };
    }),
    PlanResourceChange: unary("diagnostics", async (req) => {
      const t = typeOf("resource", req.type_name);
      const prior = decodeValue(t, req.prior_state?.msgpack) as Record<string, Value> | null;
      const proposed = decodeValue(t, req.proposed_new_state?.msgpack) as Record<string, Value> | null;
      const config = decodeValue(t, req.config?.msgpack) as Record<string, Value> | null;
      if (proposed === null) return { planned_state: dv(t, null), requires_replace: [], diagnostics: [] };
      const out = await resource(req.type_name).plan(prior, proposed, config!);
      return {
        planned_state: dv(t, out.planned),
        requires_replace: out.requiresReplace.map((p) => ({ steps: p.map((s) => ({ attribute_name: s })) })),
        planned_private: Buffer.alloc(0),
        diagnostics: protoDiagnostics(out.diagnostics),
      };
    }),
    ApplyResourceChange: unary("diagnostics", async (req) => {
      const t = typeOf("resource", req.type_name);
      const prior = decodeValue(t, req.prior_state?.msgpack) as Record<string, Value> | null;
      const planned = decodeValue(t, req.planned_state?.msgpack) as Record<string, Value> | null;
      const config = decodeValue(t, req.config?.msgpack) as Record<string, Value> | null;
      const out = await resource(req.type_name).apply(prior, planned, config);
      return { new_state: dv(t, out.state), private: Buffer.alloc(0), diagnostics: protoDiagnostics(out.diagnostics) };
    }),
    ImportResourceState: unary("diagnostics", async (req) => {
      const t = typeOf("resource", req.type_name);
      const out = await resource(req.type_name).import(req.id);
      return {
        imported_resources: out.state ? [{ type_name: req.type_name, state: dv(t, out.state), private: Buffer.alloc(0) }] : [],
        diagnostics: protoDiagnostics(out.diagnostics),
      };
    }),
    ReadDataSource: unary("diagnostics", async (req) => {
      const t = typeOf("data", req.type_name);
      const config = decodeValue(t, req.config?.msgpack) as Record<string, Value>;
      const out = await provider.dataSources[req.type_name]!.read(config);
      return { state: dv(t, out.state), diagnostics: protoDiagnostics(out.diagnostics) };
    }),
    StopProvider: unary("Error", async () => {
      await provider.stop();
      return { Error: "" };
    }),
  });

  server.addService(pkg.grpc.health.v1.Health.service, {
    Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { status: "SERVING" }),
    Watch: (call: grpc.ServerWritableStream<unknown, object>) => call.write({ status: "SERVING" }),
  });
  server.addService(pkg.plugin.GRPCController.service, {
    Shutdown: (_call: unknown, cb: grpc.sendUnaryData<object>) => {
      cb(null, {});
      // Answer first, then go: go-plugin waits for the connection to close.
      setImmediate(() => shutdown());
    },
  });
  server.addService(pkg.plugin.GRPCBroker.service, {
    // Terraform opens the broker stream and never uses it with providers: keep it open and idle.
    StartStream: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      call.on("data", () => {});
      call.on("end", () => call.end());
    },
  });
  server.addService(pkg.plugin.GRPCStdio.service, {
    StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      call.on("cancelled", () => call.end());
    },
  });

  const identity = makeTlsIdentity();
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const creds = clientCert
    ? grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: Buffer.from(identity.keyPem), cert_chain: Buffer.from(identity.certPem) }], true)
    : grpc.ServerCredentials.createInsecure();
  const dir = mkdtempSync(join(tmpdir(), "tf-bhyve-"));
  const sock = join(dir, "plugin.sock");
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${sock}`, creds, (err) => (err ? reject(err) : resolve())));

  shutdown = () => {
    void provider.stop().finally(() => {
      server.tryShutdown(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
      setTimeout(() => process.exit(0), 2000).unref();
    });
  };
  process.on("SIGTERM", shutdown);
  // Terraform sends SIGINT to the whole process group on Ctrl-C and expects plugins to carry on
  // until told to stop through the protocol.
  process.on("SIGINT", () => {});

  const cert = clientCert ? `|${identity.certDer.toString("base64").replace(/=+$/, "")}` : "";
  process.stdout.write(`1|6|unix|${sock}|grpc${cert}\n`);
}
