/**
 * SSH settings of the fleet commands (push, status, drift, bootstrap): from flags, else from the
 * stack's manifest, else from the environment. The key is read from a file or reached through an
 * ssh-agent; it is never taken on the command line.
 */
import { readFileSync } from "node:fs";
import { UserError } from "../../../agent/cli/errors.js";
import { parseDuration } from "../../resources/context.js";
import { HOST_KEY } from "../../resources/common.js";
import type { ClientOptions } from "../../ssh/agent-client.js";

/** The settings as given, each optional. */
export interface SshSettings {
  readonly user?: string;
  readonly privateKeyFile?: string;
  readonly connectTimeout?: string;
  readonly commandTimeout?: string;
}

/** The option names the commands share, for node:util parseArgs. */
export const SSH_OPTIONS = {
  "ssh-user": { type: "string" },
  "ssh-key-file": { type: "string" },
  "connect-timeout": { type: "string" },
  "command-timeout": { type: "string" },
} as const;

/** Settings from parsed flags. */
export function sshFromFlags(v: Record<string, unknown>): SshSettings {
  const s = (k: string): string | undefined => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const out: Record<string, string> = {};
  if (s("ssh-user") !== undefined) out.user = s("ssh-user")!;
  if (s("ssh-key-file") !== undefined) out.privateKeyFile = s("ssh-key-file")!;
  if (s("connect-timeout") !== undefined) out.connectTimeout = s("connect-timeout")!;
  if (s("command-timeout") !== undefined) out.commandTimeout = s("command-timeout")!;
  return out;
}

/**
 * Client options from settings, the first given winning: flags, then the manifest, then
 * $BHYVE_SSH_KEY_FILE / $SSH_AUTH_SOCK. Throws a UserError naming the setting at fault.
 */
export function clientOptions(...layers: SshSettings[]): ClientOptions {
  const pick = <K extends keyof SshSettings>(k: K): SshSettings[K] => layers.find((l) => l[k] !== undefined)?.[k];
  const keyFile = pick("privateKeyFile") ?? process.env.BHYVE_SSH_KEY_FILE;
  let privateKey: string | undefined;
  if (keyFile) {
    try {
      privateKey = readFileSync(keyFile, "utf8");
    } catch (err) {
      throw new UserError(`cannot read the SSH key ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "E_SSH_KEY");
    }
  }
  const agentSocket = privateKey ? undefined : process.env.SSH_AUTH_SOCK;
  if (!privateKey && !agentSocket) throw new UserError("no SSH credentials: pass --ssh-key-file, set BHYVE_SSH_KEY_FILE, or run an ssh-agent (SSH_AUTH_SOCK)", "E_SSH_KEY");
  const connect = parseDuration(pick("connectTimeout") ?? "15s");
  const command = parseDuration(pick("commandTimeout") ?? "10m");
  if (connect === null || connect <= 0) throw new UserError(`connect timeout "${pick("connectTimeout")}" is not a duration such as 15s`, "E_USAGE", 64);
  if (command === null || command <= 0) throw new UserError(`command timeout "${pick("commandTimeout")}" is not a duration such as 10m`, "E_USAGE", 64);
  return {
    auth: { user: pick("user") ?? "root", ...(privateKey ? { privateKey } : {}), ...(agentSocket ? { agentSocket } : {}) },
    connectTimeoutMs: connect,
    commandTimeoutMs: command,
  };
}

/** Checks a --host-key value: a SHA256 fingerprint, read on the host's console. */
export function requireHostKey(value: string): string {
  if (!HOST_KEY.test(value)) throw new UserError(`--host-key must be a SHA256:... fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host's console), not "${value}"`, "E_USAGE", 64);
  return value;
}
