/**
 * A guest's identity on its host: the SMBIOS system UUID bhyve presents (`-U`), and its UEFI
 * variables (boot entries), a copy of the firmware's template made at its first start. A UUID given
 * in the document is the guest's; otherwise the agent makes one the first time it configures the guest
 * (a random, version 4 UUID) and keeps it in the guest's own directory (guests/NAME/uuid under the
 * agent's database directory), so that it stays the same across restarts, re-applies, argv
 * changes and reboots, and goes with the guest when the guest is deleted.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../host/files.js";
import type { HostPaths } from "../host/paths.js";
import { FIRST_VNC_PORT, UUID } from "../model/decode.js";
import { AgentError } from "../model/errors.js";
import type { DesiredState, Framebuffer, Guest } from "../model/types.js";
import { framebufferOf, uefiVarsPath, uefiVarsTemplate } from "../model/render.js";
import { resolveHostPath } from "../host/resolve-path.js";

const uuidFile = (paths: HostPaths, name: string): string => join(paths.guestSpecDir(name), "uuid");

/** The UUID the agent keeps for a guest, or null (none made yet, or the file is not one). */
export function storedUuid(paths: HostPaths, name: string): string | null {
  const file = uuidFile(paths, name);
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8").trim().toLowerCase();
  return UUID.test(text) ? text : null;
}

/**
 * The UUID a guest runs with: the document's, else the kept one, else the one its bhyve runs with
 * now (`running`: the kept file was lost, and the guest keeps its identity), made and kept now when
 * there is none. A document UUID is kept too, so that dropping it later from the document keeps
 * the guest's identity instead of making a new one.
 */
export function ensureUuid(paths: HostPaths, guest: Guest, running: () => readonly string[] | null = () => null): string {
  const kept = storedUuid(paths, guest.name);
  const uuid = guest.uuid ?? kept ?? runningUuid(running()) ?? randomUUID();
  if (uuid !== kept) {
    // The guest's directory as writeMonitorSpec makes it: only root reads it.
    mkdirSync(paths.guestSpecDir(guest.name), { recursive: true, mode: 0o700 });
    writeFileAtomic(uuidFile(paths, guest.name), `${uuid}\n`, 0o644);
  }
  return uuid;
}

/** The `-U` of a command line, when it is a UUID (in lower case, as the agent keeps one; bhyve reads either). */
export function runningUuid(argv: readonly string[] | null): string | null {
  const i = argv ? argv.indexOf("-U") : -1;
  const v = i >= 0 ? argv![i + 1]?.toLowerCase() : undefined;
  return v !== undefined && UUID.test(v) ? v : null;
}

/** Variables files larger than this are not firmware templates (bhyve takes at most 16 MiB). */
const MAX_VARS_BYTES = 16 * 2 ** 20;

/** Whether the guest keeps UEFI variables, and whether its file is there (null: it keeps none). */
export function uefiVarsPresent(paths: HostPaths, guest: Guest): boolean | null {
  if (!guest.bootrom || !guest.uefiVars) return null;
  return existsSync(paths.at(uefiVarsPath(guest.name)));
}

/**
 * Makes the guest's UEFI variables file from the template beside its bootrom when it has none (its
 * first start, or the file was removed); an existing one is never touched. Returns whether it made
 * one. Refuses (E_NO_VARS_TEMPLATE) when the template cannot be found as the host sees it.
 */
export function ensureUefiVars(paths: HostPaths, guest: Guest): boolean {
  if (uefiVarsPresent(paths, guest) !== false) return false;
  const template = uefiVarsTemplate(guest.bootrom!);
  const r = resolveHostPath(paths, template);
  const why = !r.ok ? r.reason : !r.stat ? "it does not exist" : !r.stat.isFile() ? "it is not a regular file" : r.stat.size > MAX_VARS_BYTES ? `it is ${r.stat.size} bytes, more than bhyve takes (16 MiB)` : null;
  if (why !== null) {
    throw new AgentError(`guest ${guest.name} keeps its UEFI variables in a copy of ${template}, which cannot be used (${why}); install edk2-bhyve (it puts BHYVE_UEFI_VARS.fd beside the firmware) or set uefi_vars: false`, "E_NO_VARS_TEMPLATE");
  }
  const data = readFileSync(paths.at((r as { path: string }).path));
  mkdirSync(paths.guestSpecDir(guest.name), { recursive: true, mode: 0o700 });
  writeFileAtomic(paths.at(uefiVarsPath(guest.name)), data, 0o600);
  return true;
}

const portFile = (paths: HostPaths, name: string): string => join(paths.guestSpecDir(name), "vnc-port");

/** The framebuffer port the agent keeps for a guest, or null (none allocated yet, or the file is not one). */
export function storedVncPort(paths: HostPaths, name: string): number | null {
  let text: string;
  try {
    text = readFileSync(portFile(paths, name), "utf8").trim();
  } catch {
    return null; // none, or removed with its guest a moment ago
  }
  return /^\d{4,5}$/.test(text) && Number(text) >= 1024 && Number(text) <= 65535 ? Number(text) : null;
}

/**
 * The framebuffer a guest runs with, its port settled: the document's port, else the one kept
 * for the guest, else the lowest of `range` (the policy's framebuffer_ports) that no other guest of the host has (in the
 * document or kept in its directory, `others` naming the guests with directories), kept now. A
 * kept port another guest's document has since claimed is given up for a free one. Undefined
 * for a guest without a framebuffer; with the kept file lost, the port its running bhyve has is
 * kept again. Called with the host lock held (converge), or for a guest
 * whose port is already kept (autostart), so two allocations do not race.
 */
export function ensureVncPort(paths: HostPaths, guest: Guest, desired: DesiredState, others: readonly string[], running: () => readonly string[] | null = () => null, range: readonly [number, number] = [FIRST_VNC_PORT, FIRST_VNC_PORT + 99]): Framebuffer | undefined {
  const fb = guest.framebuffer;
  if (fb === undefined) return undefined;
  // A lost port file: the port the guest's bhyve serves now, when it runs with one.
  const stored = storedVncPort(paths, guest.name);
  const inRange = (p: number | null): p is number => p !== null && p >= range[0] && p <= range[1];
  const runs = inRange(stored) ? null : (framebufferOf(running() ?? [])?.port ?? null);
  const kept = inRange(stored) ? stored : inRange(runs) ? runs : null;
  let port = fb.port;
  if (port === undefined) {
    const taken = new Set<number>();
    for (const o of desired.guests) {
      if (o.name === guest.name || o.framebuffer === undefined) continue;
      const p = o.framebuffer.port ?? storedVncPort(paths, o.name);
      if (p !== null) taken.add(p);
    }
    // Guests with a directory that the document no longer has (being deleted): their kept ports.
    const inDocument = new Set(desired.guests.map((g) => g.name));
    for (const name of others) {
      if (inDocument.has(name)) continue;
      const p = storedVncPort(paths, name);
      if (p !== null) taken.add(p);
    }
    port = kept !== null && !taken.has(kept) ? kept : range[0];
    while (taken.has(port)) port++;
    if (port > range[1]) throw new AgentError(`no free port in ${range[0]}-${range[1]} (policy framebuffer_ports) for guest ${guest.name}'s framebuffer`, "E_NO_PORT");
  }
  if (port !== stored) {
    mkdirSync(paths.guestSpecDir(guest.name), { recursive: true, mode: 0o700 });
    writeFileAtomic(portFile(paths, guest.name), `${port}\n`, 0o644);
  }
  return { ...fb, port };
}
