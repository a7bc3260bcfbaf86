/**
 * Each host's desired-state document, written at synth next to the stack's cdk.tf.json
 * (`cdktf.out/stacks/STACK/bhyve/HOST.json`), with a manifest (`bhyve/hosts.json`) that says how
 * to reach each host. Push mode applies these files; `cdktf-bhyve status` and `drift` read them in
 * either mode, so a fleet can be checked without Terraform state. No secret is written: SSH keys
 * appear only as the path of a key file.
 */
import { App, Aspects, TerraformStack, type IAspect } from "cdktf";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IConstruct } from "constructs";
import { documentHash, toDocument } from "../../../agent/model/canonical.js";
import type { DesiredState } from "../../../agent/model/types.js";
import { pushModeOf, sshOf } from "./mode.js";
import type { BhyveHost } from "./host.js";

/** Directory of the documents, relative to the stack's working directory. */
export const DOCUMENTS_DIR = "bhyve";
/** The manifest's file name inside {@link DOCUMENTS_DIR}. */
export const MANIFEST_FILE = "hosts.json";
/** Version of the manifest's shape. */
export const MANIFEST_FORMAT = 1;

/** One host in the manifest. */
export interface ManifestHost {
  /** The host's construct path inside the stack, e.g. `gpu1`. */
  readonly id: string;
  readonly address: string;
  readonly host_key: string;
  /** The document, relative to the stack's working directory. */
  readonly document: string;
  /** {@link documentHash} of the document. */
  readonly sha256: string;
  /** Items whose values are known only at apply, so they are not in the document. */
  readonly left_out: string[];
}

/** `bhyve/hosts.json`. */
export interface Manifest {
  readonly format: number;
  readonly stack: string;
  readonly mode: "provider" | "push";
  readonly ssh: { user?: string; private_key_file?: string; connect_timeout?: string; command_timeout?: string };
  readonly hosts: ManifestHost[];
}

/** The host's id inside its stack: its construct path below the stack, `/` turned into `-`. */
export function hostId(host: BhyveHost): string {
  const stack = TerraformStack.of(host);
  const scopes = host.node.scopes;
  return scopes.slice(scopes.indexOf(stack) + 1).map((s) => s.node.id.replace(/[^A-Za-z0-9_.-]/g, "_")).join("-");
}

/** The document's path relative to the stack's working directory. */
export function documentFile(host: BhyveHost): string {
  return `${DOCUMENTS_DIR}/${hostId(host)}.json`;
}

/** The checked state of a host's document, or null while it has problems (synth fails on them). */
export function hostState(host: BhyveHost): DesiredState | null {
  const r = host.check();
  return r.ok ? r.state : null;
}

/** The manifest entry and canonical document of a valid host. */
function entry(host: BhyveHost): { host: ManifestHost; document: Record<string, unknown> } | null {
  const state = hostState(host);
  if (!state) return null;
  const leftOut = [
    ...host.devices.filter((d) => !d.concrete).map((d) => `ppt: ${d.node.path}`),
    ...host.guests.filter((g) => !g.concrete).map((g) => `guest: ${g.node.path}`),
  ];
  return {
    host: { id: hostId(host), address: host.address, host_key: host.hostKey, document: documentFile(host), sha256: documentHash(state), left_out: leftOut },
    document: toDocument(state),
  };
}

/** The manifest and documents of a stack's hosts (invalid hosts are left out: synth fails on them). */
export function stackDocuments(stack: TerraformStack, hosts: readonly BhyveHost[]): { manifest: Manifest; documents: Map<string, Record<string, unknown>> } {
  const s = sshOf(stack);
  const documents = new Map<string, Record<string, unknown>>();
  const entries: ManifestHost[] = [];
  for (const h of hosts) {
    const e = entry(h);
    if (!e) continue;
    entries.push(e.host);
    documents.set(e.host.document, e.document);
  }
  return {
    manifest: {
      format: MANIFEST_FORMAT,
      stack: stack.node.id,
      mode: pushModeOf(stack) ? "push" : "provider",
      ssh: {
        ...(s.user !== undefined ? { user: s.user } : {}),
        ...(s.privateKeyFile !== undefined ? { private_key_file: s.privateKeyFile } : {}),
        ...(s.connectTimeout !== undefined ? { connect_timeout: s.connectTimeout } : {}),
        ...(s.commandTimeout !== undefined ? { command_timeout: s.commandTimeout } : {}),
      },
      hosts: entries,
    },
    documents,
  };
}

const registered = new WeakSet<TerraformStack>();

class DocumentsAspect implements IAspect {
  constructor(private readonly app: App, private readonly stack: TerraformStack) {}

  visit(node: IConstruct): void {
    if (node !== this.stack) return;
    const hosts = this.stack.node.findAll().filter((c): c is BhyveHost => (c as { isBhyveHost?: boolean }).isBhyveHost === true);
    const { manifest, documents } = stackDocuments(this.stack, hosts);
    const dir = join(this.app.outdir, "stacks", this.stack.node.id);
    mkdirSync(join(dir, DOCUMENTS_DIR), { recursive: true });
    for (const [file, doc] of documents) writeFileSync(join(dir, file), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(join(dir, DOCUMENTS_DIR, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

/**
 * The app must be one this module's CDK library made: a cdktn App with the cdktf entry point (or
 * the other way round, or a second copy of the library) would synthesize without the documents
 * and passthru.md, or fail deep inside the library. Said at once, naming the entry point to use.
 */
export function assertOwnApp(host: IConstruct, app: unknown): asserts app is App {
  if (app instanceof App) return;
  throw new Error(`[${host.node.path}] the app (${App.isApp(app) ? "an App of another copy or flavour of the CDK library" : "not an App"}) was not made by the library these constructs use: in a CDK Terrain app (cdktn) import them from "cdktf-bhyve/cdktn", in a CDKTF app from "cdktf-bhyve", and keep one copy of the library`);
}

/** Makes the host's stack write its documents and manifest when it synthesizes (once per stack). */
export function attachDocuments(host: BhyveHost): void {
  const app = App.of(host);
  const stack = TerraformStack.of(host);
  if (registered.has(stack)) return;
  assertOwnApp(host, app);
  registered.add(stack);
  Aspects.of(stack).add(new DocumentsAspect(app, stack));
}
