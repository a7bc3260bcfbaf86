/**
 * The tfplugin6 Provider service: each RPC decoded from protobuf and msgpack into the provider's
 * own types, handed to the resource or data source, and its answer encoded back. Errors and
 * diagnostics become the response's diagnostics; nothing here knows about bhyve.
 */
import type * as grpc from "@grpc/grpc-js";
import { blockType, protoSchema } from "./schema.js";
import type { Diagnostic, ProviderDef } from "./types.js";
import { decodeJsonValue, decodeValue, encodeValue, ValueError, type CtyType, type Value } from "./values.js";

type Unary = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

export function protoDiagnostics(diags: readonly Diagnostic[]): object[] {
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

/** The Provider service's handlers for `provider`. */
export function providerHandlers(provider: ProviderDef): Record<string, Unary> {
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
    server_capabilities: { plan_destroy: true, get_provider_schema_optional: true, move_resource_state: false },
  };

  return {
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
      if (proposed === null) return { planned_state: dv(t, null), requires_replace: [], diagnostics: prior ? protoDiagnostics(resource(req.type_name).planDelete?.(prior) ?? []) : [] };
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
  };
}
