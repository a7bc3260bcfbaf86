/** The desired-state model shared by the agent and the provider: pure code, no I/O. */
export * from "./types.js";
export * from "./problems.js";
export * from "./pci-address.js";
export * from "./size.js";
export { decodeDocument, GUEST_NAME, IFNAME, FIRST_DEVICE_SLOT, LAST_DEVICE_SLOT, type Draft, type DraftState } from "./decode.js";
export { layoutGuest, DISK_SLOT_START, NIC_SLOT_START, type SlotEntry } from "./layout.js";
export * from "./render.js";
export { checkDocumentData, checkWholeDocument, type CheckResult } from "./validate.js";
export * from "./limits.js";
export * from "./document.js";
