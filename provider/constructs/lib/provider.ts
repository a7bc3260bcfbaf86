import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { registerProvider } from "./mode.js";
import { BhyveProvider as ProviderResource } from "../gen/provider/index.js";

/** Props of a {@link BhyveProvider}. */
export interface BhyveProviderProps {
  /** SSH user on the hosts. @default "root" */
  readonly sshUser?: string;
  /** SSH private key (PEM or OpenSSH); never written to state. @default none */
  readonly sshPrivateKey?: string;
  /** Path of the SSH private key. @default none */
  readonly sshPrivateKeyFile?: string;
  /** ssh-agent socket. @default $SSH_AUTH_SOCK when no key is given */
  readonly sshAgentSocket?: string;
  /** Wait for a host's SSH handshake, e.g. "15s". @default "15s" */
  readonly connectTimeout?: string;
  /** Longest agent call, e.g. "10m". @default "10m" */
  readonly commandTimeout?: string;
  /** Host key fingerprints by address, for terraform import. @default none */
  readonly hostKeys?: Record<string, string>;
  /** Install this provider's bhyve-agent on hosts that run an older one (agent.upgrade). @default false: a warning says so */
  readonly agentUpgrade?: boolean;
}

/** The bhyve provider (registry.terraform.io/cdktf-bhyve/bhyve). */
export class BhyveProvider extends Construct {
  /** The L1 provider. */
  readonly provider: ProviderResource;

  constructor(scope: Construct, id: string, props: BhyveProviderProps = {}) {
    super(scope, id);
    registerProvider(TerraformStack.of(this), {
      ...(props.sshUser !== undefined ? { user: props.sshUser } : {}),
      ...(props.sshPrivateKeyFile !== undefined ? { privateKeyFile: props.sshPrivateKeyFile } : {}),
      ...(props.connectTimeout !== undefined ? { connectTimeout: props.connectTimeout } : {}),
      ...(props.commandTimeout !== undefined ? { commandTimeout: props.commandTimeout } : {}),
    });
    this.provider = new ProviderResource(this, "provider", {
      ...(props.sshUser !== undefined ? { sshUser: props.sshUser } : {}),
      ...(props.sshPrivateKey !== undefined ? { sshPrivateKey: props.sshPrivateKey } : {}),
      ...(props.sshPrivateKeyFile !== undefined ? { sshPrivateKeyFile: props.sshPrivateKeyFile } : {}),
      ...(props.sshAgentSocket !== undefined ? { sshAgentSocket: props.sshAgentSocket } : {}),
      ...(props.connectTimeout !== undefined ? { connectTimeout: props.connectTimeout } : {}),
      ...(props.commandTimeout !== undefined ? { commandTimeout: props.commandTimeout } : {}),
      ...(props.hostKeys !== undefined ? { hostKeys: props.hostKeys } : {}),
      ...(props.agentUpgrade !== undefined ? { agentUpgrade: props.agentUpgrade } : {}),
    });
  }
}
