import assert from "node:assert/strict";
import { test } from "node:test";
import ssh2 from "ssh2";
import { ed25519KeyPair } from "../../sandbox/ssh-keys.js";

test("ed25519KeyPair: every pair is readable, also across the 1-in-256 case ssh2 gets wrong", () => {
  // 1500 pairs meet ssh2's defect about six times; none may come back unreadable.
  for (let i = 0; i < 1500; i++) {
    const kp = ed25519KeyPair();
    const pub = ssh2.utils.parseKey(kp.public);
    assert.ok(!(pub instanceof Error), `pair ${i}: ${(pub as Error).message}`);
    assert.equal((Array.isArray(pub) ? pub[0]! : pub).getPublicSSH().length, 51, "ssh-ed25519 blob: 4+11+4+32 bytes");
  }
});
