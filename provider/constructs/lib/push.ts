/**
 * Push mode, for runners that cannot install a custom Terraform provider: the same BhyveHost,
 * PptDevice and Guest constructs synthesize, per host, one null_resource (hashicorp/null) whose
 * triggers hold the content hash of the host's desired-state document, and whose local-exec
 * provisioner runs `cdktf-bhyve push` with that document. A changed document changes the hash,
 * which replaces the null_resource and so pushes the document again.
 *
 * The provisioner runs the command without a shell (local-exec's `interpreter` is the argv; its
 * `command` is the last argument, the document's path), so no value is ever parsed by a shell.
 * Terraform runs it in the stack's working directory, where the document is written.
 */
import { Lazy, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { provider as nullProvider, resource as nullResource } from "@cdktf/provider-null";
import { documentHash } from "../../../agent/model/canonical.js";
import { documentFile, hostState } from "./documents.js";
import { registerPush, type PushMode } from "./mode.js";
import type { BhyveHost } from "./host.js";

/** Props of a {@link BhyvePush}. */
export interface BhyvePushProps {
  /** SSH user on the hosts. @default "root" */
  readonly sshUser?: string;
  /** Path of the SSH private key on the machine that runs Terraform; the key itself never enters the stack. @default $BHYVE_SSH_KEY_FILE, else the ssh-agent at $SSH_AUTH_SOCK */
  readonly sshPrivateKeyFile?: string;
  /** Wait for a host's SSH handshake, e.g. "15s". @default "15s" */
  readonly connectTimeout?: string;
  /** Longest apply on one host, e.g. "10m". @default "10m" */
  readonly commandTimeout?: string;
  /** The argv that starts cdktf-bhyve (looked up in PATH; `npx cdktf deploy` puts node_modules/.bin there). @default ["cdktf-bhyve"] */
  readonly command?: readonly string[];
}

/** Puts its stack in push mode; declare it before the stack's hosts, in place of BhyveProvider. */
export class BhyvePush extends Construct {
  /** The hashicorp/null provider. */
  readonly provider: nullProvider.NullProvider;
  readonly mode: PushMode;

  constructor(scope: Construct, id: string, props: BhyvePushProps = {}) {
    super(scope, id);
    const command = props.command ?? ["cdktf-bhyve"];
    if (command.length === 0 || command.some((a) => typeof a !== "string" || a === "")) throw new Error(`${this.node.path}: command must be a non-empty list of non-empty strings`);
    this.mode = {
      ssh: {
        ...(props.sshUser !== undefined ? { user: props.sshUser } : {}),
        ...(props.sshPrivateKeyFile !== undefined ? { privateKeyFile: props.sshPrivateKeyFile } : {}),
        ...(props.connectTimeout !== undefined ? { connectTimeout: props.connectTimeout } : {}),
        ...(props.commandTimeout !== undefined ? { commandTimeout: props.commandTimeout } : {}),
      },
      command,
    };
    registerPush(TerraformStack.of(this), this.mode);
    this.provider = new nullProvider.NullProvider(this, "null");
  }
}

/** The argv of `cdktf-bhyve push` for a host, without the document path (local-exec appends it). */
export function pushArgv(mode: PushMode, address: string, hostKey: string): string[] {
  const s = mode.ssh;
  return [
    ...mode.command, "push",
    "--address", address,
    "--host-key", hostKey,
    ...(s.user !== undefined ? ["--ssh-user", s.user] : []),
    ...(s.privateKeyFile !== undefined ? ["--ssh-key-file", s.privateKeyFile] : []),
    ...(s.connectTimeout !== undefined ? ["--connect-timeout", s.connectTimeout] : []),
    ...(s.commandTimeout !== undefined ? ["--command-timeout", s.commandTimeout] : []),
    "--doc",
  ];
}

/** The host's null_resource: replaced, and so pushed again, whenever its document changes. */
export function pushResource(host: BhyveHost, mode: PushMode): nullResource.Resource {
  return new nullResource.Resource(host, "push", {
    triggers: {
      address: host.address,
      host_key: host.hostKey,
      // Lazy: the host's reservations and guests are declared after the host.
      document_sha256: Lazy.stringValue({ produce: () => { const s = hostState(host); return s ? documentHash(s) : "invalid"; } }),
    },
    provisioners: [{ type: "local-exec", interpreter: pushArgv(mode, host.address, host.hostKey), command: documentFile(host) }],
  });
}
