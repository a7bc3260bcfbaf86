/** A typed fleet inventory: hosts, what each one is for, and its guests. */

/** What a host is for. */
export type HostRole = "gpu" | "edge" | "general";

/** One host of the fleet. */
export interface InventoryHost {
  /** Short name, used in construct ids. */
  readonly name: string;
  readonly address: string;
  readonly hostKey: string;
  readonly role: HostRole;
  /** General-purpose guests to spread over the host. */
  readonly webGuests: number;
}

/** The fleet. */
export interface Inventory {
  readonly sshPrivateKeyFile: string;
  /** SSH user on every host. Default root. */
  readonly sshUser?: string;
  /** How long to wait for a host's SSH handshake, e.g. "15s". Default 15s. */
  readonly connectTimeout?: string;
  /** "provider" (the bhyve Terraform provider) or "push" (null_resource + `cdktf-bhyve push`). Default provider. */
  readonly mode?: "provider" | "push";
  readonly hosts: readonly InventoryHost[];
}

function isHost(x: unknown): x is InventoryHost {
  const h = x as InventoryHost;
  return typeof h?.name === "string" && /^[a-z][a-z0-9-]*$/.test(h.name) && typeof h.address === "string" && typeof h.hostKey === "string"
    && ["gpu", "edge", "general"].includes(h.role) && Number.isInteger(h.webGuests) && h.webGuests >= 0;
}

/** Checks inventory data (for example read from JSON); throws naming the entry at fault. */
export function parseInventory(data: unknown): Inventory {
  const d = data as Inventory;
  if (typeof d?.sshPrivateKeyFile !== "string") throw new Error("inventory: sshPrivateKeyFile must be a string");
  if (d.sshUser !== undefined && (typeof d.sshUser !== "string" || d.sshUser === "")) throw new Error("inventory: sshUser must be a non-empty string");
  if (d.connectTimeout !== undefined && (typeof d.connectTimeout !== "string" || !/^\d+(ms|s|m|h)$/.test(d.connectTimeout))) throw new Error('inventory: connectTimeout must be a duration such as "15s"');
  if (d.mode !== undefined && d.mode !== "provider" && d.mode !== "push") throw new Error('inventory: mode must be "provider" or "push"');
  if (!Array.isArray(d.hosts) || d.hosts.length === 0) throw new Error("inventory: hosts must be a non-empty list");
  d.hosts.forEach((h, i) => {
    if (!isHost(h)) throw new Error(`inventory: hosts[${i}] needs name (lowercase), address, hostKey, role (gpu|edge|general) and webGuests (a count)`);
  });
  const names = d.hosts.map((h) => h.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`inventory: host name ${dup} is used twice`);
  return d;
}
