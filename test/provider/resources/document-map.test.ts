/**
 * The schema-driven mapper between Terraform values, the agent's document and the constructs' L1
 * properties: the guest's fields go through it both ways, and a new field needs only its schema
 * entry (besides the model), which the last tests show and keep true.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { guestToDocument } from "../../../agent/model/canonical.js";
import { checkGuestAlone } from "../../../agent/model/validate.js";
import type { BlockDef } from "../../../provider/plugin/schema.js";
import { UNKNOWN } from "../../../provider/plugin/unknown.js";
import { attributePathOf, documentOfProps, fromDocumentForm, l1Properties, toDocumentForm, withDefaults } from "../../../provider/resources/document-map.js";
import { GUEST_SCHEMA } from "../../../provider/resources/guest-schema.js";
import { repoPath } from "../../support/helpers.js";

/** A configuration value as Terraform sends it: every attribute present, null when not set. */
const config = {
  id: null, address: "10.0.0.5", host_key: "SHA256:x", name: "ml1", cpus: 8, memory: "32768M", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd",
  state: null, restart: "always", start_order: null, command_line: null, argv: null, status: null, restarts: null,
  disk: [{ path: "/dev/zvol/zroot/vm/ml1", type: null, slot: null }],
  nic: [{ tap: "tap0", model: "e1000", mac: "58:9C:FC:00:00:01", slot: 20 }],
  passthru: [{ device: "pci0:3:0:0", slot: 6, function: null, rom: null }],
};

describe("the guest through the schema's document mapper", () => {
  test("configuration to document: known values under the document's keys, blocks as its lists", () => {
    const doc = toDocumentForm(GUEST_SCHEMA, config);
    assert.deepEqual(doc, {
      name: "ml1", cpus: 8, memory: "32768M", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", restart: "always",
      disks: [{ path: "/dev/zvol/zroot/vm/ml1" }],
      nics: [{ tap: "tap0", model: "e1000", mac: "58:9C:FC:00:00:01", slot: 20 }],
      cpu_pinning: [],
      passthru: [{ device: "pci0:3:0:0", slot: 6 }],
    });
    assert.equal(checkGuestAlone(doc).ok, true, "the model takes it");
    assert.equal("cpus" in toDocumentForm(GUEST_SCHEMA, { ...config, cpus: UNKNOWN }), false, "an unknown value is left out");
  });

  test("document to state: the agent's canonical values, the configuration's spelling kept where it means the same", () => {
    const r = checkGuestAlone(toDocumentForm(GUEST_SCHEMA, config));
    assert.ok(r.ok);
    const state = fromDocumentForm(GUEST_SCHEMA, guestToDocument(r.guest), config);
    assert.deepEqual(state, {
      name: "ml1", cpus: 8, memory: "32768M", bootrom: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", state: "running", restart: "always", start_order: 0,
      disk: [{ path: "/dev/zvol/zroot/vm/ml1", zvol: null, file: null, size: null, sparse: null, volblocksize: null, clone: null, on_delete: null, type: "virtio-blk", slot: null, function: null, bootindex: null }],
      nic: [{ switch: null, tap: "tap0", model: "e1000", mac: "58:9C:FC:00:00:01", slot: 20, function: null }],
      passthru: [{ device: "pci0:3:0:0", slot: 6, function: 0, rom: null, bootindex: null }],
      // Fields the canonical document leaves out at their defaults read as those defaults.
      rtc: "utc", ignore_unknown_msrs: false, hostbridge: "standard", exit_on_pause: true, adopt: false, sockets: null, cores: null, threads: null, uuid: null, uefi_vars: null, cpu_pin: [],
      console: true, framebuffer: [], cloud_init: [],
    });
    const plain = fromDocumentForm(GUEST_SCHEMA, guestToDocument(r.guest));
    assert.deepEqual([plain.memory, (plain.nic as Array<{ mac: string }>)[0]!.mac, (plain.passthru as Array<{ device: string }>)[0]!.device], ["32G", "58:9c:fc:00:00:01", "3/0/0"], "without a prior value: the agent's form");
  });

  test("plan defaults come from the model's DEFAULTS, from the configuration, not from the proposal", () => {
    const proposed = { ...config, state: "stopped", restart: "never", start_order: 5, disk: [{ path: "/dev/zvol/zroot/vm/ml1", type: "nvme", slot: null }] };
    const planned = withDefaults(GUEST_SCHEMA, config, proposed);
    assert.deepEqual([planned.state, planned.restart, planned.start_order], ["running", "always", 0]);
    assert.deepEqual(planned.disk, [{ path: "/dev/zvol/zroot/vm/ml1", type: "virtio-blk", slot: null }]);
    assert.deepEqual((planned.nic as Array<{ model: string }>)[0]!.model, "e1000");
  });

  test("a problem's document path is the attribute path", () => {
    assert.deepEqual(attributePathOf(GUEST_SCHEMA, ["disks", 1, "path"]), ["disk", 1, "path"]);
    assert.deepEqual(attributePathOf(GUEST_SCHEMA, ["start_order"]), ["start_order"]);
    assert.deepEqual(attributePathOf(GUEST_SCHEMA, ["passthru", 0, "function"]), ["passthru", 0, "function"]);
    assert.equal(attributePathOf(GUEST_SCHEMA, ["wired"]), undefined, "not an attribute of the schema");
  });

  test("construct properties to document to L1 properties", () => {
    const doc = documentOfProps({ host: "h", name: "web", cpus: 2, memory: 2 ** 31, startOrder: 3, disks: [{ path: "/vm/a.img", slot: 5 }], passthru: [{ device: { bsf: "4/0/1" }, slot: 7 }] }, { omit: ["host"], value: (v) => (v !== null && typeof v === "object" && "bsf" in v ? (v as { bsf: string }).bsf : v) });
    assert.deepEqual(doc, { name: "web", cpus: 2, memory: 2 ** 31, start_order: 3, disks: [{ path: "/vm/a.img", slot: 5 }], passthru: [{ device: "4/0/1", slot: 7 }] });
    assert.deepEqual(l1Properties(GUEST_SCHEMA, doc), { name: "web", cpus: 2, memory: String(2 ** 31), startOrder: 3, disk: [{ path: "/vm/a.img", slot: 5 }], nic: [], cpuPin: [], passthru: [{ device: "4/0/1", slot: 7 }] });
  });
});

