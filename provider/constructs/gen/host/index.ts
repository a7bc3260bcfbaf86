// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface HostConfig extends cdktf.TerraformMetaArguments {
  /**
  * The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host#address Host#address}
  */
  readonly address: string;
  /**
  * hw.vmm.amdvi.enable: auto (on for AMD hosts), true or false. Default auto. Takes effect at the next boot.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host#amdvi_enable Host#amdvi_enable}
  */
  readonly amdviEnable?: string;
  /**
  * The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host#host_key Host#host_key}
  */
  readonly hostKey: string;
  /**
  * Load vmm.ko from loader.conf (needed for pptdevs). Default true.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host#vmm_load Host#vmm_load}
  */
  readonly vmmLoad?: boolean | cdktf.IResolvable;
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host bhyve_host}
*/
export class Host extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve_host";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Host resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Host to import
  * @param importFromId The id of the existing Host that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Host to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve_host", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/resources/host bhyve_host} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options HostConfig
  */
  public constructor(scope: Construct, id: string, config: HostConfig) {
    super(scope, id, {
      terraformResourceType: 'bhyve_host',
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
    this._amdviEnable = config.amdviEnable;
    this._hostKey = config.hostKey;
    this._vmmLoad = config.vmmLoad;
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

  // agent_version - computed: true, optional: false, required: false
  public get agentVersion() {
    return this.getStringAttribute('agent_version');
  }

  // amdvi_enable - computed: true, optional: true, required: false
  private _amdviEnable?: string; 
  public get amdviEnable() {
    return this.getStringAttribute('amdvi_enable');
  }
  public set amdviEnable(value: string) {
    this._amdviEnable = value;
  }
  public resetAmdviEnable() {
    this._amdviEnable = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get amdviEnableInput() {
    return this._amdviEnable;
  }

  // cpu_vendor - computed: true, optional: false, required: false
  public get cpuVendor() {
    return this.getStringAttribute('cpu_vendor');
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

  // iommu - computed: true, optional: false, required: false
  public get iommu() {
    return this.getStringAttribute('iommu');
  }

  // loader_conf_in_sync - computed: true, optional: false, required: false
  public get loaderConfInSync() {
    return this.getBooleanAttribute('loader_conf_in_sync');
  }

  // nested_paging - computed: true, optional: false, required: false
  public get nestedPaging() {
    return this.getStringAttribute('nested_paging');
  }

  // passthru_ready - computed: true, optional: false, required: false
  public get passthruReady() {
    return this.getBooleanAttribute('passthru_ready');
  }

  // problems - computed: true, optional: false, required: false
  public get problems() {
    return this.getListAttribute('problems');
  }

  // reboot_required - computed: true, optional: false, required: false
  public get rebootRequired() {
    return this.getBooleanAttribute('reboot_required');
  }

  // vmm_load - computed: true, optional: true, required: false
  private _vmmLoad?: boolean | cdktf.IResolvable; 
  public get vmmLoad() {
    return this.getBooleanAttribute('vmm_load');
  }
  public set vmmLoad(value: boolean | cdktf.IResolvable) {
    this._vmmLoad = value;
  }
  public resetVmmLoad() {
    this._vmmLoad = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vmmLoadInput() {
    return this._vmmLoad;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      address: cdktf.stringToTerraform(this._address),
      amdvi_enable: cdktf.stringToTerraform(this._amdviEnable),
      host_key: cdktf.stringToTerraform(this._hostKey),
      vmm_load: cdktf.booleanToTerraform(this._vmmLoad),
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
      amdvi_enable: {
        value: cdktf.stringToHclTerraform(this._amdviEnable),
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
      vmm_load: {
        value: cdktf.booleanToHclTerraform(this._vmmLoad),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
