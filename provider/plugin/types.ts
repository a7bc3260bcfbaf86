/** What a provider implementation gives the plugin server: schemas and the lifecycle of each resource. */
import type { BlockDef } from "./schema.js";
import type { Value } from "./values.js";

/** A problem reported to Terraform: a short summary, a detail that says what to do, the attribute at fault. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  /** Attribute names and list indexes from the resource's root. */
  readonly attribute?: ReadonlyArray<string | number>;
}

/** An object value (a resource's or data source's attributes). */
export type ObjectValue = Record<string, Value>;

/** A managed resource type. */
export interface ResourceDef {
  readonly schema: BlockDef;
  readonly version: number;
  validate(config: ObjectValue): Diagnostic[];
  /** What a delete of `prior` would do that the plan should say (warnings); the server plans the delete itself. */
  planDelete?(prior: ObjectValue): Diagnostic[];
  /** Plans a create (prior null) or an update; deletes are planned by the server. */
  plan(prior: ObjectValue | null, proposed: ObjectValue, config: ObjectValue): Promise<{ planned: ObjectValue; requiresReplace: string[][]; diagnostics: Diagnostic[] }>;
  /** Creates (prior null), updates, or deletes (planned null). Returns the new state, null after a delete. */
  apply(prior: ObjectValue | null, planned: ObjectValue | null, config: ObjectValue | null): Promise<{ state: ObjectValue | null; diagnostics: Diagnostic[] }>;
  /** What is really there; null when it is gone (Terraform plans it again). */
  read(state: ObjectValue): Promise<{ state: ObjectValue | null; diagnostics: Diagnostic[] }>;
  import(id: string): Promise<{ state: ObjectValue | null; diagnostics: Diagnostic[] }>;
  /** Upgrades raw JSON state from an older schema version. */
  upgrade?(raw: unknown, version: number): unknown;
}

/** A data source type. */
export interface DataSourceDef {
  readonly schema: BlockDef;
  validate(config: ObjectValue): Diagnostic[];
  read(config: ObjectValue): Promise<{ state: ObjectValue; diagnostics: Diagnostic[] }>;
}

/** The provider as a whole. */
export interface ProviderDef {
  readonly schema: BlockDef;
  readonly resources: Readonly<Record<string, ResourceDef>>;
  readonly dataSources: Readonly<Record<string, DataSourceDef>>;
  validateConfig(config: ObjectValue): Diagnostic[];
  configure(config: ObjectValue, terraformVersion: string): Promise<Diagnostic[]>;
  stop(): Promise<void>;
}

/** An error that is a diagnostic for the user, not a bug. */
export class DiagnosticError extends Error {
  constructor(readonly summary: string, readonly detail: string, readonly attribute?: Array<string | number>) {
    super(`${summary}: ${detail}`);
    this.name = "DiagnosticError";
  }
}
