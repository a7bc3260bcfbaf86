/**
 * The bhyve_guest schema: the guest's attributes with the agent document key each maps to and the
 * model's defaults (DEFAULTS). A new guest field is one attribute here (with `document`), besides
 * the model: the provider's plan, apply and read and the constructs' L1 properties follow it
 * through provider/resources/document-map.ts.
 */
import { formatBsf, parsePciAddress } from "../../agent/model/pci-address.js";
import { parseSize } from "../../agent/model/size.js";
import { DEFAULTS } from "../../agent/model/types.js";
import type { BlockDef } from "../plugin/schema.js";
import { CONNECTION_ATTRIBUTES } from "./common.js";

/** The same size in two spellings (32G, 32768M). */
function sameSize(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" && typeof a !== "number") return false;
  if (typeof b !== "string" && typeof b !== "number") return false;
  const x = parseSize(a);
  const y = parseSize(b);
  return x.ok && y.ok && x.bytes === y.bytes;
}

/** The same PCI function in two spellings (3/0/0, pci0:3:0:0). */
function sameDevice(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" || typeof b !== "string") return false;
  const x = parsePciAddress(a);
  const y = parsePciAddress(b);
  return x.ok && y.ok && formatBsf(x.address) === formatBsf(y.address);
}

/** The same MAC in either case. */
const sameMac = (a: unknown, b: unknown): boolean => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

