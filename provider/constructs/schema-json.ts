/**
 * The provider's schema in the form `terraform providers schema -json` prints, built from the same
 * definitions the plugin serves: the input of the bindings generator. A test checks it against
 * what Terraform reports from the running provider.
 */
import type { AttributeDef, BlockDef } from "../plugin/schema.js";
import { PROVIDER_SOURCE } from "../resources/provider.js";
import { bhyveProvider } from "../resources/provider.js";
import { PROVIDER_VERSION } from "../version.js";

function attribute(a: AttributeDef): Record<string, unknown> {
  return {
    type: a.type,
    description: a.description,
    description_kind: "plain",
    ...(a.required ? { required: true } : {}),
    ...(a.optional ? { optional: true } : {}),
    ...(a.computed ? { computed: true } : {}),
    ...(a.sensitive ? { sensitive: true } : {}),
  };
}

function block(b: BlockDef): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Object.keys(b.attributes).length) {
    out.attributes = Object.fromEntries(Object.entries(b.attributes).sort(([x], [y]) => x.localeCompare(y)).map(([k, a]) => [k, attribute(a)]));
  }
  if (b.blocks && Object.keys(b.blocks).length) {
    out.block_types = Object.fromEntries(Object.entries(b.blocks).sort(([x], [y]) => x.localeCompare(y)).map(([k, nb]) => [k, { nesting_mode: "list", block: block(nb.block), ...(nb.minItems ? { min_items: nb.minItems } : {}), ...(nb.single || nb.maxItems ? { max_items: nb.single ? 1 : nb.maxItems } : {}) }]));
  }
  out.description = b.description;
  out.description_kind = "plain";
  return out;
}

/** `terraform providers schema -json` for this provider (with provider_versions, which the generator reads). */
export function providerSchemaJson(): Record<string, unknown> {
  const p = bhyveProvider();
  return {
    format_version: "1.0",
    provider_schemas: {
      [PROVIDER_SOURCE]: {
        provider: { version: 0, block: block(p.schema) },
        resource_schemas: Object.fromEntries(Object.entries(p.resources).map(([n, r]) => [n, { version: r.version, block: block(r.schema) }])),
        data_source_schemas: Object.fromEntries(Object.entries(p.dataSources).map(([n, d]) => [n, { version: 0, block: block(d.schema) }])),
      },
    },
    provider_versions: { [PROVIDER_SOURCE]: PROVIDER_VERSION },
  };
}
