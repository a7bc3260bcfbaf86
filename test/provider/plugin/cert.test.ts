import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { makeTlsIdentity } from "../../../provider/plugin/cert.js";

test("the AutoMTLS certificate: self-signed P-256, CA, localhost, server and client auth, valid now", () => {
  const now = new Date("2030-06-01T00:00:00Z");
  const id = makeTlsIdentity(now);
  const x = new X509Certificate(id.certDer);
  assert.ok(x.verify(x.publicKey), "self-signed");
  assert.equal(x.ca, true);
  assert.equal(x.checkHost("localhost"), "localhost");
  assert.equal(x.checkIP("127.0.0.1"), "127.0.0.1");
  assert.deepEqual(x.keyUsage, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  assert.ok(new Date(x.validFrom) <= now && new Date(x.validTo) > new Date("2059-01-01"));
  assert.match(id.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(id.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.notEqual(makeTlsIdentity().certPem, id.certPem, "a new key each start");
});
