import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { attributeExample, providerDocs, undocumented } from "../../../provider/plugin/docs.js";
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

test("every example block names only attributes and blocks its schema has, with values of their types, and every required one", () => {
  const schemas: Record<string, BlockDef> = {
    ...Object.fromEntries(Object.entries(provider.resources).map(([n, r]) => [`resource ${n}`, r.schema])),
    ...Object.fromEntries(Object.entries(provider.dataSources).map(([n, d]) => [`data ${n}`, d.schema])),
    "provider bhyve": provider.schema,
    import: { description: "import", attributes: { to: { type: "string", required: true, description: "to" }, id: { type: "string", required: true, description: "id" } } },
  };
  // A value as an example writes it: a quoted string, a heredoc, a number, a bool, a reference or a function call.
  const kind = (v: string): string => (/^"/.test(v) || /^<</.test(v) ? "string" : /^\d+$/.test(v) ? "number" : /^(true|false)$/.test(v) ? "bool" : /^[a-z_]+\(/.test(v) ? "call" : /^[a-z_][\w.-]*$/.test(v) ? "reference" : "other");
  let blocks = 0;
  for (const [page, text] of Object.entries(docs)) {
    for (const [, hcl] of text.matchAll(/```terraform\n([\s\S]*?)```/g)) {
      const stack: Array<{ b: BlockDef; seen: Set<string>; where: string }> = [];
      let skipDepth = 0;
      const close = (): void => {
        const top = stack.pop()!;
        for (const [n, a] of Object.entries(top.b.attributes)) if (a.required) assert.ok(top.seen.has(n), `${page}: ${top.where} lacks the required ${n}`);
      };
      for (const line of hcl!.split("\n")) {
        const t = line.trim();
        if (t === "" || t.startsWith("#")) continue;
        if (skipDepth > 0) {
          if (t.endsWith("{")) skipDepth++;
          if (t === "}") skipDepth--;
          continue;
        }
        const open = /^(resource|data|provider) "([^"]+)"(?: "[^"]+")? \{$/.exec(t) ?? (/^import \{$/.test(t) ? [t, "import", ""] : null);
        if (open) {
          const b = schemas[open[1] === "import" ? "import" : `${open[1]} ${open[2]}`];
          assert.ok(b, `${page}: ${t} is not a block of this provider`);
          stack.push({ b: b!, seen: new Set(), where: t });
          blocks++;
          continue;
        }
        const top = stack.at(-1);
        assert.ok(top, `${page}: ${t} outside a block`);
        const nested = /^(\w+) \{$/.exec(t);
        const attr = /^(\w+)\s*=\s*(.*)$/.exec(t);
        if (nested) {
          const nb = top!.b.blocks?.[nested[1]!];
          assert.ok(nb, `${page}: block ${nested[1]} is not in ${top!.where}`);
          stack.push({ b: nb!.block, seen: new Set(), where: nested[1]! });
        } else if (attr) {
          const a = top!.b.attributes[attr[1]!];
          assert.ok(a, `${page}: ${attr[1]} is not an attribute of ${top!.where}`);
          top!.seen.add(attr[1]!);
          const v = attr[2]!;
          if (v === "{") {
            skipDepth = 1;
            assert.ok(Array.isArray(a!.type) && a!.type[0] === "map", `${page}: ${attr[1]} is not a map`);
            continue;
          }
          const k = kind(v);
          const want = typeof a!.type === "string" ? a!.type : "collection";
          assert.ok(k === "reference" || k === "call" || k === want, `${page}: ${attr[1]} = ${v} is a ${k}, the schema's type is ${want}`);
        } else if (t === "}") close();
        else assert.fail(`${page}: cannot read the example line ${t}`);
      }
      assert.equal(stack.length, 0, `${page}: an example block is not closed`);
    }
  }
  assert.ok(blocks >= 10, `examples and import blocks read: ${blocks}`);
});

test("every attribute has an example value of its type, written on its line", () => {
  const missing: string[] = [];
  const walk = (where: string, b: BlockDef, page: string): void => {
    for (const [n, a] of Object.entries(b.attributes)) {
      const ex = attributeExample(`${where}.${n}`);
      if (ex === undefined) {
        missing.push(`${where}.${n}`);
        continue;
      }
      const t = a.type;
      const ok = typeof t !== "string" ? /^[[{]/.test(ex) || /^[a-z_]+\(/.test(ex) : t === "string" ? /^"/.test(ex) || /^[a-z_]+\(/.test(ex) : t === "number" ? /^\d+$/.test(ex) : t === "bool" ? /^(true|false)$/.test(ex) : true;
      assert.ok(ok, `${where}.${n}: the example ${ex} is not a ${JSON.stringify(t)}`);
      assert.ok(docs[page]!.includes(`Example: \`${n} = ${ex}\``), `${where}.${n}: its example is on its line in ${page}`);
    }
    for (const [n, nb] of Object.entries(b.blocks ?? {})) walk(`${where}.${n}`, nb.block, page);
  };
  walk("provider", provider.schema, "index.md");
  for (const [n, r] of Object.entries(provider.resources)) walk(n, r.schema, `resources/${n.replace(/^bhyve_/, "")}.md`);
  for (const [n, d] of Object.entries(provider.dataSources)) walk(n, d.schema, `data-sources/${n.replace(/^bhyve_/, "")}.md`);
  assert.deepEqual(missing, []);
});
