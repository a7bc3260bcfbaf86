// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface DataBhyveHostFactsConfig extends cdktf.TerraformMetaArguments {
  /**
  * The host's SSH address: host or host:port (port 22 by default). Changing it replaces the resource.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts#address DataBhyveHostFacts#address}
  */
  readonly address: string;
  /**
  * The host's SSH host key fingerprint, SHA256:... as ssh-keygen -l prints it. The connection is refused when the host offers another key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts#host_key DataBhyveHostFacts#host_key}
  */
  readonly hostKey: string;
}
export interface DataBhyveHostFactsPciDevices {
}

export function dataBhyveHostFactsPciDevicesToTerraform(struct?: DataBhyveHostFactsPciDevices): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
  }
}


export function dataBhyveHostFactsPciDevicesToHclTerraform(struct?: DataBhyveHostFactsPciDevices): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
  };
  return attrs;
}

export class DataBhyveHostFactsPciDevicesOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): DataBhyveHostFactsPciDevices | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: DataBhyveHostFactsPciDevices | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
    }
  }

  // device - computed: true, optional: false, required: false
  public get device() {
    return this.getStringAttribute('device');
  }

  // selector - computed: true, optional: false, required: false
  public get selector() {
    return this.getStringAttribute('selector');
  }

  // driver - computed: true, optional: false, required: false
  public get driver() {
    return this.getStringAttribute('driver');
  }

  // vendor_id - computed: true, optional: false, required: false
  public get vendorId() {
    return this.getStringAttribute('vendor_id');
  }

  // device_id - computed: true, optional: false, required: false
  public get deviceId() {
    return this.getStringAttribute('device_id');
  }

  // class - computed: true, optional: false, required: false
  public get class() {
    return this.getStringAttribute('class');
  }

  // name - computed: true, optional: false, required: false
  public get name() {
    return this.getStringAttribute('name');
  }

  // bridge - computed: true, optional: false, required: false
  public get bridge() {
    return this.getBooleanAttribute('bridge');
  }
}

export class DataBhyveHostFactsPciDevicesList extends cdktf.ComplexList {

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
  public get(index: number): DataBhyveHostFactsPciDevicesOutputReference {
    return new DataBhyveHostFactsPciDevicesOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts bhyve_host_facts}
*/
export class DataBhyveHostFacts extends cdktf.TerraformDataSource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve_host_facts";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a DataBhyveHostFacts resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the DataBhyveHostFacts to import
  * @param importFromId The id of the existing DataBhyveHostFacts that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the DataBhyveHostFacts to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve_host_facts", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs/data-sources/host_facts bhyve_host_facts} Data Source
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options DataBhyveHostFactsConfig
  */
  public constructor(scope: Construct, id: string, config: DataBhyveHostFactsConfig) {
    super(scope, id, {
      terraformResourceType: 'bhyve_host_facts',
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

  // iommu_enabled - computed: true, optional: false, required: false
  public get iommuEnabled() {
    return this.getBooleanAttribute('iommu_enabled');
  }

  // max_user_wired - computed: true, optional: false, required: false
  public get maxUserWired() {
    return this.getNumberAttribute('max_user_wired');
  }

  // nested_paging - computed: true, optional: false, required: false
  public get nestedPaging() {
    return this.getBooleanAttribute('nested_paging');
  }

  // nested_paging_kind - computed: true, optional: false, required: false
  public get nestedPagingKind() {
    return this.getStringAttribute('nested_paging_kind');
  }

  // os_release - computed: true, optional: false, required: false
  public get osRelease() {
    return this.getStringAttribute('os_release');
  }

  // passthru_ready - computed: true, optional: false, required: false
  public get passthruReady() {
    return this.getBooleanAttribute('passthru_ready');
  }

  // pci_devices - computed: true, optional: false, required: false
  private _pciDevices = new DataBhyveHostFactsPciDevicesList(this, "pci_devices", false);
  public get pciDevices() {
    return this._pciDevices;
  }

  // problems - computed: true, optional: false, required: false
  public get problems() {
    return this.getListAttribute('problems');
  }

  // unrestricted_guest - computed: true, optional: false, required: false
  public get unrestrictedGuest() {
    return this.getBooleanAttribute('unrestricted_guest');
  }

  // vmm_loaded - computed: true, optional: false, required: false
  public get vmmLoaded() {
    return this.getBooleanAttribute('vmm_loaded');
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      address: cdktf.stringToTerraform(this._address),
      host_key: cdktf.stringToTerraform(this._hostKey),
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
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
