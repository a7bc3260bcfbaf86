/** cdktf-bhyve: CDKTF constructs for FreeBSD bhyve hosts with PCI passthrough. */
export { BhyveProvider, type BhyveProviderProps } from "./lib/provider.js";
export { BhyveHost, type BhyveHostProps } from "./lib/host.js";
export { PptDevice, type PptDeviceProps } from "./lib/ppt-device.js";
export { Switch, type SwitchProps } from "./lib/switch.js";
export { Guest, type GuestProps, type GuestDisk, type GuestNic, type GuestPassthru } from "./lib/guest.js";
export { BhyvePush, pushArgv, type BhyvePushProps } from "./lib/push.js";
export { DOCUMENTS_DIR, MANIFEST_FILE, type Manifest, type ManifestHost } from "./lib/documents.js";
export { passthruReport } from "./lib/report.js";
export * as l1 from "./gen/index.js";
