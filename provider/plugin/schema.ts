/** Provider, resource and data source schemas: one definition gives the protocol's Schema and the value's cty type. */
import type { CtyType } from "./values.js";

/** One attribute. */
export interface AttributeDef {
  readonly type: CtyType;
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
}

/** A nested block (HCL `disk { ... }`), as a list of objects. */
export interface NestedBlockDef {
  readonly block: BlockDef;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** A block: attributes and nested list blocks. */
export interface BlockDef {
  readonly description: string;
  readonly attributes: Readonly<Record<string, AttributeDef>>;
  readonly blocks?: Readonly<Record<string, NestedBlockDef>>;
}

/** The cty object type of values of a block. */
export function blockType(b: BlockDef): CtyType {
  const attrs: Record<string, CtyType> = {};
  for (const [k, a] of Object.entries(b.attributes)) attrs[k] = a.type;
  for (const [k, nb] of Object.entries(b.blocks ?? {})) attrs[k] = ["list", blockType(nb.block)];
  return ["object", attrs];
}

function protoBlock(b: BlockDef): object {
  return {
    version: 0,
    description: b.description,
    description_kind: "PLAIN",
    attributes: Object.entries(b.attributes).map(([name, a]) => ({
      name,
      type: Buffer.from(JSON.stringify(a.type)),
      description: a.description,
      description_kind: "PLAIN",
      required: !!a.required,
      optional: !!a.optional,
      computed: !!a.computed,
      sensitive: !!a.sensitive,
    })),
    block_types: Object.entries(b.blocks ?? {}).map(([name, nb]) => ({
      type_name: name,
      block: protoBlock(nb.block),
      nesting: "LIST",
      min_items: nb.minItems ?? 0,
      max_items: nb.maxItems ?? 0,
    })),
  };
}

/** The protocol's Schema message for a block. */
export function protoSchema(version: number, b: BlockDef): object {
  return { version, block: protoBlock(b) };
}
