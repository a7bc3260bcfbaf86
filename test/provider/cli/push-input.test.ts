import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pushCommand } from "../../../provider/cli/push.js";
import { runBin } from "../../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "bhyve-push-input-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = `SHA256:${"A".repeat(43)}`;
// Nothing listens on port 9 of this address; the document is refused before any connection is tried.
const ADDRESS = "127.0.0.1:9";

test("push refuses a blank document before connecting, with E_EMPTY_DOCUMENT", async () => {
  for (const [name, text] of [["empty.yaml", ""], ["comments.yaml", "# guests: []\n"], ["null.json", "null"], ["map.json", "{}"]] as const) {
    const doc = join(dir, name);
    writeFileSync(doc, text);
    await assert.rejects(pushCommand(["--doc", doc, "--address", ADDRESS, "--host-key", KEY]), (err: { code?: string; message?: string }) =>
      err.code === "E_EMPTY_DOCUMENT" && err.message === `${doc} is not a valid desired-state document; nothing was sent to ${ADDRESS}:\n` +
        "document: is empty, so applying it would remove every guest and reservation the host has; to ask for a host with no guests, write an explicit `guests: []`");
  }
  const r = runBin("cdktf-bhyve", ["push", "--doc", join(dir, "empty.yaml"), "--address", ADDRESS, "--host-key", KEY]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nothing was sent to 127\.0\.0\.1:9:\ndocument: is empty/);
});

test("push reads its document as the agent does: regular files only, bounded, UTF-8", async () => {
  await assert.rejects(pushCommand(["--doc", "/dev/zero", "--address", ADDRESS, "--host-key", KEY]), { code: "E_NOT_REGULAR" });
  const latin1 = join(dir, "latin1.yaml");
  writeFileSync(latin1, Buffer.from([0x67, 0x75, 0x65, 0x73, 0x74, 0x73, 0x3a, 0x20, 0x5b, 0x5d, 0x20, 0x23, 0xe9, 0x0a]));
  await assert.rejects(pushCommand(["--doc", latin1, "--address", ADDRESS, "--host-key", KEY]), { code: "E_ENCODING" });
  await assert.rejects(pushCommand(["--doc", join(dir, "missing.yaml"), "--address", ADDRESS, "--host-key", KEY]), { code: "E_READ" });
  const deep = join(dir, "deep.json");
  writeFileSync(deep, `{"guests": ${"[".repeat(5000)}${"]".repeat(5000)}}`);
  await assert.rejects(pushCommand(["--doc", deep, "--address", ADDRESS, "--host-key", KEY]), { code: "E_TOO_DEEP" });
});
