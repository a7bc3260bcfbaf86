/**
 * The desired-state document as text: YAML 1.2 (JSON is a subset) with snake_case keys, and the
 * way back from the model to that shape.
 */
import { createHash } from "node:crypto";
import { parseDocument } from "yaml";
import { formatBsf } from "./pci-address.js";
import type { Problem } from "./problems.js";
import { formatSize } from "./size.js";
import type { DesiredState } from "./types.js";
import { checkDocumentData, type CheckResult } from "./validate.js";
import type { HostContext } from "./types.js";

/** Largest document accepted, so that a request cannot make the agent parse without bound. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Parses YAML or JSON text into plain data, or the problems that stop it (with line and column). */
export function parseDocumentText(text: string): { ok: true; data: unknown } | { ok: false; problems: Problem[] } {
  if (Buffer.byteLength(text, "utf8") > MAX_DOCUMENT_BYTES) {
    return { ok: false, problems: [{ path: "document", message: `is larger than ${MAX_DOCUMENT_BYTES} bytes` }] };
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "document",
        message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      })),
    };
  }
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { ok: false, problems: [{ path: "document", message: (err as Error).message }] };
  }
}

/** Parses and validates a document's text. */
export function checkDocumentText(text: string, ctx: HostContext = {}): CheckResult {
  const parsed = parseDocumentText(text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  return checkDocumentData(parsed.data, ctx);
}

/** The canonical document for a state: every field written out, defaults included. */
export function toDocument(state: DesiredState): Record<string, unknown> {
  return {
    host: {
      vmm_load: state.host.vmmLoad,
      amdvi_enable: state.host.amdviEnable,
      require_iommu: state.host.requireIommu,
      require_nested_paging: state.host.requireNestedPaging,
    },
    ppt: state.ppt.map((p) => ({
      device: formatBsf(p.device),
      ...(p.vendorId !== undefined ? { vendor_id: p.vendorId } : {}),
      ...(p.deviceId !== undefined ? { device_id: p.deviceId } : {}),
      bind: p.bind,
    })),
    guests: state.guests.map((g) => ({
      name: g.name,
      cpus: g.cpus,
      memory: formatSize(g.memory),
      ...(g.bootrom !== undefined ? { bootrom: g.bootrom } : {}),
      wired: g.wired,
      disks: g.disks.map((d) => ({ path: d.path, type: d.type, ...(d.slot !== undefined ? { slot: d.slot } : {}) })),
      nics: g.nics.map((n) => ({
        tap: n.tap,
        model: n.model,
        ...(n.mac !== undefined ? { mac: n.mac } : {}),
        ...(n.slot !== undefined ? { slot: n.slot } : {}),
      })),
      passthru: g.passthru.map((p) => ({
        device: formatBsf(p.device),
        slot: p.slot,
        function: p.function,
        ...(p.rom !== undefined ? { rom: p.rom } : {}),
      })),
      state: g.state,
      restart: g.restart,
      start_order: g.startOrder,
    })),
  };
}

/**
 * The content hash of a state: SHA-256 (hex) of its canonical document as JSON. Two documents that
 * mean the same (defaults written out or not, `3/0/0` or `pci0:3:0:0`) hash the same.
 */
export function documentHash(state: DesiredState): string {
  return createHash("sha256").update(JSON.stringify(toDocument(state))).digest("hex");
}
