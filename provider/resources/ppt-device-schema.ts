/**
 * The bhyve_ppt_device schema: the reservation's attributes with the agent document key each maps
 * to and the model's default (DEFAULTS), read by provider/resources/document-map.ts.
 */
import { formatBsf, parsePciAddress } from "../../agent/model/pci-address.js";
import { DEFAULTS } from "../../agent/model/types.js";
import type { BlockDef } from "../plugin/schema.js";
import { CONNECTION_ATTRIBUTES } from "./common.js";

/** Canonical B/S/F of a device attribute, or null when it is not one. */
export function canonical(device: string): string | null {
  const r = parsePciAddress(device);
  return r.ok ? formatBsf(r.address) : null;
}

/** bhyve_ppt_device's attributes. */
export const PPT_DEVICE_SCHEMA: BlockDef = {
  description: "A PCI function reserved for passthrough on a host: listed in pptdevs, and with bind = live also bound to ppt at once.",
  attributes: {
    id: { type: "string", computed: true, description: "ADDRESS/B/S/F." },
    ...CONNECTION_ATTRIBUTES,
    device: { type: "string", required: true, requiresReplace: true, document: true, sameValue: (a, b) => typeof a !== "string" || typeof b !== "string" || canonical(a) === canonical(b), description: "B/S/F in decimal (3/0/0) or pci0:B:S:F. Changing it replaces the resource." },
    vendor_id: { type: "string", optional: true, document: true, description: "Expected PCI vendor id (0x10de): the reservation is refused when the hardware differs." },
    device_id: { type: "string", optional: true, document: true, description: "Expected PCI device id (0x1eb8)." },
    bind: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.ppt.bind, description: "live: bind to ppt now (devctl) and at boot; boot: at the next boot only (the host reports reboot_required). Default boot. Reads \"none\" when loader.conf no longer lists the device." },
    driver: { type: "string", computed: true, description: "The driver that has the device now (ppt0, vgapci0, ...)." },
    bound: { type: "bool", computed: true, description: "Bound to ppt now." },
    description: { type: "string", computed: true, description: "The device's name from the PCI database." },
  },
};

