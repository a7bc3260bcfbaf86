import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { providerDocs, undocumented } from "../../../provider/plugin/docs.js";
import type { BlockDef } from "../../../provider/plugin/schema.js";
import { bhyveProvider } from "../../../provider/resources/provider.js";
import { repoPath } from "../../support/helpers.js";

const provider = bhyveProvider();
const docs = providerDocs(provider);

test("every attribute and block of the provider, its resources and data sources has a description", () => {
  assert.deepEqual(undocumented(provider), []);
  const broken = { ...provider, resources: { ...provider.resources, bhyve_x: { ...provider.resources.bhyve_host!, schema: { description: "x", attributes: { a: { type: "string" as const, optional: true, description: " " } } } } } };
  assert.deepEqual(undocumented(broken), ["bhyve_x.a"], "the check finds an attribute without one");
});

test("docs/ is what the schema says (run cdktf-bhyve gen-docs after a schema change)", () => {
  const files = (dir: string, base = ""): string[] => readdirSync(join(dir, base), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(dir, join(base, e.name)) : [join(base, e.name)]));
  const committed = files(repoPath("docs")).sort();
  assert.deepEqual(committed, Object.keys(docs).sort(), "the registry layout: index.md, resources/*.md, data-sources/*.md");
  for (const rel of committed) assert.equal(readFileSync(repoPath(join("docs", rel)), "utf8"), docs[rel], `docs/${rel} is stale`);
});

test("each page names every attribute with its type and kind; defaults, replacement and import are written", () => {
  const check = (text: string, b: BlockDef, where: string): void => {
    for (const [n, a] of Object.entries(b.attributes)) {
      assert.match(text, new RegExp(`- \`${n}\` \\((String|Number|Boolean|List of \\w+|Map of \\w+|Object)`), `${where}.${n}`);
      if (a.default !== undefined) assert.ok(text.includes(`- \`${n}\` (`) && text.includes(`Default: \`${JSON.stringify(a.default)}\``), `${where}.${n} default`);
    }
    for (const [n, nb] of Object.entries(b.blocks ?? {})) {
      assert.ok(text.includes(`Nested Schema for \`${n}\``) || text.includes(`.${n}\``), `${where}.${n} nested schema`);
      check(text, nb.block, `${where}.${n}`);
    }
  };
  for (const [name, r] of Object.entries(provider.resources)) {
    const text = docs[`resources/${name.replace(/^bhyve_/, "")}.md`]!;
    check(text, r.schema, name);
    assert.match(text, /## Import\n/);
    assert.match(text, new RegExp(`import \\{\\n  to = ${name}\\.example\\n  id = "[^"]+"\\n\\}`));
  }
  assert.match(docs["resources/guest.md"]!, /- `name` \(String, Forces replacement\)/);
  check(docs["index.md"]!, provider.schema, "provider");
  assert.match(docs["index.md"]!, /- `ssh_private_key` \(String, Sensitive\)/);
});

test("the examples use only attributes and blocks the schema has", () => {
  for (const [name, r] of [...Object.entries(provider.resources), ...Object.entries(provider.dataSources)]) {
    const text = docs[`${name in provider.resources ? "resources" : "data-sources"}/${name.replace(/^bhyve_/, "")}.md`]!;
    const hcl = /```terraform\n([\s\S]*?)```/.exec(text)![1]!;
    // Walk the example's lines with the schema: `key =` an attribute of the block we are in, `key {` one of its blocks.
    const stack: BlockDef[] = [];
    for (const line of hcl.split("\n")) {
      const open = /^\s*(?:resource|data) "[^"]+" "[^"]+" \{$/.exec(line);
      const block = /^\s*(\w+) \{$/.exec(line);
      const attr = /^\s*(\w+)\s*=/.exec(line);
      if (open) stack.push(r.schema);
      else if (block) {
        const nb = stack.at(-1)!.blocks?.[block[1]!];
        assert.ok(nb, `${name}: block ${block[1]} is not in the schema`);
        stack.push(nb.block);
      } else if (attr) assert.ok(stack.at(-1)!.attributes[attr[1]!], `${name}: ${attr[1]} is not an attribute here`);
      else if (/^\s*\}$/.test(line)) stack.pop();
    }
  }
});
