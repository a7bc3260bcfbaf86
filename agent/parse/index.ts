/** Pure parsers for the output of FreeBSD tools and host files: text in, typed result out, no I/O. */
export * from "./pciconf.js";
export * from "./sysctl.js";
export * from "./acpidump.js";
export * from "./dmesg-boot.js";
export * from "./loader-conf.js";
export * from "./cpuid.js";
export * from "./monitor-files.js";