describe("a new guest field is its schema entry", () => {
  // What adding a field would add to guest-schema.ts: an attribute with its document key (and a
  // default where the model has one), here one on the guest and one in a block.
  const extended: BlockDef = {
    ...GUEST_SCHEMA,
    attributes: { ...GUEST_SCHEMA.attributes, rtc: { type: "string", optional: true, computed: true, document: true, default: "utc", description: "RTC" } },
    blocks: {
      ...GUEST_SCHEMA.blocks,
      nic: { ...GUEST_SCHEMA.blocks!.nic!, block: { ...GUEST_SCHEMA.blocks!.nic!.block, attributes: { ...GUEST_SCHEMA.blocks!.nic!.block.attributes, mtu_hint: { type: "number", optional: true, document: true, description: "MTU" } } } },
    },
  };

  test("it flows through configuration, document, state, plan, problem paths and L1 properties with no other code", () => {
    const cfg = { ...config, rtc: "localtime", nic: [{ ...config.nic[0]!, mtu_hint: 9000 }] };
    const doc = toDocumentForm(extended, cfg);
    assert.equal(doc.rtc, "localtime");
    assert.equal((doc.nics as Array<Record<string, unknown>>)[0]!.mtu_hint, 9000);
    const state = fromDocumentForm(extended, { ...doc, rtc: "localtime" });
    assert.equal(state.rtc, "localtime");
    assert.equal((state.nic as Array<Record<string, unknown>>)[0]!.mtu_hint, 9000);
    assert.equal(fromDocumentForm(extended, { name: "x" }).rtc, "utc", "absent from the document: its default");
    assert.equal(fromDocumentForm(extended, { name: "x" }).bootrom, null, "absent, without a default: null");
    assert.equal(withDefaults(extended, { ...config, rtc: null }, { ...config, rtc: "localtime" }).rtc, "utc");
    assert.deepEqual(attributePathOf(extended, ["nics", 0, "mtu_hint"]), ["nic", 0, "mtu_hint"]);
    const props = l1Properties(extended, documentOfProps({ name: "web", rtc: "localtime", nics: [{ tap: "tap0", mtuHint: 9000 }] }));
    assert.deepEqual([props.rtc, (props.nic as Array<Record<string, unknown>>)[0]!.mtuHint], ["localtime", 9000]);
  });

  test("the guest resource and construct name no document field: no field has a hand-written mapping", () => {
    // Fields with logic of their own: the name (identity), the run state (read from the monitor),
    // a passthrough's function, defaulted from its device in the plan, and a switch NIC's tap,
    // computed: kept from the prior state, unknown until the agent allocates it; and the UUID, given
    // or made and kept by the agent; and uefi_vars, whose default follows the bootrom (read there);
    // and a framebuffer's port, given or allocated and kept by the agent, as the UUID; and the disks
    // the agent makes (their path computed from zvol or file, size and sparse read back from the
    // host, on_delete named in a delete's plan, volblocksize compared for the disk-drift status), and cloud-init (its instance id computed from the
    // content, which the constructs write as YAML when given as objects).
    const own = new Set(["name", "state", "passthru", "device", "function", "nic", "nics", "switch", "tap", "uuid", "uefi_vars", "bootrom", "framebuffer", "port",
      "disk", "disks", "path", "zvol", "file", "size", "sparse", "volblocksize", "clone", "on_delete", "cloud_init", "user_data", "meta_data", "network_config"]);
    const keys = new Set<string>();
    const collect = (b: BlockDef): void => {
      for (const [k, a] of Object.entries(b.attributes)) if (a.document) keys.add(k).add(a.document === true ? k : a.document);
      for (const [k, nb] of Object.entries(b.blocks ?? {})) {
        if (nb.document) keys.add(k).add(nb.document);
        collect(nb.block);
      }
    };
    collect(GUEST_SCHEMA);
    const code = (file: string, from?: string): string => {
      const text = readFileSync(repoPath(file), "utf8");
      return (from ? text.slice(text.indexOf(from)) : text).replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    };
    const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    for (const [file, from] of [["provider/resources/guest.ts", undefined], ["provider/constructs/lib/guest.ts", "export class Guest"]] as const) {
      const text = code(file, from);
      // A field named in code: read (`.memory`; a construct's `node.path` is not the disk's), as a
      // key (`{ memory:`, `, memory:`) or as a string.
      const uses = (k: string): RegExp => new RegExp(`(?<!\\bnode)\\.(${k})\\b|[{,]\\s*(${k})\\s*:|["'\`](${k})["'\`]`);
      const named = [...keys].filter((k) => !own.has(k)).filter((k) => uses(k).test(text) || uses(camel(k)).test(text));
      assert.deepEqual(named, [], `${file} maps these fields by hand`);
    }
  });
});
