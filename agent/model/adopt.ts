/**
 * Whether a VM that runs a given bhyve command line can be declared as a guest of the model, and
 * with which document: the command line read back into a guest document, that document checked by
 * the model, its rendering compared with what runs. Only a guest that renders to the same machine
 * can be adopted without a restart. Pure code.
 */
import { guestFromMachine, machineDifferences, parseBhyveArgv, type CompareOptions } from "./bhyve-argv.js";
import { formatProblems } from "./problems.js";
import { renderBhyveArgv } from "./render.js";
import { checkGuestAlone } from "./validate.js";
import type { Guest } from "./types.js";

export interface AdoptionProposal {
  /** The guest document the command line reads as (null when it does not parse). */
  readonly document: Record<string, unknown> | null;
  /** Why it cannot be adopted as it runs; empty: it can. */
  readonly unsupported: string[];
}

/** The guest document for a running command line, and what stands in the way of adopting it. */
export function proposeGuest(argv: readonly string[], o: CompareOptions): AdoptionProposal {
  const parsed = parseBhyveArgv(argv);
  if (!parsed.ok) return { document: null, unsupported: [`its command line does not read as bhyve's: ${parsed.reason}`] };
  const r = guestFromMachine(parsed.machine, o);
  if (r.unsupported.length) return r;
  const check = checkGuestAlone(r.document);
  if (!check.ok) return { document: r.document, unsupported: [`the guest it reads as does not pass the model: ${formatProblems(check.problems)}`] };
  return { document: r.document, unsupported: renderingDifferences(argv, check.guest, o) };
}

/** What differs between a running command line and a guest's rendering, in words (empty: the same machine). */
export function renderingDifferences(running: readonly string[], guest: Guest, o: CompareOptions): string[] {
  const r = parseBhyveArgv(running);
  if (!r.ok) return [`its command line does not read as bhyve's: ${r.reason}`];
  const w = parseBhyveArgv(renderBhyveArgv(guest));
  if (!w.ok) return [`the guest's own command line does not read back: ${w.reason}`];
  return machineDifferences(r.machine, w.machine, o);
}
