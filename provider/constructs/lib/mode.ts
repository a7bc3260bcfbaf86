/**
 * How a stack's bhyve hosts reach Terraform: through our provider (the default), or in push mode,
 * one null_resource per host that runs `cdktf-bhyve push`. The mode is fixed per stack before its
 * first host is declared, because each construct creates its resources when it is constructed.
 */
import type { TerraformStack } from "cdktf";

/** SSH settings a stack's hosts are reached with; never a secret, only where to find one. */
export interface StackSsh {
  readonly user?: string;
  readonly privateKeyFile?: string;
  readonly connectTimeout?: string;
  readonly commandTimeout?: string;
}

/** What push mode needs from a stack's {@link BhyvePush}. */
export interface PushMode {
  readonly ssh: StackSsh;
  /** argv that starts `cdktf-bhyve`, e.g. ["cdktf-bhyve"]. */
  readonly command: readonly string[];
}

const push = new WeakMap<TerraformStack, PushMode>();
const ssh = new WeakMap<TerraformStack, StackSsh>();
const withHosts = new WeakSet<TerraformStack>();
const withProvider = new WeakSet<TerraformStack>();

/** Why a stack cannot take this mode, or null. */
function conflict(stack: TerraformStack, what: string): string | null {
  if (withHosts.has(stack)) return `${what} must be declared before the stack's first BhyveHost (stack ${stack.node.id})`;
  if (push.has(stack)) return `stack ${stack.node.id} already has a BhyvePush; declare one per stack`;
  if (withProvider.has(stack)) return `stack ${stack.node.id} already has a BhyveProvider: a stack uses the provider or push mode, not both`;
  return null;
}

/** Records a BhyvePush on its stack; throws when the stack already has hosts or a provider. */
export function registerPush(stack: TerraformStack, mode: PushMode): void {
  const why = conflict(stack, "BhyvePush");
  if (why) throw new Error(why);
  push.set(stack, mode);
  ssh.set(stack, mode.ssh);
}

/** Records a BhyveProvider's SSH settings on its stack (for the host documents' manifest). */
export function registerProvider(stack: TerraformStack, settings: StackSsh): void {
  if (push.has(stack)) throw new Error(`stack ${stack.node.id} already has a BhyvePush: a stack uses the provider or push mode, not both`);
  withProvider.add(stack);
  ssh.set(stack, settings);
}

/** Records that a stack has a host (after which its mode cannot change). */
export function registerHost(stack: TerraformStack): void {
  withHosts.add(stack);
}

/** The stack's push mode, or undefined in provider mode. */
export function pushModeOf(stack: TerraformStack): PushMode | undefined {
  return push.get(stack);
}

/** The stack's SSH settings. */
export function sshOf(stack: TerraformStack): StackSsh {
  return ssh.get(stack) ?? {};
}
