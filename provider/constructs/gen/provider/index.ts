// https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface BhyveProviderConfig {
  /**
  * When a host runs an older bhyve-agent than this provider's, install this provider's agent over the agent protocol (agent.upgrade; the previous version is kept for rollback; running guests are not touched). Default false: a warning says so.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#agent_upgrade BhyveProvider#agent_upgrade}
  */
  readonly agentUpgrade?: boolean | cdktf.IResolvable;
  /**
  * How long one agent call may take. Default 10m.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#command_timeout BhyveProvider#command_timeout}
  */
  readonly commandTimeout?: string;
  /**
  * How long to wait for a host's SSH handshake. Default 15s.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#connect_timeout BhyveProvider#connect_timeout}
  */
  readonly connectTimeout?: string;
  /**
  * Host key fingerprints by address, used by terraform import (resources carry their own host_key).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#host_keys BhyveProvider#host_keys}
  */
  readonly hostKeys?: { [key: string]: string };
  /**
  * ssh-agent socket. Default $SSH_AUTH_SOCK when no key is given.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#ssh_agent_socket BhyveProvider#ssh_agent_socket}
  */
  readonly sshAgentSocket?: string;
  /**
  * SSH private key (PEM or OpenSSH). Never written to state.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#ssh_private_key BhyveProvider#ssh_private_key}
  */
  readonly sshPrivateKey?: string;
  /**
  * Path of the SSH private key.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#ssh_private_key_file BhyveProvider#ssh_private_key_file}
  */
  readonly sshPrivateKeyFile?: string;
  /**
  * SSH user. Default root.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#ssh_user BhyveProvider#ssh_user}
  */
  readonly sshUser?: string;
  /**
  * Alias name
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#alias BhyveProvider#alias}
  */
  readonly alias?: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs bhyve}
