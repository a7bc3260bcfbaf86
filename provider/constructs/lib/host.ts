/**
 * BhyveHost: a bhyve host's settings, and the reservations and guests declared on it. At synth
 * time the whole of a host's desired state is checked with the agent's own model (the same rules
 * the agent and the provider apply), and every problem is reported against the construct and field
 * at fault.
 */
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Host } from "../gen/host/index.js";
import { checkDocumentData, type CheckResult } from "../../../agent/model/validate.js";
import { pathText, type Problem } from "../../../agent/model/problems.js";
import { attachReport } from "./report.js";
import { attachDocuments } from "./documents.js";
import { pushModeOf, registerHost } from "./mode.js";
import { pushResource } from "./push.js";
import { PptDevice, type PptDeviceProps } from "./ppt-device.js";
import type { Guest } from "./guest.js";
import { Switch, type SwitchProps } from "./switch.js";
import { concrete } from "./tokens.js";
import type { Resource as NullResource } from "@cdktf/provider-null/lib/resource/index.js";

/** Props of a {@link BhyveHost}. */
export interface BhyveHostProps {
  /** SSH address: host or host:port (port 22 by default). */
  readonly address: string;
  /** The host's SSH key fingerprint, `SHA256:...` (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). */
  readonly hostKey: string;
  /** Load vmm.ko from loader.conf. @default true */
  readonly vmmLoad?: boolean;
  /** hw.vmm.amdvi.enable: "auto" turns it on for AMD hosts. @default "auto" */
  readonly amdviEnable?: "auto" | boolean;
}

/** A bhyve host: its settings, and the reservations and guests declared on it. */
export class BhyveHost extends Construct {
  /** The L1 bhyve_host resource (undefined in push mode). */
  readonly resource: Host | undefined;
  /** In push mode, the null_resource that pushes this host's document (undefined otherwise). */
  readonly pushResource: NullResource | undefined;
  /** Marks hosts across copies of this module (the bundled and the source one). */
  readonly isBhyveHost = true;
  /** Whether the stack is in push mode. */
  readonly push: boolean;
  readonly address: string;
  readonly hostKey: string;
  /** Reservations declared on this host, in order. */
  readonly devices: PptDevice[] = [];
  /** Switches declared on this host, in order. */
  readonly switches: Switch[] = [];
  /** Guests declared on this host, in order. */
  readonly guests: Guest[] = [];
  private checked: { readonly items: number; readonly result: CheckResult } | null = null;

  constructor(scope: Construct, id: string, readonly props: BhyveHostProps) {
    super(scope, id);
    this.address = props.address;
    this.hostKey = props.hostKey;
    const stack = TerraformStack.of(this);
    registerHost(stack);
    const mode = pushModeOf(stack);
    this.push = mode !== undefined;
    this.resource = mode ? undefined : new Host(this, "host", {
      address: props.address,
      hostKey: props.hostKey,
      ...(props.vmmLoad !== undefined ? { vmmLoad: props.vmmLoad } : {}),
      ...(props.amdviEnable !== undefined ? { amdviEnable: String(props.amdviEnable) } : {}),
    });
    this.pushResource = mode ? pushResource(this, mode) : undefined;
    this.node.addValidation({ validate: () => this.problemsFor("host") });
    attachReport(this);
    attachDocuments(this);
  }

  /** Reserves a device on this host (a PptDevice in this host's scope). */
  reservePpt(id: string, props: Omit<PptDeviceProps, "host">): PptDevice {
    return new PptDevice(this, id, { ...props, host: this });
  }

  /** Adds a switch to this host (a Switch in this host's scope); guest NICs take it as `{ switch: lan }`. */
  addSwitch(name: string, props: Omit<SwitchProps, "host" | "name"> = {}): Switch {
    return new Switch(this, `switch-${name}`, { ...props, name, host: this });
  }

  /**
   * The agent's desired-state document for this host (the same shape `bhyve-agent apply` takes).
   * Values that are tokens (known only at apply) are left out, and so are the items holding them.
   */
  toDocument(): { host: Record<string, unknown>; ppt: Array<Record<string, unknown>>; switches?: Array<Record<string, unknown>>; guests: Array<Record<string, unknown>> } {
    const host: Record<string, unknown> = {};
    if (this.props.vmmLoad !== undefined) host.vmm_load = this.props.vmmLoad;
    if (this.props.amdviEnable !== undefined) host.amdvi_enable = this.props.amdviEnable;
    return {
      host,
      ppt: this.devices.filter((d) => d.concrete).map((d) => d.toDocument()),
      // Only with switches, so that the documents of hosts without any stay as they were.
      ...(this.switches.length ? { switches: this.switches.filter((w) => w.concrete).map((w) => w.toDocument()) } : {}),
      guests: this.guests.filter((g) => g.concrete).map((g) => g.toDocument()),
    };
  }

  /**
   * The spec check of this host's whole document, shared by the validations, the passthru report,
   * the documents and push mode. Props are read-only, so the result holds until another
   * reservation or guest is declared on the host.
   */
  check(): CheckResult {
    const items = this.devices.length + this.switches.length + this.guests.length;
    if (this.checked?.items !== items) this.checked = { items, result: checkDocumentData(this.toDocument()) };
    return this.checked.result;
  }

  /** Problems of the whole host, handed out to the construct at fault. */
  problemsFor(who: "host" | PptDevice | Switch | Guest): string[] {
    const r = this.check();
    const problems: readonly Problem[] = r.ok ? [] : r.problems;
    const devices = this.devices.filter((d) => d.concrete);
    const guests = this.guests.filter((g) => g.concrete);
    const switches = this.switches.filter((w) => w.concrete);
    const out: string[] = [];
    for (const p of problems) {
      // The problem's path as segments: ["guests", 1, "passthru", 0, "slot"] belongs to the second guest.
      const at = p.at;
      const item = at && typeof at[1] === "number" && (at[0] === "ppt" || at[0] === "guests" || at[0] === "switches") ? { kind: at[0], index: at[1] } : null;
      const owner = item ? (item.kind === "ppt" ? devices[item.index] : item.kind === "switches" ? switches[item.index] : guests[item.index]) : undefined;
      const field = item ? pathText(at!.slice(2)) : p.path;
      if ((owner ?? "host") === who) out.push(`${field ? `${field}: ` : ""}${p.message}`);
    }
    if (who !== "host" && who.kind === "guest") out.push(...who.crossHostProblems());
    if (this.push) out.push(...this.pushProblems(who));
    return out;
  }

  /** Push mode sends a whole document at synth: every value must be known then. */
  private pushProblems(who: "host" | PptDevice | Switch | Guest): string[] {
    const why = "is known only at apply; push mode writes the whole document at synth, so every value must be known then (or use BhyveProvider)";
    if (who === "host") return (["address", "hostKey"] as const).filter((k) => !concrete(this.props[k])).map((k) => `${k}: ${why}`);
    return who.concrete ? [] : [`a value ${why}`];
  }
}
