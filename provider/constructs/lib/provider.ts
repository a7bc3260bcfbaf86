import { TerraformStack, Token, Tokenization } from "cdktf";
import { Construct } from "constructs";
import { registerProvider } from "./mode.js";
import { BhyveProvider as ProviderResource } from "../gen/provider/index.js";

/** Props of a {@link BhyveProvider}. */
export interface BhyveProviderProps {
  /** SSH user on the hosts. @default "root" */
  readonly sshUser?: string;
  /**
   * SSH private key, as a reference only: the value of a sensitive TerraformVariable without a
   * default (or "${var.NAME}" naming one). Anything else is refused at synth, since it could put the
   * key in clear into cdk.tf.json; use sshPrivateKeyFile or sshAgentSocket for a key on disk or in
   * an agent. Never written to state. @default none
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

const KEY_ADVICE = "give sshPrivateKeyFile (the key's path), sshAgentSocket (an ssh-agent), or a sensitive TerraformVariable's value without a default (new TerraformVariable(stack, \"ssh_key\", { type: \"string\", sensitive: true }).stringValue)";

/**
 * Why `sshPrivateKey` cannot go into the synthesized configuration, or null when it may. Only a
 * reference to a sensitive Terraform variable without a default is taken: its value is given at plan
 * time and never written to cdk.tf.json. A literal, a local, a non-sensitive variable or a default
 * would put the key in clear into the file. `variables` are the stack's synthesized `variable`
 * blocks (overrides included); without them only a literal can be told apart.
 */
export function literalKeyProblem(value: string | undefined, variables?: Record<string, { sensitive?: unknown; default?: unknown }>): string | null {
  if (value === undefined) return null;
  const ref = /^\$\{var\.([A-Za-z_][\w-]*)\}$/.exec(value);
  const literal = `sshPrivateKey: a literal private key would be written in clear into cdk.tf.json; ${KEY_ADVICE}`;
  // Before synth: one reference, and nothing else (text around a token is a literal part of the key).
  if (variables === undefined) return ref || (Token.isUnresolved(value) && Tokenization.reverseString(value).literals.length === 0) ? null : literal;
  if (!ref && !value.includes("${")) return literal;
  if (!ref) return `sshPrivateKey: only a sensitive variable's value is taken, not another expression (a local, a function or a mix of text and references may put the key in clear into cdk.tf.json); ${KEY_ADVICE}`;
  const name = ref[1]!;
  const v = variables[name];
  if (v === undefined) return `sshPrivateKey: variable "${name}" is not declared in this stack, so it cannot be checked to be sensitive; ${KEY_ADVICE}`;
  if (v.sensitive !== true) return `sshPrivateKey: variable "${name}" is not sensitive: Terraform would show the key in plans and logs; declare it with sensitive: true`;
  if (v.default !== undefined && v.default !== null) return `sshPrivateKey: variable "${name}" has a default, which is written in clear into cdk.tf.json; give the key at plan time (TF_VAR_${name} or -var) instead`;
  return null;
}

/** The bhyve provider (registry.terraform.io/cdktf-bhyve/bhyve). */
export class BhyveProvider extends Construct {
  /** The L1 provider. */
  readonly provider: ProviderResource;

  constructor(scope: Construct, id: string, props: BhyveProviderProps = {}) {
    super(scope, id);
    const keyProblem = literalKeyProblem(props.sshPrivateKey);
    // A literal is refused at synth with the other validations, and never handed to the L1
    // provider, so even a synth with validations off does not write it. A reference is checked at
    // synth against the stack's variables as they will be written.
    if (props.sshPrivateKey !== undefined) {
      const key = props.sshPrivateKey;
      this.node.addValidation({
        validate: () => {
          if (keyProblem) return [keyProblem];
          // The stack as it will be written: this provider's block holds the key resolved, and
          // the variable blocks (overrides included) say whether it is sensitive.
          type Tf = { provider?: { bhyve?: Array<{ alias?: string; ssh_private_key?: unknown }> }; variable?: Record<string, { sensitive?: unknown; default?: unknown }> };
          const tf = TerraformStack.of(this).toTerraform() as Tf;
          const block = (tf.provider?.bhyve ?? []).find((b) => b.alias === this.provider.alias);
          const resolved = block?.ssh_private_key ?? key;
          const problem = typeof resolved === "string" ? literalKeyProblem(resolved, tf.variable ?? {}) : "sshPrivateKey: the value is not a string";
          return problem ? [problem] : [];
        },
      });
    }
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
