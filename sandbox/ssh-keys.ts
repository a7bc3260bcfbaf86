/**
 * ed25519 key pairs for sandbox hosts, the demo and the tests. ssh2's generateKeyPairSync strips
 * leading zero bytes from the public key, so about one pair in 256 carries a 31-byte key that
 * ssh2 itself then refuses ("Malformed OpenSSH private key"; mscdex/ssh2 issues #1390 and #1513).
 * Such pairs are thrown away and a new one is made; each try is independent, so the bound is
 * never reached in practice.
 */
import ssh2 from "ssh2";

const { utils } = ssh2;

/** An ed25519 key pair in OpenSSH format that ssh2 (and OpenSSH) can read. */
export function ed25519KeyPair(): { private: string; public: string } {
  for (let i = 0; i < 32; i++) {
    const kp = utils.generateKeyPairSync("ed25519");
    if (!(utils.parseKey(kp.private) instanceof Error) && !(utils.parseKey(kp.public) instanceof Error)) return kp;
  }
  throw new Error("ssh2 made 32 unreadable ed25519 key pairs in a row");
}
