// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface GuestConfig extends cdktf.TerraformMetaArguments {
  /**
  * The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#address Guest#address}
  */
  readonly address: string;
  /**
  * Take over a running VM of this name that the agent did not create (started by vm-bhyve or by hand) without restarting it, when it runs exactly the command line this configuration renders to; a VM that runs anything else is refused (E_ADOPT_MISMATCH) and left alone. cdktf-bhyve adopt writes such configurations. No effect on a guest that is already the agent's. Default false.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#adopt Guest#adopt}
  */
  readonly adopt?: boolean | cdktf.IResolvable;
  /**
  * UEFI firmware (e.g. /usr/local/share/uefi-firmware/BHYVE_UEFI.fd). Without it the guest boots with bhyveload from its first disk.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#bootrom Guest#bootrom}
  */
  readonly bootrom?: string;
  /**
  * A serial console on com1 through an nmdm pair (bhyve -l com1,/dev/nmdm-NAME.1A; bhyveload -c for a guest it loads): the guest's monitor logs it and lets an operator attach (bhyve-agent console, cdktf-bhyve console). Default true.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#console Guest#console}
  */
  readonly console?: boolean | cdktf.IResolvable;
  /**
  * CPU topology: cores per socket.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#cores Guest#cores}
  */
  readonly cores?: number;
  /**
  * Virtual CPUs.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#cpus Guest#cpus}
  */
  readonly cpus: number;
  /**
  * bhyve -P: a vCPU spinning on PAUSE exits to the host, which lets another vCPU run. Default true; vm-bhyve leaves it out for its UEFI guests, so an adopted one may say false.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#exit_on_pause Guest#exit_on_pause}
  */
  readonly exitOnPause?: boolean | cdktf.IResolvable;
  /**
  * The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#host_key Guest#host_key}
  */
  readonly hostKey: string;
  /**
  * The host bridge at slot 0: standard (default) or amd (amd_hostbridge, which some AMD GPU drivers want).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#hostbridge Guest#hostbridge}
  */
  readonly hostbridge?: string;
  /**
  * bhyve -w: ignore accesses to MSRs bhyve does not emulate (GPU drivers probe some). Default false.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#ignore_unknown_msrs Guest#ignore_unknown_msrs}
  */
  readonly ignoreUnknownMsrs?: boolean | cdktf.IResolvable;
  /**
  * Memory: bytes or a size with K/M/G/T (32G). At least 128M.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#memory Guest#memory}
  */
  readonly memory: string;
  /**
  * The VM name: 1-31 of A-Z a-z 0-9 _ . -, starting with a letter or digit. Changing it replaces the guest.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#name Guest#name}
  */
  readonly name: string;
  /**
  * always (also after a crash, with backoff), on-reboot (only after a guest reboot) or never. Default on-reboot.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#restart Guest#restart}
  */
  readonly restart?: string;
  /**
  * The guest's RTC: utc (default, bhyve -u) or localtime (what Windows expects unless told otherwise).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#rtc Guest#rtc}
  */
  readonly rtc?: string;
  /**
  * CPU topology: sockets (bhyve -c cpus=N,sockets=S,cores=C,threads=T). With cores and threads, their product must be cpus; absent ones count 1.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#sockets Guest#sockets}
  */
  readonly sockets?: number;
  /**
  * Lower starts first at boot. Default 0.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#start_order Guest#start_order}
  */
  readonly startOrder?: number;
  /**
  * running or stopped. Default running. Reads stopped when the guest is not running (powered off, crashed).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#state Guest#state}
  */
  readonly state?: string;
  /**
  * CPU topology: threads per core.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#threads Guest#threads}
  */
  readonly threads?: number;
  /**
  * Keep the guest's UEFI variables (boot entries) in its own copy of the firmware's BHYVE_UEFI_VARS.fd, made at its first start and kept until the guest is deleted (bhyve -l bootrom,CODE,VARS). Default: true for a UEFI guest; a guest without bootrom has none.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#uefi_vars Guest#uefi_vars}
  */
  readonly uefiVars?: boolean | cdktf.IResolvable;
  /**
  * SMBIOS system UUID (bhyve -U). Given, or made by the agent at the first apply and kept for the guest's life.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#uuid Guest#uuid}
  */
  readonly uuid?: string;
  /**
  * cloud_init block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#cloud_init Guest#cloud_init}
  */
  readonly cloudInit?: GuestCloudInit;
  /**
  * cpu_pin block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#cpu_pin Guest#cpu_pin}
  */
  readonly cpuPin?: GuestCpuPin[] | cdktf.IResolvable;
  /**
  * disk block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#disk Guest#disk}
  */
  readonly disk?: GuestDisk[] | cdktf.IResolvable;
  /**
  * framebuffer block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#framebuffer Guest#framebuffer}
  */
  readonly framebuffer?: GuestFramebuffer;
  /**
  * nic block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#nic Guest#nic}
  */
  readonly nic?: GuestNic[] | cdktf.IResolvable;
  /**
  * passthru block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#passthru Guest#passthru}
  */
  readonly passthru?: GuestPassthru[] | cdktf.IResolvable;
}
export interface GuestCloudInit {
  /**
  * meta-data as a YAML mapping; the agent sets instance-id, and local-hostname (the guest's name) unless given.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#meta_data Guest#meta_data}
  */
  readonly metaData?: string;
  /**
  * network-config (YAML, version 1 or 2).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#network_config Guest#network_config}
  */
  readonly networkConfig?: string;
  /**
  * user-data: #cloud-config YAML (checked at plan) or a script. At most 64K.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#user_data Guest#user_data}
  */
  readonly userData: string;
}

export function guestCloudInitToTerraform(struct?: GuestCloudInitOutputReference | GuestCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    meta_data: cdktf.stringToTerraform(struct!.metaData),
    network_config: cdktf.stringToTerraform(struct!.networkConfig),
    user_data: cdktf.stringToTerraform(struct!.userData),
  }
}


