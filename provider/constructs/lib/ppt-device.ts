/** PptDevice: a PCI function reserved for passthrough on a host (bhyve_ppt_device). */
import { Construct } from "constructs";
import { PptDevice as PptDeviceResource, type PptDeviceConfig } from "../gen/ppt-device/index.js";
import { documentLeaves, documentOfProps, l1Properties } from "../../resources/document-map.js";
import { PPT_DEVICE_SCHEMA } from "../../resources/ppt-device-schema.js";
import { formatBsf, parsePciAddress } from "../../../agent/model/pci-address.js";
import type { BhyveHost } from "./host.js";
import { concrete, idString } from "./tokens.js";

/** Props of a {@link PptDevice}. */
export interface PptDeviceProps {
  /** The host that reserves the device. */
  readonly host: BhyveHost;
  /** B/S/F in decimal (3/0/0) or pci0:B:S:F. */
  readonly device: string;
  /** Expected vendor id (0x10de or 4318): the reservation is refused when the hardware differs. @default no check */
  readonly vendorId?: string | number;
  /** Expected device id. @default no check */
  readonly deviceId?: string | number;
  /** "live" binds to ppt at once and at boot; "boot" at the next boot only. @default "boot" */
  readonly bind?: "live" | "boot";
}

/** Whether `v` is a PptDevice, by its brand (not instanceof: two copies of this module may be loaded). */
export function isPptDevice(v: unknown): v is PptDevice {
  return v !== null && typeof v === "object" && (v as { kind?: unknown }).kind === "ppt-device" && typeof (v as { device?: unknown }).device === "string";
}

/** A PCI function reserved for passthrough on a host. */
export class PptDevice extends Construct {
  readonly kind = "ppt-device";
  /** The L1 bhyve_ppt_device resource (undefined in push mode: the host's document holds the reservation). */
  readonly resource: PptDeviceResource | undefined;
  readonly host: BhyveHost;
  /** The device as given. */
  readonly device: string;
  /** B/S/F, or the device as given when it is not an address (validation reports it). */
  readonly bsf: string;

  constructor(scope: Construct, id: string, readonly props: PptDeviceProps) {
    super(scope, id);
    this.host = props.host;
    this.device = props.device;
    const a = concrete(props.device) ? parsePciAddress(props.device) : null;
    this.bsf = a?.ok ? formatBsf(a.address) : props.device;
    this.resource = props.host.push ? undefined : new PptDeviceResource(this, "device", {
      ...(l1Properties(PPT_DEVICE_SCHEMA, this.toDocument()) as Omit<PptDeviceConfig, "address" | "hostKey">),
      address: props.host.address,
      hostKey: props.host.hostKey,
      dependsOn: props.host.resource ? [props.host.resource] : [],
    });
    props.host.devices.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    this.allKnown ??= documentLeaves(this.toDocument()).every(concrete);
    return this.allKnown;
  }

  private allKnown: boolean | undefined;

  /** The reservation's document: its properties with the document's names, ids as 0x hex. */
  toDocument(): Record<string, unknown> {
    // The props are read-only: the document is made once (validation asks for it per check).
    this.document ??= documentOfProps(this.props, { omit: ["host"], value: (v, key) => (key === "vendorId" || key === "deviceId" ? idString(v as string | number) : v) });
    return this.document;
  }

  private document: Record<string, unknown> | undefined;
}
