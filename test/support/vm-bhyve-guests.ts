/**
 * vm-bhyve guests the adoption tests start by hand on a sandbox host (NAME.conf as vm-bhyve reads it):
 * a UEFI guest with two NICs on switch "public" (vm-bhyve packs them as 15:0 and 15:1), a guest it loads with bhyveload, a GPU passthrough guest (3/0/0 and
 * 3/0/1, reserved by a pptdevs line written by hand), and one with a device the model lacks.
 */
export const VM_BHYVE_GUESTS: Readonly<Record<string, string>> = {
  web: 'loader="uefi"\ncpu=2\nmemory=1G\ndisk0_type="virtio-blk"\ndisk0_dev="custom"\ndisk0_name="/dev/zvol/zroot/vm/disk1"\nnetwork0_type="virtio-net"\nnetwork0_switch="public"\nnetwork1_type="virtio-net"\nnetwork1_switch="public"\n',
  fbsd: 'loader="bhyveload"\ncpu=1\nmemory=512M\ndisk0_type="virtio-blk"\ndisk0_dev="custom"\ndisk0_name="/dev/zvol/zroot/vm/disk2"\n',
  gpu: 'loader="uefi"\ncpu=4\nmemory=2G\ndisk0_type="nvme"\ndisk0_dev="custom"\ndisk0_name="/dev/zvol/zroot/vm/disk3"\npassthru0="3/0/0"\npassthru1="3/0/1"\n',
  rnd: 'loader="uefi"\ncpu=1\nmemory=512M\ndisk0_type="virtio-blk"\ndisk0_dev="custom"\ndisk0_name="/dev/zvol/zroot/vm/disk0"\nvirt_random="yes"\n',
};