/** bhyve_guest's attributes and blocks. */
export const GUEST_SCHEMA: BlockDef = {
  description: "A bhyve guest on a host, run by the host's agent under its own bhyve-monitor.",
  attributes: {
    id: { type: "string", computed: true, description: "ADDRESS/NAME." },
    ...CONNECTION_ATTRIBUTES,
    name: { type: "string", required: true, requiresReplace: true, document: true, description: "The VM name: 1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit. Changing it replaces the guest." },
    cpus: { type: "number", required: true, document: true, description: "Virtual CPUs." },
    memory: { type: "string", required: true, document: true, sameValue: sameSize, description: "Memory: bytes or a size with K/M/G/T (32G). At least 128M." },
    bootrom: { type: "string", optional: true, document: true, description: "UEFI firmware (e.g. /usr/local/share/uefi-firmware/BHYVE_UEFI.fd). Without it the guest boots with bhyveload from its first disk." },
    state: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.guest.state, description: "running or stopped. Default running. Reads stopped when the guest is not running (powered off, crashed)." },
    restart: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.guest.restart, description: "always (also after a crash, with backoff), on-reboot (only after a guest reboot) or never. Default on-reboot." },
    start_order: { type: "number", optional: true, computed: true, document: true, default: DEFAULTS.guest.start_order, description: "Lower starts first at boot. Default 0." },
    uefi_vars: { type: "bool", optional: true, computed: true, document: true, description: "Keep the guest's UEFI variables (boot entries) in its own copy of the firmware's BHYVE_UEFI_VARS.fd, made at its first start and kept until the guest is deleted (bhyve -l bootrom,CODE,VARS). Default: true for a UEFI guest; a guest without bootrom has none." },
    rtc: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.guest.rtc, description: "The guest's RTC: utc (default, bhyve -u) or localtime (what Windows expects unless told otherwise)." },
    ignore_unknown_msrs: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.guest.ignore_unknown_msrs, description: "bhyve -w: ignore accesses to MSRs bhyve does not emulate (GPU drivers probe some). Default false." },
    hostbridge: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.guest.hostbridge, description: "The host bridge at slot 0: standard (default) or amd (amd_hostbridge, which some AMD GPU drivers want)." },
    sockets: { type: "number", optional: true, document: true, description: "CPU topology: sockets (bhyve -c cpus=N,sockets=S,cores=C,threads=T). With cores and threads, their product must be cpus; absent ones count 1." },
    cores: { type: "number", optional: true, document: true, description: "CPU topology: cores per socket." },
    threads: { type: "number", optional: true, document: true, description: "CPU topology: threads per core." },
    uuid: { type: "string", optional: true, computed: true, document: true, description: "SMBIOS system UUID (bhyve -U). Given, or made by the agent at the first apply and kept for the guest's life." },
    console: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.guest.console, description: "A serial console on com1 through an nmdm pair (bhyve -l com1,/dev/nmdm-NAME.1A; bhyveload -c for a guest it loads): the guest's monitor logs it and lets an operator attach (bhyve-agent console, cdktf-bhyve console). Default true." },
    exit_on_pause: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.guest.exit_on_pause, description: "bhyve -P: a vCPU spinning on PAUSE exits to the host, which lets another vCPU run. Default true; vm-bhyve leaves it out for its UEFI guests, so an adopted one may say false." },
    adopt: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.guest.adopt, description: "Take over a running VM of this name that the agent did not create (started by vm-bhyve or by hand) without restarting it, when it runs exactly the command line this configuration renders to; a VM that runs anything else is refused (E_ADOPT_MISMATCH) and left alone. cdktf-bhyve adopt writes such configurations. No effect on a guest that is already the agent's. Default false." },
    command_line: { type: ["list", "string"], computed: true, description: "The bhyve command line this configuration renders to." },
    argv: { type: ["list", "string"], computed: true, description: "The bhyve command line running now (empty when the guest is not running)." },
    status: { type: "string", computed: true, description: "What the guest's monitor reports: running, starting, backoff, stopping, stopped, crashed; or drift the next apply heals: detached (a switch NIC off its bridge), vars-missing (its UEFI variables file gone), disk-drift (a disk the agent makes changed in a way no attribute shows, e.g. its volmode)." },
    restarts: { type: "number", computed: true, description: "Restarts since the guest's monitor started." },
  },
  blocks: {
    disk: {
      document: "disks",
      block: {
        description: "A disk.",
        attributes: {
          path: { type: "string", optional: true, computed: true, document: true, description: "Host path of a disk that exists (a zvol or an image file), used as it is. For a disk the agent makes (zvol or file), computed: /dev/zvol/DATASET or the file." },
          zvol: { type: "string", optional: true, document: true, description: "A ZFS volume the agent makes before the guest's first start (zfs create -p -s -V SIZE -o volmode=dev), e.g. zroot/vm/web1/disk0; must be under the host policy's zvol_parents. Marked with the user property bhyve-agent:guest; one that exists without that mark is refused." },
          file: { type: "string", optional: true, document: true, description: "A sparse image file the agent makes (under the policy's disk_prefixes)." },
          size: { type: "string", optional: true, document: true, sameValue: sameSize, description: "Size of a zvol or file (20G). Grow only: a larger size grows the disk, a smaller one is refused (E_SHRINK). For a zvol a multiple of volblocksize (16K by default). Reads the disk's size now, so a volume shrunk or missing shows as drift." },
          sparse: { type: "bool", optional: true, document: true, description: "zvol only: false reserves the whole size (refreservation); default true (zfs create -s)." },
          volblocksize: { type: "string", optional: true, document: true, sameValue: sameSize, description: "zvol only: block size, a power of two from 512 to 128K (fixed when the volume is made). Default 16K, given to zfs create as -b so that it does not follow the pool's layout (OpenZFS picks 32K on some raidz and dRAID pools)." },
          clone: { type: "string", optional: true, document: true, description: "zvol only: make the volume as a clone of this snapshot (zroot/images/freebsd-14.3@base), the golden-image way; size, when given, grows it after the clone." },
          on_delete: { type: "string", optional: true, document: true, description: "keep (default) or destroy: destroy the zvol or file when the guest is deleted, and only one the agent made for this guest." },
          type: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.disk.type, description: "virtio-blk (default), nvme, ahci-hd or ahci-cd." },
          slot: { type: "number", optional: true, document: true, description: "Guest PCI slot; allocated from 4 when absent." },
          function: { type: "number", optional: true, document: true, description: "PCI function within slot (0-7; needs slot). Default 0. A slot with a device at another function needs one at function 0." },
          bootindex: { type: "number", optional: true, document: true, description: "UEFI boot order (bootindex=N, lowest first); FreeBSD 14.0 and later, refused at apply on older hosts." },
        },
      },
    },
    nic: {
      document: "nics",
      block: {
        description: "A network interface: on a switch (the agent makes its tap) or on a host tap you manage.",
        attributes: {
          switch: { type: "string", optional: true, document: true, description: "The switch (bhyve_switch name) the NIC is on; the agent allocates, creates and attaches its tap." },
          tap: { type: "string", optional: true, computed: true, document: true, description: "Host tap interface: given for a NIC you manage (tap0); for a switch NIC, the one the agent allocated." },
          model: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.nic.model, description: "virtio-net (default) or e1000." },
          mac: { type: "string", optional: true, document: true, sameValue: sameMac, description: "Fixed MAC address." },
          slot: { type: "number", optional: true, document: true, description: "Guest PCI slot; allocated from 15 when absent." },
          function: { type: "number", optional: true, document: true, description: "PCI function within slot (0-7; needs slot), as vm-bhyve packs a guest's NICs into slot 15. Default 0." },
        },
      },
    },
    cpu_pin: {
      document: "cpu_pinning",
      block: {
        description: "A vCPU pinned to a host CPU (bhyve -p vcpu:hostcpu).",
        attributes: {
          vcpu: { type: "number", required: true, document: true, description: "The guest's vCPU (0 to cpus-1), each at most once." },
          host_cpu: { type: "number", required: true, document: true, description: "The host CPU it runs on (checked against the host's CPU count at apply)." },
        },
      },
    },
    cloud_init: {
      document: "cloud_init",
      single: true,
      block: {
        description: "First-boot configuration: a cloud-init NoCloud seed (user-data, meta-data, network-config on an ISO 9660 image labelled cidata, made with makefs) attached as a CD after the disks.",
        attributes: {
          user_data: { type: "string", required: true, document: true, description: "user-data: #cloud-config YAML (checked at plan) or a script. At most 64K." },
          meta_data: { type: "string", optional: true, document: true, description: "meta-data as a YAML mapping; the agent sets instance-id, and local-hostname (the guest's name) unless given." },
          network_config: { type: "string", optional: true, document: true, description: "network-config (YAML, version 1 or 2)." },
          instance_id: { type: "string", computed: true, description: "iid-NAME-HASH: follows the guest's name and the seed's content, so a changed seed is a new instance to cloud-init (its first-boot modules run again at the next boot)." },
        },
      },
    },
    framebuffer: {
      document: "framebuffer",
      single: true,
      block: {
        description: "A graphical console for a UEFI guest: bhyve's framebuffer (-s 29,fbuf) with a USB tablet (-s 30,xhci,tablet), served as VNC on the host (reach it with cdktf-bhyve vnc).",
        attributes: {
          width: { type: "number", optional: true, computed: true, document: true, default: DEFAULTS.framebuffer.width, description: "Pixels, 640-3840. Default 1024." },
          height: { type: "number", optional: true, computed: true, document: true, default: DEFAULTS.framebuffer.height, description: "Pixels, 480-2160. Default 768." },
          wait: { type: "bool", optional: true, computed: true, document: true, default: DEFAULTS.framebuffer.wait, description: "Hold the guest's boot until a VNC viewer connects. Default false." },
          listen: { type: "string", optional: true, computed: true, document: true, default: DEFAULTS.framebuffer.listen, description: "The numeric address the VNC server listens on. Default 127.0.0.1; an address off loopback must be allowed by the host policy's framebuffer_listen." },
          port: { type: "number", optional: true, computed: true, document: true, description: "The VNC port on the host. Given, or allocated by the agent from 5900 up at the first apply and kept for the guest." },
        },
      },
    },
    passthru: {
      document: "passthru",
      block: {
        description: "A reserved host PCI function handed to the guest.",
        attributes: {
          device: { type: "string", required: true, document: true, sameValue: sameDevice, description: "Host B/S/F (3/0/0), reserved with a bhyve_ppt_device." },
          slot: { type: "number", required: true, document: true, description: "Guest PCI slot (1-30)." },
          function: { type: "number", optional: true, computed: true, document: true, description: "Guest PCI function (0-7); defaults to the host function." },
          rom: { type: "string", optional: true, document: true, description: "Option ROM file (a GPU VBIOS dump)." },
          bootindex: { type: "number", optional: true, document: true, description: "UEFI boot order for a passed-through boot device (bootindex=N); FreeBSD 14.0 and later." },
        },
      },
    },
  },
};
