/** Switch: a virtual switch on a host (bhyve_switch): a bridge the agent makes, with an optional uplink. */
import { Construct } from "constructs";
import { Switch as SwitchResource, type SwitchConfig } from "../gen/switch/index.js";
import { documentLeaves, documentOfProps, l1Properties } from "../../resources/document-map.js";
import { SWITCH_SCHEMA } from "../../resources/switch-schema.js";
import type { BhyveHost } from "./host.js";
import { concrete } from "./tokens.js";

/** Props of a {@link Switch}. */
export interface SwitchProps {
  /** The host the switch is on. */
  readonly host: BhyveHost;
  /** Switch name: 1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit. */
  readonly name: string;
  /** Host interface the switch reaches the network through (igb1). @default none: a host-only switch */
  readonly uplink?: string;
  /** 802.1Q tag on the uplink (1-4094). @default untagged */
  readonly vlan?: number;
  /** MTU of the bridge and the guests' taps on it. @default the interfaces' own */
  readonly mtu?: number;
}

/** Whether `v` is a Switch, by its brand (not instanceof: two copies of this module may be loaded). */
export function isSwitch(v: unknown): v is Switch {
  return v !== null && typeof v === "object" && (v as { kind?: unknown }).kind === "switch" && typeof (v as { name?: unknown }).name === "string";
}

/** A virtual switch on a host; guest NICs on it depend on it. */
export class Switch extends Construct {
  readonly kind = "switch";
  /** The L1 bhyve_switch resource (undefined in push mode: the host's document holds the switch). */
  readonly resource: SwitchResource | undefined;
  readonly host: BhyveHost;
  readonly name: string;

  constructor(scope: Construct, id: string, readonly props: SwitchProps) {
    super(scope, id);
    this.host = props.host;
    this.name = props.name;
    this.resource = props.host.push ? undefined : new SwitchResource(this, "switch", {
      ...(l1Properties(SWITCH_SCHEMA, this.toDocument()) as Omit<SwitchConfig, "address" | "hostKey">),
      address: props.host.address,
      hostKey: props.host.hostKey,
      dependsOn: props.host.resource ? [props.host.resource] : [],
    });
    props.host.switches.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    this.allKnown ??= documentLeaves(this.toDocument()).every(concrete);
    return this.allKnown;
  }

  private allKnown: boolean | undefined;

  /** The switch's document: its properties with the document's names. */
  toDocument(): Record<string, unknown> {
    this.document ??= documentOfProps(this.props, { omit: ["host"] });
    return this.document;
  }

  private document: Record<string, unknown> | undefined;
}