*/
export class BhyveProvider extends cdktf.TerraformProvider {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "bhyve";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a BhyveProvider resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the BhyveProvider to import
  * @param importFromId The id of the existing BhyveProvider that should be imported. Refer to the {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the BhyveProvider to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "bhyve", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/cdktf-bhyve/bhyve/0.1.0/docs bhyve} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options BhyveProviderConfig = {}
  */
  public constructor(scope: Construct, id: string, config: BhyveProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'bhyve',
      terraformGeneratorMetadata: {
        providerName: 'bhyve',
        providerVersion: '0.1.0'
      },
      terraformProviderSource: 'registry.terraform.io/cdktf-bhyve/bhyve'
    });
    this._agentUpgrade = config.agentUpgrade;
    this._commandTimeout = config.commandTimeout;
    this._connectTimeout = config.connectTimeout;
    this._hostKeys = config.hostKeys;
    this._sshAgentSocket = config.sshAgentSocket;
    this._sshPrivateKey = config.sshPrivateKey;
    this._sshPrivateKeyFile = config.sshPrivateKeyFile;
    this._sshUser = config.sshUser;
    this._alias = config.alias;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // agent_upgrade - computed: false, optional: true, required: false
  private _agentUpgrade?: boolean | cdktf.IResolvable; 
  public get agentUpgrade() {
    return this._agentUpgrade;
  }
  public set agentUpgrade(value: boolean | cdktf.IResolvable | undefined) {
    this._agentUpgrade = value;
  }
  public resetAgentUpgrade() {
    this._agentUpgrade = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get agentUpgradeInput() {
    return this._agentUpgrade;
  }

  // command_timeout - computed: false, optional: true, required: false
  private _commandTimeout?: string; 
  public get commandTimeout() {
    return this._commandTimeout;
  }
  public set commandTimeout(value: string | undefined) {
    this._commandTimeout = value;
  }
  public resetCommandTimeout() {
    this._commandTimeout = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get commandTimeoutInput() {
    return this._commandTimeout;
  }

  // connect_timeout - computed: false, optional: true, required: false
  private _connectTimeout?: string; 
  public get connectTimeout() {
    return this._connectTimeout;
  }
  public set connectTimeout(value: string | undefined) {
    this._connectTimeout = value;
  }
  public resetConnectTimeout() {
    this._connectTimeout = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get connectTimeoutInput() {
    return this._connectTimeout;
  }

  // host_keys - computed: false, optional: true, required: false
  private _hostKeys?: { [key: string]: string }; 
  public get hostKeys() {
    return this._hostKeys;
  }
  public set hostKeys(value: { [key: string]: string } | undefined) {
    this._hostKeys = value;
  }
  public resetHostKeys() {
    this._hostKeys = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get hostKeysInput() {
    return this._hostKeys;
  }

  // ssh_agent_socket - computed: false, optional: true, required: false
  private _sshAgentSocket?: string; 
  public get sshAgentSocket() {
    return this._sshAgentSocket;
  }
  public set sshAgentSocket(value: string | undefined) {
    this._sshAgentSocket = value;
  }
  public resetSshAgentSocket() {
    this._sshAgentSocket = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sshAgentSocketInput() {
    return this._sshAgentSocket;
  }

  // ssh_private_key - computed: false, optional: true, required: false
  private _sshPrivateKey?: string; 
  public get sshPrivateKey() {
    return this._sshPrivateKey;
  }
  public set sshPrivateKey(value: string | undefined) {
    this._sshPrivateKey = value;
  }
  public resetSshPrivateKey() {
    this._sshPrivateKey = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sshPrivateKeyInput() {
    return this._sshPrivateKey;
  }

  // ssh_private_key_file - computed: false, optional: true, required: false
  private _sshPrivateKeyFile?: string; 
  public get sshPrivateKeyFile() {
    return this._sshPrivateKeyFile;
  }
  public set sshPrivateKeyFile(value: string | undefined) {
    this._sshPrivateKeyFile = value;
  }
  public resetSshPrivateKeyFile() {
    this._sshPrivateKeyFile = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sshPrivateKeyFileInput() {
    return this._sshPrivateKeyFile;
  }

  // ssh_user - computed: false, optional: true, required: false
  private _sshUser?: string; 
  public get sshUser() {
    return this._sshUser;
  }
  public set sshUser(value: string | undefined) {
    this._sshUser = value;
  }
  public resetSshUser() {
    this._sshUser = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sshUserInput() {
    return this._sshUser;
  }

  // alias - computed: false, optional: true, required: false
  private _alias?: string; 
  public get alias() {
    return this._alias;
  }
  public set alias(value: string | undefined) {
    this._alias = value;
  }
  public resetAlias() {
    this._alias = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get aliasInput() {
    return this._alias;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      agent_upgrade: cdktf.booleanToTerraform(this._agentUpgrade),
      command_timeout: cdktf.stringToTerraform(this._commandTimeout),
      connect_timeout: cdktf.stringToTerraform(this._connectTimeout),
      host_keys: cdktf.hashMapper(cdktf.stringToTerraform)(this._hostKeys),
      ssh_agent_socket: cdktf.stringToTerraform(this._sshAgentSocket),
      ssh_private_key: cdktf.stringToTerraform(this._sshPrivateKey),
      ssh_private_key_file: cdktf.stringToTerraform(this._sshPrivateKeyFile),
      ssh_user: cdktf.stringToTerraform(this._sshUser),
      alias: cdktf.stringToTerraform(this._alias),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      agent_upgrade: {
        value: cdktf.booleanToHclTerraform(this._agentUpgrade),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      command_timeout: {
        value: cdktf.stringToHclTerraform(this._commandTimeout),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      connect_timeout: {
        value: cdktf.stringToHclTerraform(this._connectTimeout),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      host_keys: {
        value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(this._hostKeys),
        isBlock: false,
        type: "map",
        storageClassType: "stringMap",
      },
      ssh_agent_socket: {
        value: cdktf.stringToHclTerraform(this._sshAgentSocket),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ssh_private_key: {
        value: cdktf.stringToHclTerraform(this._sshPrivateKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ssh_private_key_file: {
        value: cdktf.stringToHclTerraform(this._sshPrivateKeyFile),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ssh_user: {
        value: cdktf.stringToHclTerraform(this._sshUser),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      alias: {
        value: cdktf.stringToHclTerraform(this._alias),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
