/** PptDevice: a PCI function reserved for passthrough on a host (bhyve_ppt_device). */
import { Construct } from "constructs";
import { PptDevice as PptDeviceResource } from "../gen/ppt-device/index.js";
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
    const vendorId = idString(props.vendorId);
    const deviceId = idString(props.deviceId);
    this.resource = props.host.push ? undefined : new PptDeviceResource(this, "device", {
      address: props.host.address,
      hostKey: props.host.hostKey,
      device: props.device,
      ...(vendorId !== undefined ? { vendorId } : {}),
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(props.bind !== undefined ? { bind: props.bind } : {}),
      dependsOn: props.host.resource ? [props.host.resource] : [],
    });
    props.host.devices.push(this);
    this.node.addValidation({ validate: () => this.host.problemsFor(this) });
  }

  /** No tokens among the values the spec model checks. */
  get concrete(): boolean {
    return [this.props.device, this.props.vendorId, this.props.deviceId].every(concrete);
  }

  toDocument(): Record<string, unknown> {
    const doc: Record<string, unknown> = { device: this.props.device };
    if (this.props.vendorId !== undefined) doc.vendor_id = idString(this.props.vendorId);
    if (this.props.deviceId !== undefined) doc.device_id = idString(this.props.deviceId);
    if (this.props.bind !== undefined) doc.bind = this.props.bind;
    return doc;
  }
}
