/**
 * The bhyve_switch schema: a switch's attributes with the agent document key each maps to, read by
 * provider/resources/document-map.ts.
 */
import type { BlockDef } from "../plugin/schema.js";
import { CONNECTION_ATTRIBUTES } from "./common.js";

/** bhyve_switch's attributes. */
export const SWITCH_SCHEMA: BlockDef = {
  description: "A virtual switch on a host: an if_bridge the agent creates and owns, with an optional uplink (a NIC, or a VLAN on it) as a member.",
  attributes: {
    id: { type: "string", computed: true, description: "ADDRESS/NAME." },
    ...CONNECTION_ATTRIBUTES,
    name: { type: "string", required: true, requiresReplace: true, document: true, description: "Switch name (guest-name rules). Changing it replaces the switch." },
    uplink: { type: "string", optional: true, document: true, description: "Host interface the switch reaches the network through (igb1); none: a host-only switch." },
    vlan: { type: "number", optional: true, document: true, description: "802.1Q tag (1-4094) on the uplink: the switch carries that VLAN (a vlan(4) interface NIC.TAG is its member)." },
    mtu: { type: "number", optional: true, document: true, description: "MTU of the bridge and of the guests' taps on it." },
    bridge: { type: "string", computed: true, description: "The bridge the agent made for the switch (bridge0)." },
    present: { type: "bool", computed: true, description: "The bridge is there and described as the agent's (false after someone destroyed it: apply makes it again)." },
    uplink_attached: { type: "bool", computed: true, description: "The uplink (or its VLAN interface) is a member of the bridge." },
  },
};
