/** cdktf-bhyve: CDKTF constructs for FreeBSD bhyve hosts with PCI passthrough. */
export { BhyveProvider, type BhyveProviderProps } from "./lib/provider.js";
export { BhyveHost, PptDevice, Guest, type BhyveHostProps, type PptDeviceProps, type GuestProps, type GuestDisk, type GuestNic, type GuestPassthru } from "./lib/host.js";
export { BhyvePush, pushArgv, type BhyvePushProps } from "./lib/push.js";
export { DOCUMENTS_DIR, MANIFEST_FILE, type Manifest, type ManifestHost } from "./lib/documents.js";
export { passthruReport } from "./lib/report.js";
export * as l1 from "./gen/index.js";
