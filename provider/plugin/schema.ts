/** Provider, resource and data source schemas: one definition gives the protocol's Schema and the value's cty type. */
import type { CtyType } from "./unknown.js";

/** One attribute. */
export interface AttributeDef {
  readonly type: CtyType;
  readonly description: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
  /**
   * A change of this attribute replaces the resource (destroy, then create), as
   * terraform-plugin-framework's RequiresReplace plan modifier does. Plans read it with
   * `replacedAttributes`; no plan function decides it by hand.
   */
  readonly requiresReplace?: boolean;
  /** When two values mean the same (`3/0/0` and `pci0:3:0:0`): no replacement, and a read keeps the configuration's spelling. Default: equal as JSON. */
  readonly sameValue?: (prior: unknown, proposed: unknown) => boolean;
  /**
   * The agent document's key this attribute maps to (`true`: the same name). Attributes without it
   * (connection, computed reports) are not part of the document. Read by the document mapper
   * (provider/resources/document-map.ts): configuration to document, document to state, and the
   * constructs' L1 properties.
   */
  readonly document?: true | string;
  /** What a plan shows for this optional attribute when the configuration leaves it out: the model's default (DEFAULTS). */
  readonly default?: string | number | boolean;
}

/** A nested block (HCL `disk { ... }`), as a list of objects. */
export interface NestedBlockDef {
  readonly block: BlockDef;
  /** The agent document's list key this block maps to (`disk` blocks are the document's `disks`). */
  readonly document?: string;
  /**
   * The document holds one mapping under `document`, or nothing: the block appears at most once
   * (max_items 1, which the CDKTF bindings type as a single object).
   */
  readonly single?: true;
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
      max_items: nb.single ? 1 : (nb.maxItems ?? 0),
    })),
  };
}

/** The protocol's Schema message for a block. */
export function protoSchema(version: number, b: BlockDef): object {
  return { version, block: protoBlock(b) };
}

/** The attributes declared `requiresReplace` whose value the plan changes: Terraform's requires_replace paths. */
export function replacedAttributes(b: BlockDef, prior: Readonly<Record<string, unknown>> | null, proposed: Readonly<Record<string, unknown>>): string[][] {
  if (!prior) return [];
  return Object.entries(b.attributes)
    .filter(([k, a]) => a.requiresReplace && !(a.sameValue ?? sameJson)(prior[k], proposed[k]))
    .map(([k]) => [k]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
