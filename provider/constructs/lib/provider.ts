import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { registerProvider } from "./mode.js";
import { BhyveProvider as ProviderResource } from "../gen/provider/index.js";

/** Props of a {@link BhyveProvider}. */
export interface BhyveProviderProps {
  /** SSH user on the hosts. @default "root" */
  readonly sshUser?: string;
  /**
   * SSH private key, as a reference only: a sensitive TerraformVariable's value (or another token,
   * or a Terraform expression such as "${var.ssh_key}"). A literal key is refused at synth, since
   * it would be written in clear into cdk.tf.json; use sshPrivateKeyFile or sshAgentSocket for a
   * key on disk or in an agent. Never written to state. @default none
   */
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

/**
 * Why `sshPrivateKey` cannot go into the synthesized configuration, or null when it is a reference
 * (a token, or a whole Terraform expression "${...}") that Terraform resolves at plan time.
 */
export function literalKeyProblem(value: string | undefined): string | null {
  if (value === undefined || Token.isUnresolved(value) || /^\$\{[^\n]+\}$/.test(value)) return null;
  return "sshPrivateKey: a literal private key would be written in clear into cdk.tf.json; give sshPrivateKeyFile (the key's path), sshAgentSocket (an ssh-agent), or a sensitive TerraformVariable's value (new TerraformVariable(stack, \"ssh_key\", { type: \"string\", sensitive: true }).stringValue)";
}

/** The bhyve provider (registry.terraform.io/cdktf-bhyve/bhyve). */
export class BhyveProvider extends Construct {
  /** The L1 provider. */
  readonly provider: ProviderResource;

  constructor(scope: Construct, id: string, props: BhyveProviderProps = {}) {
    super(scope, id);
    const keyProblem = literalKeyProblem(props.sshPrivateKey);
    // Refused at synth with the other validations; and never handed to the L1 provider, so even a
    // synth with validations off does not write the key.
    if (keyProblem) this.node.addValidation({ validate: () => [keyProblem] });
    registerProvider(TerraformStack.of(this), {
      ...(props.sshUser !== undefined ? { user: props.sshUser } : {}),
      ...(props.sshPrivateKeyFile !== undefined ? { privateKeyFile: props.sshPrivateKeyFile } : {}),
      ...(props.connectTimeout !== undefined ? { connectTimeout: props.connectTimeout } : {}),
      ...(props.commandTimeout !== undefined ? { commandTimeout: props.commandTimeout } : {}),
    });
    this.provider = new ProviderResource(this, "provider", {
      ...(props.sshUser !== undefined ? { sshUser: props.sshUser } : {}),
      ...(props.sshPrivateKey !== undefined && !keyProblem ? { sshPrivateKey: props.sshPrivateKey } : {}),
      ...(props.sshPrivateKeyFile !== undefined ? { sshPrivateKeyFile: props.sshPrivateKeyFile } : {}),
      ...(props.sshAgentSocket !== undefined ? { sshAgentSocket: props.sshAgentSocket } : {}),
      ...(props.connectTimeout !== undefined ? { connectTimeout: props.connectTimeout } : {}),
      ...(props.commandTimeout !== undefined ? { commandTimeout: props.commandTimeout } : {}),
      ...(props.hostKeys !== undefined ? { hostKeys: props.hostKeys } : {}),
      ...(props.agentUpgrade !== undefined ? { agentUpgrade: props.agentUpgrade } : {}),
    });
  }
}