export function guestCloudInitToHclTerraform(struct?: GuestCloudInitOutputReference | GuestCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    meta_data: {
      value: cdktf.stringToHclTerraform(struct!.metaData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    network_config: {
      value: cdktf.stringToHclTerraform(struct!.networkConfig),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data: {
      value: cdktf.stringToHclTerraform(struct!.userData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestCloudInitOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): GuestCloudInit | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._metaData !== undefined) {
      hasAnyValues = true;
      internalValueResult.metaData = this._metaData;
    }
    if (this._networkConfig !== undefined) {
      hasAnyValues = true;
      internalValueResult.networkConfig = this._networkConfig;
    }
    if (this._userData !== undefined) {
      hasAnyValues = true;
      internalValueResult.userData = this._userData;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestCloudInit | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._metaData = undefined;
      this._networkConfig = undefined;
      this._userData = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._metaData = value.metaData;
      this._networkConfig = value.networkConfig;
      this._userData = value.userData;
    }
  }

  // instance_id - computed: true, optional: false, required: false
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }

  // meta_data - computed: false, optional: true, required: false
  private _metaData?: string; 
  public get metaData() {
    return this.getStringAttribute('meta_data');
  }
  public set metaData(value: string) {
    this._metaData = value;
  }
  public resetMetaData() {
    this._metaData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get metaDataInput() {
    return this._metaData;
  }

  // network_config - computed: false, optional: true, required: false
  private _networkConfig?: string; 
  public get networkConfig() {
    return this.getStringAttribute('network_config');
  }
  public set networkConfig(value: string) {
    this._networkConfig = value;
  }
  public resetNetworkConfig() {
    this._networkConfig = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get networkConfigInput() {
    return this._networkConfig;
  }

  // user_data - computed: false, optional: false, required: true
  private _userData?: string; 
  public get userData() {
    return this.getStringAttribute('user_data');
  }
  public set userData(value: string) {
    this._userData = value;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataInput() {
    return this._userData;
  }
}
export interface GuestCpuPin {
  /**
  * The host CPU it runs on (checked against the host's CPU count at apply).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#host_cpu Guest#host_cpu}
  */
  readonly hostCpu: number;
  /**
  * The guest's vCPU (0 to cpus-1), each at most once.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#vcpu Guest#vcpu}
  */
  readonly vcpu: number;
}

export function guestCpuPinToTerraform(struct?: GuestCpuPin | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    host_cpu: cdktf.numberToTerraform(struct!.hostCpu),
    vcpu: cdktf.numberToTerraform(struct!.vcpu),
  }
}


export function guestCpuPinToHclTerraform(struct?: GuestCpuPin | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    host_cpu: {
      value: cdktf.numberToHclTerraform(struct!.hostCpu),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    vcpu: {
      value: cdktf.numberToHclTerraform(struct!.vcpu),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestCpuPinOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): GuestCpuPin | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._hostCpu !== undefined) {
      hasAnyValues = true;
      internalValueResult.hostCpu = this._hostCpu;
    }
    if (this._vcpu !== undefined) {
      hasAnyValues = true;
      internalValueResult.vcpu = this._vcpu;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestCpuPin | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._hostCpu = undefined;
      this._vcpu = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._hostCpu = value.hostCpu;
      this._vcpu = value.vcpu;
    }
  }

  // host_cpu - computed: false, optional: false, required: true
  private _hostCpu?: number; 
  public get hostCpu() {
    return this.getNumberAttribute('host_cpu');
  }
  public set hostCpu(value: number) {
    this._hostCpu = value;
  }
  // Temporarily expose input value. Use with caution.
  public get hostCpuInput() {
    return this._hostCpu;
  }

  // vcpu - computed: false, optional: false, required: true
  private _vcpu?: number; 
  public get vcpu() {
    return this.getNumberAttribute('vcpu');
  }
  public set vcpu(value: number) {
    this._vcpu = value;
  }
  // Temporarily expose input value. Use with caution.
  public get vcpuInput() {
    return this._vcpu;
  }
}

export class GuestCpuPinList extends cdktf.ComplexList {
  public internalValue? : GuestCpuPin[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): GuestCpuPinOutputReference {
    return new GuestCpuPinOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}
export interface GuestDisk {
  /**
  * UEFI boot order (bootindex=N, lowest first); FreeBSD 14.0 and later, refused at apply on older hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#bootindex Guest#bootindex}
  */
  readonly bootindex?: number;
  /**
  * zvol only: make the volume as a clone of this snapshot (zroot/images/freebsd-14.3@base), the golden-image way; size, when given, grows it after the clone.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#clone Guest#clone}
  */
  readonly clone?: string;
  /**
  * A sparse image file the agent makes (under the policy's disk_prefixes).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#file Guest#file}
  */
  readonly file?: string;
  /**
  * PCI function within slot (0-7; needs slot). Default 0. A slot with a device at another function needs one at function 0.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#function Guest#function}
  */
  readonly function?: number;
  /**
  * keep (default) or destroy: destroy the zvol or file when the guest is deleted, and only one the agent made for this guest.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#on_delete Guest#on_delete}
  */
  readonly onDelete?: string;
  /**
  * Host path of a disk that exists (a zvol or an image file), used as it is. For a disk the agent makes (zvol or file), computed: /dev/zvol/DATASET or the file.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#path Guest#path}
  */
  readonly path?: string;
  /**
  * Size of a zvol or file (20G). Grow only: a larger size grows the disk, a smaller one is refused (E_SHRINK). For a zvol a multiple of volblocksize (16K by default). Reads the disk's size now, so a volume shrunk or missing shows as drift.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#size Guest#size}
  */
  readonly size?: string;
  /**
  * Guest PCI slot; allocated from 4 when absent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#slot Guest#slot}
  */
  readonly slot?: number;
  /**
  * zvol only: false reserves the whole size (refreservation); default true (zfs create -s).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#sparse Guest#sparse}
  */
  readonly sparse?: boolean | cdktf.IResolvable;
  /**
  * virtio-blk (default), nvme, ahci-hd or ahci-cd.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#type Guest#type}
  */
  readonly type?: string;
  /**
  * zvol only: block size, a power of two from 512 to 128K (fixed when the volume is made). Default 16K, given to zfs create as -b so that it does not follow the pool's layout (OpenZFS picks 32K on some raidz and dRAID pools).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#volblocksize Guest#volblocksize}
  */
  readonly volblocksize?: string;
  /**
  * A ZFS volume the agent makes before the guest's first start (zfs create -p -s -V SIZE -o volmode=dev), e.g. zroot/vm/web1/disk0; must be under the host policy's zvol_parents. Marked with the user property bhyve-agent:guest; one that exists without that mark is refused.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#zvol Guest#zvol}
  */
  readonly zvol?: string;
}

export function guestDiskToTerraform(struct?: GuestDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    bootindex: cdktf.numberToTerraform(struct!.bootindex),
    clone: cdktf.stringToTerraform(struct!.clone),
    file: cdktf.stringToTerraform(struct!.file),
    function: cdktf.numberToTerraform(struct!.function),
    on_delete: cdktf.stringToTerraform(struct!.onDelete),
    path: cdktf.stringToTerraform(struct!.path),
    size: cdktf.stringToTerraform(struct!.size),
    slot: cdktf.numberToTerraform(struct!.slot),
    sparse: cdktf.booleanToTerraform(struct!.sparse),
    type: cdktf.stringToTerraform(struct!.type),
    volblocksize: cdktf.stringToTerraform(struct!.volblocksize),
    zvol: cdktf.stringToTerraform(struct!.zvol),
  }
}


export function guestDiskToHclTerraform(struct?: GuestDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    bootindex: {
      value: cdktf.numberToHclTerraform(struct!.bootindex),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    clone: {
      value: cdktf.stringToHclTerraform(struct!.clone),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    file: {
      value: cdktf.stringToHclTerraform(struct!.file),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    function: {
      value: cdktf.numberToHclTerraform(struct!.function),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    on_delete: {
      value: cdktf.stringToHclTerraform(struct!.onDelete),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    path: {
      value: cdktf.stringToHclTerraform(struct!.path),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    size: {
      value: cdktf.stringToHclTerraform(struct!.size),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    slot: {
      value: cdktf.numberToHclTerraform(struct!.slot),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    sparse: {
      value: cdktf.booleanToHclTerraform(struct!.sparse),
      isBlock: false,
      type: "simple",
      storageClassType: "boolean",
    },
    type: {
      value: cdktf.stringToHclTerraform(struct!.type),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    volblocksize: {
      value: cdktf.stringToHclTerraform(struct!.volblocksize),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    zvol: {
      value: cdktf.stringToHclTerraform(struct!.zvol),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestDiskOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): GuestDisk | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._bootindex !== undefined) {
      hasAnyValues = true;
      internalValueResult.bootindex = this._bootindex;
    }
    if (this._clone !== undefined) {
      hasAnyValues = true;
      internalValueResult.clone = this._clone;
    }
    if (this._file !== undefined) {
      hasAnyValues = true;
      internalValueResult.file = this._file;
    }
    if (this._function !== undefined) {
      hasAnyValues = true;
      internalValueResult.function = this._function;
    }
    if (this._onDelete !== undefined) {
      hasAnyValues = true;
      internalValueResult.onDelete = this._onDelete;
    }
    if (this._path !== undefined) {
      hasAnyValues = true;
      internalValueResult.path = this._path;
    }
    if (this._size !== undefined) {
      hasAnyValues = true;
      internalValueResult.size = this._size;
    }
    if (this._slot !== undefined) {
      hasAnyValues = true;
      internalValueResult.slot = this._slot;
    }
    if (this._sparse !== undefined) {
      hasAnyValues = true;
      internalValueResult.sparse = this._sparse;
    }
    if (this._type !== undefined) {
      hasAnyValues = true;
      internalValueResult.type = this._type;
    }
    if (this._volblocksize !== undefined) {
      hasAnyValues = true;
      internalValueResult.volblocksize = this._volblocksize;
    }
    if (this._zvol !== undefined) {
      hasAnyValues = true;
      internalValueResult.zvol = this._zvol;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestDisk | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._bootindex = undefined;
      this._clone = undefined;
      this._file = undefined;
      this._function = undefined;
      this._onDelete = undefined;
      this._path = undefined;
      this._size = undefined;
      this._slot = undefined;
      this._sparse = undefined;
      this._type = undefined;
      this._volblocksize = undefined;
      this._zvol = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._bootindex = value.bootindex;
      this._clone = value.clone;
      this._file = value.file;
      this._function = value.function;
      this._onDelete = value.onDelete;
      this._path = value.path;
      this._size = value.size;
      this._slot = value.slot;
      this._sparse = value.sparse;
      this._type = value.type;
      this._volblocksize = value.volblocksize;
      this._zvol = value.zvol;
    }
  }

  // bootindex - computed: false, optional: true, required: false
  private _bootindex?: number; 
  public get bootindex() {
    return this.getNumberAttribute('bootindex');
  }
  public set bootindex(value: number) {
    this._bootindex = value;
  }
  public resetBootindex() {
    this._bootindex = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get bootindexInput() {
    return this._bootindex;
  }

  // clone - computed: false, optional: true, required: false
  private _clone?: string; 
  public get clone() {
    return this.getStringAttribute('clone');
  }
  public set clone(value: string) {
    this._clone = value;
  }
  public resetClone() {
    this._clone = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cloneInput() {
    return this._clone;
  }

  // file - computed: false, optional: true, required: false
  private _file?: string; 
  public get file() {
    return this.getStringAttribute('file');
  }
  public set file(value: string) {
    this._file = value;
  }
  public resetFile() {
    this._file = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get fileInput() {
    return this._file;
  }

  // function - computed: false, optional: true, required: false
  private _function?: number; 
  public get function() {
    return this.getNumberAttribute('function');
  }
  public set function(value: number) {
    this._function = value;
  }
  public resetFunction() {
    this._function = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get functionInput() {
    return this._function;
  }

  // on_delete - computed: false, optional: true, required: false
  private _onDelete?: string; 
  public get onDelete() {
    return this.getStringAttribute('on_delete');
  }
  public set onDelete(value: string) {
    this._onDelete = value;
  }
  public resetOnDelete() {
    this._onDelete = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get onDeleteInput() {
    return this._onDelete;
  }

  // path - computed: true, optional: true, required: false
  private _path?: string; 
  public get path() {
    return this.getStringAttribute('path');
  }
  public set path(value: string) {
    this._path = value;
  }
  public resetPath() {
    this._path = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get pathInput() {
    return this._path;
  }

  // size - computed: false, optional: true, required: false
  private _size?: string; 
  public get size() {
    return this.getStringAttribute('size');
  }
  public set size(value: string) {
    this._size = value;
  }
  public resetSize() {
    this._size = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sizeInput() {
    return this._size;
  }

  // slot - computed: false, optional: true, required: false
  private _slot?: number; 
  public get slot() {
    return this.getNumberAttribute('slot');
  }
  public set slot(value: number) {
    this._slot = value;
  }
  public resetSlot() {
    this._slot = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get slotInput() {
    return this._slot;
  }

  // sparse - computed: false, optional: true, required: false
  private _sparse?: boolean | cdktf.IResolvable; 
  public get sparse() {
    return this.getBooleanAttribute('sparse');
  }
  public set sparse(value: boolean | cdktf.IResolvable) {
    this._sparse = value;
  }
  public resetSparse() {
    this._sparse = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sparseInput() {
    return this._sparse;
  }

  // type - computed: true, optional: true, required: false
  private _type?: string; 
  public get type() {
    return this.getStringAttribute('type');
  }
  public set type(value: string) {
    this._type = value;
  }
  public resetType() {
    this._type = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get typeInput() {
    return this._type;
  }

  // volblocksize - computed: false, optional: true, required: false
  private _volblocksize?: string; 
  public get volblocksize() {
    return this.getStringAttribute('volblocksize');
  }
  public set volblocksize(value: string) {
    this._volblocksize = value;
  }
  public resetVolblocksize() {
    this._volblocksize = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get volblocksizeInput() {
    return this._volblocksize;
  }

  // zvol - computed: false, optional: true, required: false
  private _zvol?: string; 
  public get zvol() {
    return this.getStringAttribute('zvol');
  }
  public set zvol(value: string) {
    this._zvol = value;
  }
  public resetZvol() {
    this._zvol = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get zvolInput() {
    return this._zvol;
  }
}

export class GuestDiskList extends cdktf.ComplexList {
  public internalValue? : GuestDisk[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): GuestDiskOutputReference {
    return new GuestDiskOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}
export interface GuestFramebuffer {
  /**
  * Pixels, 480-2160. Default 768.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#height Guest#height}
  */
  readonly height?: number;
  /**
  * The numeric address the VNC server listens on. Default 127.0.0.1; an address off loopback must be allowed by the host policy's framebuffer_listen.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#listen Guest#listen}
  */
  readonly listen?: string;
  /**
  * The VNC port on the host. Given, or allocated by the agent from 5900 up at the first apply and kept for the guest.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#port Guest#port}
  */
  readonly port?: number;
  /**
  * Hold the guest's boot until a VNC viewer connects. Default false.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#wait Guest#wait}
  */
  readonly wait?: boolean | cdktf.IResolvable;
  /**
  * Pixels, 640-3840. Default 1024.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#width Guest#width}
  */
  readonly width?: number;
}

export function guestFramebufferToTerraform(struct?: GuestFramebufferOutputReference | GuestFramebuffer): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    height: cdktf.numberToTerraform(struct!.height),
    listen: cdktf.stringToTerraform(struct!.listen),
    port: cdktf.numberToTerraform(struct!.port),
    wait: cdktf.booleanToTerraform(struct!.wait),
    width: cdktf.numberToTerraform(struct!.width),
  }
}


export function guestFramebufferToHclTerraform(struct?: GuestFramebufferOutputReference | GuestFramebuffer): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    height: {
      value: cdktf.numberToHclTerraform(struct!.height),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    listen: {
      value: cdktf.stringToHclTerraform(struct!.listen),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    port: {
      value: cdktf.numberToHclTerraform(struct!.port),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    wait: {
      value: cdktf.booleanToHclTerraform(struct!.wait),
      isBlock: false,
      type: "simple",
      storageClassType: "boolean",
    },
    width: {
      value: cdktf.numberToHclTerraform(struct!.width),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestFramebufferOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): GuestFramebuffer | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._height !== undefined) {
      hasAnyValues = true;
      internalValueResult.height = this._height;
    }
    if (this._listen !== undefined) {
      hasAnyValues = true;
      internalValueResult.listen = this._listen;
    }
    if (this._port !== undefined) {
      hasAnyValues = true;
      internalValueResult.port = this._port;
    }
    if (this._wait !== undefined) {
      hasAnyValues = true;
      internalValueResult.wait = this._wait;
    }
    if (this._width !== undefined) {
      hasAnyValues = true;
      internalValueResult.width = this._width;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestFramebuffer | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._height = undefined;
      this._listen = undefined;
      this._port = undefined;
      this._wait = undefined;
      this._width = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._height = value.height;
      this._listen = value.listen;
      this._port = value.port;
      this._wait = value.wait;
      this._width = value.width;
    }
  }

  // height - computed: true, optional: true, required: false
  private _height?: number; 
  public get height() {
    return this.getNumberAttribute('height');
  }
  public set height(value: number) {
    this._height = value;
  }
  public resetHeight() {
    this._height = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get heightInput() {
    return this._height;
  }

  // listen - computed: true, optional: true, required: false
  private _listen?: string; 
  public get listen() {
    return this.getStringAttribute('listen');
  }
  public set listen(value: string) {
    this._listen = value;
  }
  public resetListen() {
    this._listen = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get listenInput() {
    return this._listen;
  }

  // port - computed: true, optional: true, required: false
  private _port?: number; 
  public get port() {
    return this.getNumberAttribute('port');
  }
  public set port(value: number) {
    this._port = value;
  }
  public resetPort() {
    this._port = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get portInput() {
    return this._port;
  }

  // wait - computed: true, optional: true, required: false
  private _wait?: boolean | cdktf.IResolvable; 
  public get wait() {
    return this.getBooleanAttribute('wait');
  }
  public set wait(value: boolean | cdktf.IResolvable) {
    this._wait = value;
  }
  public resetWait() {
    this._wait = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get waitInput() {
    return this._wait;
  }

  // width - computed: true, optional: true, required: false
  private _width?: number; 
  public get width() {
    return this.getNumberAttribute('width');
  }
  public set width(value: number) {
    this._width = value;
  }
  public resetWidth() {
    this._width = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get widthInput() {
    return this._width;
  }
}
export interface GuestNic {
  /**
  * PCI function within slot (0-7; needs slot), as vm-bhyve packs a guest's NICs into slot 15. Default 0.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#function Guest#function}
  */
  readonly function?: number;
  /**
  * Fixed MAC address.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#mac Guest#mac}
  */
  readonly mac?: string;
  /**
  * virtio-net (default) or e1000.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#model Guest#model}
  */
  readonly model?: string;
  /**
  * Guest PCI slot; allocated from 15 when absent.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#slot Guest#slot}
  */
  readonly slot?: number;
  /**
  * The switch (bhyve_switch name) the NIC is on; the agent allocates, creates and attaches its tap.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#switch Guest#switch}
  */
  readonly switch?: string;
  /**
  * Host tap interface: given for a NIC you manage (tap0); for a switch NIC, the one the agent allocated.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#tap Guest#tap}
  */
  readonly tap?: string;
}

export function guestNicToTerraform(struct?: GuestNic | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    function: cdktf.numberToTerraform(struct!.function),
    mac: cdktf.stringToTerraform(struct!.mac),
    model: cdktf.stringToTerraform(struct!.model),
    slot: cdktf.numberToTerraform(struct!.slot),
    switch: cdktf.stringToTerraform(struct!.switch),
    tap: cdktf.stringToTerraform(struct!.tap),
  }
}


export function guestNicToHclTerraform(struct?: GuestNic | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    function: {
      value: cdktf.numberToHclTerraform(struct!.function),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    mac: {
      value: cdktf.stringToHclTerraform(struct!.mac),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    model: {
      value: cdktf.stringToHclTerraform(struct!.model),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    slot: {
      value: cdktf.numberToHclTerraform(struct!.slot),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    switch: {
      value: cdktf.stringToHclTerraform(struct!.switch),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    tap: {
      value: cdktf.stringToHclTerraform(struct!.tap),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestNicOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): GuestNic | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._function !== undefined) {
      hasAnyValues = true;
      internalValueResult.function = this._function;
    }
    if (this._mac !== undefined) {
      hasAnyValues = true;
      internalValueResult.mac = this._mac;
    }
    if (this._model !== undefined) {
      hasAnyValues = true;
      internalValueResult.model = this._model;
    }
    if (this._slot !== undefined) {
      hasAnyValues = true;
      internalValueResult.slot = this._slot;
    }
    if (this._switch !== undefined) {
      hasAnyValues = true;
      internalValueResult.switch = this._switch;
    }
    if (this._tap !== undefined) {
      hasAnyValues = true;
      internalValueResult.tap = this._tap;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestNic | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._function = undefined;
      this._mac = undefined;
      this._model = undefined;
      this._slot = undefined;
      this._switch = undefined;
      this._tap = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._function = value.function;
      this._mac = value.mac;
      this._model = value.model;
      this._slot = value.slot;
      this._switch = value.switch;
      this._tap = value.tap;
    }
  }

  // function - computed: false, optional: true, required: false
  private _function?: number; 
  public get function() {
    return this.getNumberAttribute('function');
  }
  public set function(value: number) {
    this._function = value;
  }
  public resetFunction() {
    this._function = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get functionInput() {
    return this._function;
  }

  // mac - computed: false, optional: true, required: false
  private _mac?: string; 
  public get mac() {
    return this.getStringAttribute('mac');
  }
  public set mac(value: string) {
    this._mac = value;
  }
  public resetMac() {
    this._mac = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get macInput() {
    return this._mac;
  }

  // model - computed: true, optional: true, required: false
  private _model?: string; 
  public get model() {
    return this.getStringAttribute('model');
  }
  public set model(value: string) {
    this._model = value;
  }
  public resetModel() {
    this._model = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get modelInput() {
    return this._model;
  }

  // slot - computed: false, optional: true, required: false
  private _slot?: number; 
  public get slot() {
    return this.getNumberAttribute('slot');
  }
  public set slot(value: number) {
    this._slot = value;
  }
  public resetSlot() {
    this._slot = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get slotInput() {
    return this._slot;
  }

  // switch - computed: false, optional: true, required: false
  private _switch?: string; 
  public get switch() {
    return this.getStringAttribute('switch');
  }
  public set switch(value: string) {
    this._switch = value;
  }
  public resetSwitch() {
    this._switch = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get switchInput() {
    return this._switch;
  }

  // tap - computed: true, optional: true, required: false
  private _tap?: string; 
  public get tap() {
    return this.getStringAttribute('tap');
  }
  public set tap(value: string) {
    this._tap = value;
  }
  public resetTap() {
    this._tap = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tapInput() {
    return this._tap;
  }
}

export class GuestNicList extends cdktf.ComplexList {
  public internalValue? : GuestNic[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): GuestNicOutputReference {
    return new GuestNicOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}
export interface GuestPassthru {
  /**
  * UEFI boot order for a passed-through boot device (bootindex=N); FreeBSD 14.0 and later.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#bootindex Guest#bootindex}
  */
  readonly bootindex?: number;
  /**
  * Host B/S/F (3/0/0), reserved with a bhyve_ppt_device.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#device Guest#device}
  */
  readonly device: string;
  /**
  * Guest PCI function (0-7); defaults to the host function.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#function Guest#function}
  */
  readonly function?: number;
  /**
  * Option ROM file (a GPU VBIOS dump).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#rom Guest#rom}
  */
  readonly rom?: string;
  /**
  * Guest PCI slot (1-30).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#slot Guest#slot}
  */
  readonly slot: number;
}

export function guestPassthruToTerraform(struct?: GuestPassthru | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    bootindex: cdktf.numberToTerraform(struct!.bootindex),
    device: cdktf.stringToTerraform(struct!.device),
    function: cdktf.numberToTerraform(struct!.function),
    rom: cdktf.stringToTerraform(struct!.rom),
    slot: cdktf.numberToTerraform(struct!.slot),
  }
}


export function guestPassthruToHclTerraform(struct?: GuestPassthru | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    bootindex: {
      value: cdktf.numberToHclTerraform(struct!.bootindex),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    device: {
      value: cdktf.stringToHclTerraform(struct!.device),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    function: {
      value: cdktf.numberToHclTerraform(struct!.function),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    rom: {
      value: cdktf.stringToHclTerraform(struct!.rom),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    slot: {
      value: cdktf.numberToHclTerraform(struct!.slot),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class GuestPassthruOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): GuestPassthru | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._bootindex !== undefined) {
      hasAnyValues = true;
      internalValueResult.bootindex = this._bootindex;
    }
    if (this._device !== undefined) {
      hasAnyValues = true;
      internalValueResult.device = this._device;
    }
    if (this._function !== undefined) {
      hasAnyValues = true;
      internalValueResult.function = this._function;
    }
    if (this._rom !== undefined) {
      hasAnyValues = true;
      internalValueResult.rom = this._rom;
    }
    if (this._slot !== undefined) {
      hasAnyValues = true;
      internalValueResult.slot = this._slot;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GuestPassthru | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._bootindex = undefined;
      this._device = undefined;
      this._function = undefined;
      this._rom = undefined;
      this._slot = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._bootindex = value.bootindex;
      this._device = value.device;
      this._function = value.function;
      this._rom = value.rom;
      this._slot = value.slot;
    }
  }

  // bootindex - computed: false, optional: true, required: false
  private _bootindex?: number; 
  public get bootindex() {
    return this.getNumberAttribute('bootindex');
  }
  public set bootindex(value: number) {
    this._bootindex = value;
  }
  public resetBootindex() {
    this._bootindex = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get bootindexInput() {
    return this._bootindex;
  }

  // device - computed: false, optional: false, required: true
  private _device?: string; 
  public get device() {
    return this.getStringAttribute('device');
  }
  public set device(value: string) {
    this._device = value;
  }
  // Temporarily expose input value. Use with caution.
  public get deviceInput() {
    return this._device;
  }

  // function - computed: true, optional: true, required: false
  private _function?: number; 
  public get function() {
    return this.getNumberAttribute('function');
  }
  public set function(value: number) {
    this._function = value;
  }
  public resetFunction() {
    this._function = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get functionInput() {
    return this._function;
  }

  // rom - computed: false, optional: true, required: false
  private _rom?: string; 
  public get rom() {
    return this.getStringAttribute('rom');
  }
  public set rom(value: string) {
    this._rom = value;
  }
  public resetRom() {
    this._rom = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get romInput() {
    return this._rom;
  }

  // slot - computed: false, optional: false, required: true
  private _slot?: number; 
  public get slot() {
    return this.getNumberAttribute('slot');
  }
  public set slot(value: number) {
    this._slot = value;
  }
  // Temporarily expose input value. Use with caution.
  public get slotInput() {
    return this._slot;
  }
}

export class GuestPassthruList extends cdktf.ComplexList {
  public internalValue? : GuestPassthru[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): GuestPassthruOutputReference {
    return new GuestPassthruOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest bhyve_guest}
*/
export class Guest extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve_guest";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Guest resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Guest to import
  * @param importFromId The id of the existing Guest that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Guest to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve_guest", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/guest bhyve_guest} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options GuestConfig
  */
  public constructor(scope: Construct, id: string, config: GuestConfig) {
    super(scope, id, {
      terraformResourceType: 'bhyve_guest',
      terraformGeneratorMetadata: {
        providerName: 'bhyve',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._address = config.address;
    this._adopt = config.adopt;
    this._bootrom = config.bootrom;
    this._console = config.console;
    this._cores = config.cores;
    this._cpus = config.cpus;
    this._exitOnPause = config.exitOnPause;
    this._hostKey = config.hostKey;
    this._hostbridge = config.hostbridge;
    this._ignoreUnknownMsrs = config.ignoreUnknownMsrs;
    this._memory = config.memory;
    this._name = config.name;
    this._restart = config.restart;
    this._rtc = config.rtc;
    this._sockets = config.sockets;
    this._startOrder = config.startOrder;
    this._state = config.state;
    this._threads = config.threads;
    this._uefiVars = config.uefiVars;
    this._uuid = config.uuid;
    this._cloudInit.internalValue = config.cloudInit;
    this._cpuPin.internalValue = config.cpuPin;
    this._disk.internalValue = config.disk;
    this._framebuffer.internalValue = config.framebuffer;
    this._nic.internalValue = config.nic;
    this._passthru.internalValue = config.passthru;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // address - computed: false, optional: false, required: true
  private _address?: string; 
  public get address() {
    return this.getStringAttribute('address');
  }
  public set address(value: string) {
    this._address = value;
  }
  // Temporarily expose input value. Use with caution.
  public get addressInput() {
    return this._address;
  }

  // adopt - computed: true, optional: true, required: false
  private _adopt?: boolean | cdktf.IResolvable; 
  public get adopt() {
    return this.getBooleanAttribute('adopt');
  }
  public set adopt(value: boolean | cdktf.IResolvable) {
    this._adopt = value;
  }
  public resetAdopt() {
    this._adopt = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get adoptInput() {
    return this._adopt;
  }

  // argv - computed: true, optional: false, required: false
  public get argv() {
    return this.getListAttribute('argv');
  }

  // bootrom - computed: false, optional: true, required: false
  private _bootrom?: string; 
  public get bootrom() {
    return this.getStringAttribute('bootrom');
  }
  public set bootrom(value: string) {
    this._bootrom = value;
  }
  public resetBootrom() {
    this._bootrom = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get bootromInput() {
    return this._bootrom;
  }

  // command_line - computed: true, optional: false, required: false
  public get commandLine() {
    return this.getListAttribute('command_line');
  }

  // console - computed: true, optional: true, required: false
  private _console?: boolean | cdktf.IResolvable; 
  public get console() {
    return this.getBooleanAttribute('console');
  }
  public set console(value: boolean | cdktf.IResolvable) {
    this._console = value;
  }
  public resetConsole() {
    this._console = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get consoleInput() {
    return this._console;
  }

  // cores - computed: false, optional: true, required: false
  private _cores?: number; 
  public get cores() {
    return this.getNumberAttribute('cores');
  }
  public set cores(value: number) {
    this._cores = value;
  }
  public resetCores() {
    this._cores = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get coresInput() {
    return this._cores;
  }

  // cpus - computed: false, optional: false, required: true
  private _cpus?: number; 
  public get cpus() {
    return this.getNumberAttribute('cpus');
  }
  public set cpus(value: number) {
    this._cpus = value;
  }
  // Temporarily expose input value. Use with caution.
  public get cpusInput() {
    return this._cpus;
  }

  // exit_on_pause - computed: true, optional: true, required: false
  private _exitOnPause?: boolean | cdktf.IResolvable; 
  public get exitOnPause() {
    return this.getBooleanAttribute('exit_on_pause');
  }
  public set exitOnPause(value: boolean | cdktf.IResolvable) {
    this._exitOnPause = value;
  }
  public resetExitOnPause() {
    this._exitOnPause = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get exitOnPauseInput() {
    return this._exitOnPause;
  }

  // host_key - computed: false, optional: false, required: true
  private _hostKey?: string; 
  public get hostKey() {
    return this.getStringAttribute('host_key');
  }
  public set hostKey(value: string) {
    this._hostKey = value;
  }
  // Temporarily expose input value. Use with caution.
  public get hostKeyInput() {
    return this._hostKey;
  }

  // hostbridge - computed: true, optional: true, required: false
  private _hostbridge?: string; 
  public get hostbridge() {
    return this.getStringAttribute('hostbridge');
  }
  public set hostbridge(value: string) {
    this._hostbridge = value;
  }
  public resetHostbridge() {
    this._hostbridge = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get hostbridgeInput() {
    return this._hostbridge;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // ignore_unknown_msrs - computed: true, optional: true, required: false
  private _ignoreUnknownMsrs?: boolean | cdktf.IResolvable; 
  public get ignoreUnknownMsrs() {
    return this.getBooleanAttribute('ignore_unknown_msrs');
  }
  public set ignoreUnknownMsrs(value: boolean | cdktf.IResolvable) {
    this._ignoreUnknownMsrs = value;
  }
  public resetIgnoreUnknownMsrs() {
    this._ignoreUnknownMsrs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get ignoreUnknownMsrsInput() {
    return this._ignoreUnknownMsrs;
  }

  // memory - computed: false, optional: false, required: true
  private _memory?: string; 
  public get memory() {
    return this.getStringAttribute('memory');
  }
  public set memory(value: string) {
    this._memory = value;
  }
  // Temporarily expose input value. Use with caution.
  public get memoryInput() {
    return this._memory;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // restart - computed: true, optional: true, required: false
  private _restart?: string; 
  public get restart() {
    return this.getStringAttribute('restart');
  }
  public set restart(value: string) {
    this._restart = value;
  }
  public resetRestart() {
    this._restart = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get restartInput() {
    return this._restart;
  }

  // restarts - computed: true, optional: false, required: false
  public get restarts() {
    return this.getNumberAttribute('restarts');
  }

  // rtc - computed: true, optional: true, required: false
  private _rtc?: string; 
  public get rtc() {
    return this.getStringAttribute('rtc');
  }
  public set rtc(value: string) {
    this._rtc = value;
  }
  public resetRtc() {
    this._rtc = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get rtcInput() {
    return this._rtc;
  }

  // sockets - computed: false, optional: true, required: false
  private _sockets?: number; 
  public get sockets() {
    return this.getNumberAttribute('sockets');
  }
  public set sockets(value: number) {
    this._sockets = value;
  }
  public resetSockets() {
    this._sockets = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get socketsInput() {
    return this._sockets;
  }

  // start_order - computed: true, optional: true, required: false
  private _startOrder?: number; 
  public get startOrder() {
    return this.getNumberAttribute('start_order');
  }
  public set startOrder(value: number) {
    this._startOrder = value;
  }
  public resetStartOrder() {
    this._startOrder = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get startOrderInput() {
    return this._startOrder;
  }

  // state - computed: true, optional: true, required: false
  private _state?: string; 
  public get state() {
    return this.getStringAttribute('state');
  }
  public set state(value: string) {
    this._state = value;
  }
  public resetState() {
    this._state = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get stateInput() {
    return this._state;
  }

  // status - computed: true, optional: false, required: false
  public get status() {
    return this.getStringAttribute('status');
  }

  // threads - computed: false, optional: true, required: false
  private _threads?: number; 
  public get threads() {
    return this.getNumberAttribute('threads');
  }
  public set threads(value: number) {
    this._threads = value;
  }
  public resetThreads() {
    this._threads = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get threadsInput() {
    return this._threads;
  }

  // uefi_vars - computed: true, optional: true, required: false
  private _uefiVars?: boolean | cdktf.IResolvable; 
  public get uefiVars() {
    return this.getBooleanAttribute('uefi_vars');
  }
  public set uefiVars(value: boolean | cdktf.IResolvable) {
    this._uefiVars = value;
  }
  public resetUefiVars() {
    this._uefiVars = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get uefiVarsInput() {
    return this._uefiVars;
  }

  // uuid - computed: true, optional: true, required: false
  private _uuid?: string; 
  public get uuid() {
    return this.getStringAttribute('uuid');
  }
  public set uuid(value: string) {
    this._uuid = value;
  }
  public resetUuid() {
    this._uuid = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get uuidInput() {
    return this._uuid;
  }

  // cloud_init - computed: false, optional: true, required: false
  private _cloudInit = new GuestCloudInitOutputReference(this, "cloud_init");
  public get cloudInit() {
    return this._cloudInit;
  }
  public putCloudInit(value: GuestCloudInit) {
    this._cloudInit.internalValue = value;
  }
  public resetCloudInit() {
    this._cloudInit.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cloudInitInput() {
    return this._cloudInit.internalValue;
  }

  // cpu_pin - computed: false, optional: true, required: false
  private _cpuPin = new GuestCpuPinList(this, "cpu_pin", false);
  public get cpuPin() {
    return this._cpuPin;
  }
  public putCpuPin(value: GuestCpuPin[] | cdktf.IResolvable) {
    this._cpuPin.internalValue = value;
  }
  public resetCpuPin() {
    this._cpuPin.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cpuPinInput() {
    return this._cpuPin.internalValue;
  }

  // disk - computed: false, optional: true, required: false
  private _disk = new GuestDiskList(this, "disk", false);
  public get disk() {
    return this._disk;
  }
  public putDisk(value: GuestDisk[] | cdktf.IResolvable) {
    this._disk.internalValue = value;
  }
  public resetDisk() {
    this._disk.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get diskInput() {
    return this._disk.internalValue;
  }

  // framebuffer - computed: false, optional: true, required: false
  private _framebuffer = new GuestFramebufferOutputReference(this, "framebuffer");
  public get framebuffer() {
    return this._framebuffer;
  }
  public putFramebuffer(value: GuestFramebuffer) {
    this._framebuffer.internalValue = value;
  }
  public resetFramebuffer() {
    this._framebuffer.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get framebufferInput() {
    return this._framebuffer.internalValue;
  }

  // nic - computed: false, optional: true, required: false
  private _nic = new GuestNicList(this, "nic", false);
  public get nic() {
    return this._nic;
  }
  public putNic(value: GuestNic[] | cdktf.IResolvable) {
    this._nic.internalValue = value;
  }
  public resetNic() {
    this._nic.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get nicInput() {
    return this._nic.internalValue;
  }

  // passthru - computed: false, optional: true, required: false
  private _passthru = new GuestPassthruList(this, "passthru", false);
  public get passthru() {
    return this._passthru;
  }
  public putPassthru(value: GuestPassthru[] | cdktf.IResolvable) {
    this._passthru.internalValue = value;
  }
  public resetPassthru() {
    this._passthru.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get passthruInput() {
    return this._passthru.internalValue;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      address: cdktf.stringToTerraform(this._address),
      adopt: cdktf.booleanToTerraform(this._adopt),
      bootrom: cdktf.stringToTerraform(this._bootrom),
      console: cdktf.booleanToTerraform(this._console),
      cores: cdktf.numberToTerraform(this._cores),
      cpus: cdktf.numberToTerraform(this._cpus),
      exit_on_pause: cdktf.booleanToTerraform(this._exitOnPause),
      host_key: cdktf.stringToTerraform(this._hostKey),
      hostbridge: cdktf.stringToTerraform(this._hostbridge),
      ignore_unknown_msrs: cdktf.booleanToTerraform(this._ignoreUnknownMsrs),
      memory: cdktf.stringToTerraform(this._memory),
      name: cdktf.stringToTerraform(this._name),
      restart: cdktf.stringToTerraform(this._restart),
      rtc: cdktf.stringToTerraform(this._rtc),
      sockets: cdktf.numberToTerraform(this._sockets),
      start_order: cdktf.numberToTerraform(this._startOrder),
      state: cdktf.stringToTerraform(this._state),
      threads: cdktf.numberToTerraform(this._threads),
      uefi_vars: cdktf.booleanToTerraform(this._uefiVars),
      uuid: cdktf.stringToTerraform(this._uuid),
      cloud_init: guestCloudInitToTerraform(this._cloudInit.internalValue),
      cpu_pin: cdktf.listMapper(guestCpuPinToTerraform, true)(this._cpuPin.internalValue),
      disk: cdktf.listMapper(guestDiskToTerraform, true)(this._disk.internalValue),
      framebuffer: guestFramebufferToTerraform(this._framebuffer.internalValue),
      nic: cdktf.listMapper(guestNicToTerraform, true)(this._nic.internalValue),
      passthru: cdktf.listMapper(guestPassthruToTerraform, true)(this._passthru.internalValue),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      address: {
        value: cdktf.stringToHclTerraform(this._address),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      adopt: {
        value: cdktf.booleanToHclTerraform(this._adopt),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      bootrom: {
        value: cdktf.stringToHclTerraform(this._bootrom),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      console: {
        value: cdktf.booleanToHclTerraform(this._console),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      cores: {
        value: cdktf.numberToHclTerraform(this._cores),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      cpus: {
        value: cdktf.numberToHclTerraform(this._cpus),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      exit_on_pause: {
        value: cdktf.booleanToHclTerraform(this._exitOnPause),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      host_key: {
        value: cdktf.stringToHclTerraform(this._hostKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      hostbridge: {
        value: cdktf.stringToHclTerraform(this._hostbridge),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ignore_unknown_msrs: {
        value: cdktf.booleanToHclTerraform(this._ignoreUnknownMsrs),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      memory: {
        value: cdktf.stringToHclTerraform(this._memory),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      restart: {
        value: cdktf.stringToHclTerraform(this._restart),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      rtc: {
        value: cdktf.stringToHclTerraform(this._rtc),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      sockets: {
        value: cdktf.numberToHclTerraform(this._sockets),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      start_order: {
        value: cdktf.numberToHclTerraform(this._startOrder),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      state: {
        value: cdktf.stringToHclTerraform(this._state),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      threads: {
        value: cdktf.numberToHclTerraform(this._threads),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      uefi_vars: {
        value: cdktf.booleanToHclTerraform(this._uefiVars),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      uuid: {
        value: cdktf.stringToHclTerraform(this._uuid),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      cloud_init: {
        value: guestCloudInitToHclTerraform(this._cloudInit.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestCloudInitList",
      },
      cpu_pin: {
        value: cdktf.listMapperHcl(guestCpuPinToHclTerraform, true)(this._cpuPin.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestCpuPinList",
      },
      disk: {
        value: cdktf.listMapperHcl(guestDiskToHclTerraform, true)(this._disk.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestDiskList",
      },
      framebuffer: {
        value: guestFramebufferToHclTerraform(this._framebuffer.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestFramebufferList",
      },
      nic: {
        value: cdktf.listMapperHcl(guestNicToHclTerraform, true)(this._nic.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestNicList",
      },
      passthru: {
        value: cdktf.listMapperHcl(guestPassthruToHclTerraform, true)(this._passthru.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "GuestPassthruList",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
