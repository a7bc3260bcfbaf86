// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface PptDeviceConfig extends cdktf.TerraformMetaArguments {
  /**
  * The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#address PptDevice#address}
  */
  readonly address: string;
  /**
  * live: bind to ppt now (devctl) and at boot; boot: at the next boot only (the host reports reboot_required). Default boot. Reads "none" when loader.conf no longer lists the device.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#bind PptDevice#bind}
  */
  readonly bind?: string;
  /**
  * B/S/F in decimal (3/0/0) or pci0:B:S:F. Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#device PptDevice#device}
  */
  readonly device: string;
  /**
  * Expected PCI device id (0x1eb8).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#device_id PptDevice#device_id}
  */
  readonly deviceId?: string;
  /**
  * The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#host_key PptDevice#host_key}
  */
  readonly hostKey: string;
  /**
  * Expected PCI vendor id (0x10de): the reservation is refused when the hardware differs.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#vendor_id PptDevice#vendor_id}
  */
  readonly vendorId?: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device bhyve_ppt_device}
*/
export class PptDevice extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve_ppt_device";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a PptDevice resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the PptDevice to import
  * @param importFromId The id of the existing PptDevice that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the PptDevice to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve_ppt_device", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/ppt_device bhyve_ppt_device} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options PptDeviceConfig
  */
  public constructor(scope: Construct, id: string, config: PptDeviceConfig) {
    super(scope, id, {
      terraformResourceType: 'bhyve_ppt_device',
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
    this._bind = config.bind;
    this._device = config.device;
    this._deviceId = config.deviceId;
    this._hostKey = config.hostKey;
    this._vendorId = config.vendorId;
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

  // bind - computed: true, optional: true, required: false
  private _bind?: string; 
  public get bind() {
    return this.getStringAttribute('bind');
  }
  public set bind(value: string) {
    this._bind = value;
  }
  public resetBind() {
    this._bind = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get bindInput() {
    return this._bind;
  }

  // bound - computed: true, optional: false, required: false
  public get bound() {
    return this.getBooleanAttribute('bound');
  }

  // description - computed: true, optional: false, required: false
  public get description() {
    return this.getStringAttribute('description');
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

  // device_id - computed: false, optional: true, required: false
  private _deviceId?: string; 
  public get deviceId() {
    return this.getStringAttribute('device_id');
  }
  public set deviceId(value: string) {
    this._deviceId = value;
  }
  public resetDeviceId() {
    this._deviceId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get deviceIdInput() {
    return this._deviceId;
  }

  // driver - computed: true, optional: false, required: false
  public get driver() {
    return this.getStringAttribute('driver');
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

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // vendor_id - computed: false, optional: true, required: false
  private _vendorId?: string; 
  public get vendorId() {
    return this.getStringAttribute('vendor_id');
  }
  public set vendorId(value: string) {
    this._vendorId = value;
  }
  public resetVendorId() {
    this._vendorId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vendorIdInput() {
    return this._vendorId;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      address: cdktf.stringToTerraform(this._address),
      bind: cdktf.stringToTerraform(this._bind),
      device: cdktf.stringToTerraform(this._device),
      device_id: cdktf.stringToTerraform(this._deviceId),
      host_key: cdktf.stringToTerraform(this._hostKey),
      vendor_id: cdktf.stringToTerraform(this._vendorId),
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
      bind: {
        value: cdktf.stringToHclTerraform(this._bind),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      device: {
        value: cdktf.stringToHclTerraform(this._device),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      device_id: {
        value: cdktf.stringToHclTerraform(this._deviceId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      host_key: {
        value: cdktf.stringToHclTerraform(this._hostKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      vendor_id: {
        value: cdktf.stringToHclTerraform(this._vendorId),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
