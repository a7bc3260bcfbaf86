// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface SwitchConfig extends cdktf.TerraformMetaArguments {
  /**
  * The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#address Switch#address}
  */
  readonly address: string;
  /**
  * The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#host_key Switch#host_key}
  */
  readonly hostKey: string;
  /**
  * MTU of the bridge and of the guests' taps on it.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#mtu Switch#mtu}
  */
  readonly mtu?: number;
  /**
  * Switch name (guest-name rules). Changing it replaces the switch.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#name Switch#name}
  */
  readonly name: string;
  /**
  * Host interface the switch reaches the network through (igb1); none: a host-only switch.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#uplink Switch#uplink}
  */
  readonly uplink?: string;
  /**
  * 802.1Q tag (1-4094) on the uplink: the switch carries that VLAN (a vlan(4) interface NIC.TAG is its member).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#vlan Switch#vlan}
  */
  readonly vlan?: number;
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch bhyve_switch}
*/
export class Switch extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve_switch";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Switch resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Switch to import
  * @param importFromId The id of the existing Switch that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Switch to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve_switch", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/switch bhyve_switch} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options SwitchConfig
  */
  public constructor(scope: Construct, id: string, config: SwitchConfig) {
    super(scope, id, {
      terraformResourceType: 'bhyve_switch',
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
    this._hostKey = config.hostKey;
    this._mtu = config.mtu;
    this._name = config.name;
    this._uplink = config.uplink;
    this._vlan = config.vlan;
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

  // bridge - computed: true, optional: false, required: false
  public get bridge() {
    return this.getStringAttribute('bridge');
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

  // mtu - computed: false, optional: true, required: false
  private _mtu?: number; 
  public get mtu() {
    return this.getNumberAttribute('mtu');
  }
  public set mtu(value: number) {
    this._mtu = value;
  }
  public resetMtu() {
    this._mtu = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get mtuInput() {
    return this._mtu;
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

  // present - computed: true, optional: false, required: false
  public get present() {
    return this.getBooleanAttribute('present');
  }

  // uplink - computed: false, optional: true, required: false
  private _uplink?: string; 
  public get uplink() {
    return this.getStringAttribute('uplink');
  }
  public set uplink(value: string) {
    this._uplink = value;
  }
  public resetUplink() {
    this._uplink = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get uplinkInput() {
    return this._uplink;
  }

  // uplink_attached - computed: true, optional: false, required: false
  public get uplinkAttached() {
    return this.getBooleanAttribute('uplink_attached');
  }

  // vlan - computed: false, optional: true, required: false
  private _vlan?: number; 
  public get vlan() {
    return this.getNumberAttribute('vlan');
  }
  public set vlan(value: number) {
    this._vlan = value;
  }
  public resetVlan() {
    this._vlan = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vlanInput() {
    return this._vlan;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      address: cdktf.stringToTerraform(this._address),
      host_key: cdktf.stringToTerraform(this._hostKey),
      mtu: cdktf.numberToTerraform(this._mtu),
      name: cdktf.stringToTerraform(this._name),
      uplink: cdktf.stringToTerraform(this._uplink),
      vlan: cdktf.numberToTerraform(this._vlan),
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
      host_key: {
        value: cdktf.stringToHclTerraform(this._hostKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      mtu: {
        value: cdktf.numberToHclTerraform(this._mtu),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      uplink: {
        value: cdktf.stringToHclTerraform(this._uplink),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      vlan: {
        value: cdktf.numberToHclTerraform(this._vlan),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
