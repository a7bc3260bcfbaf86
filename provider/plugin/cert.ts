/**
 * The provider's TLS identity for go-plugin's AutoMTLS: a fresh P-256 key and a self-signed
 * certificate per start, written as DER by hand on node:crypto (a full X.509 library costs
 * ~200 ms of start-up; this costs a few). The certificate has what go-plugin's own generated ones
 * have: CN/SAN localhost, CA basic constraints, digital signature + key encipherment + cert sign,
 * server and client auth, valid from a little before now for 30 years.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(value.length), value]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, "utf8"));
const explicit = (n: number, b: Buffer): Buffer => tlv(0xa0 + n, b);

function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) stack.unshift(0x80 | (v & 0x7f));
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  // UTCTime up to 2049, GeneralizedTime from 2050 on (RFC 5280 4.1.2.5).
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** A key and its self-signed certificate. */
export interface TlsIdentity {
  readonly certDer: Buffer;
  readonly certPem: string;
  readonly keyPem: string;
  readonly key: KeyObject;
}

/** Makes the provider's TLS identity. */
export function makeTlsIdentity(now = new Date()): TlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(set(seq(oid("2.5.4.3"), utf8("localhost"))), set(seq(oid("2.5.4.10"), utf8("cdktf-bhyve provider"))));
  const notBefore = new Date(now.getTime() - 30_000);
  const notAfter = new Date(now.getTime() + 30 * 365 * 24 * 3600 * 1000);
  const extensions = explicit(3, seq(
    seq(oid("2.5.29.19"), bool(true), octets(seq(bool(true)))),
    // digitalSignature | keyEncipherment | keyCertSign: bits 0, 2, 5 -> 0xa4 with 2 unused bits
    seq(oid("2.5.29.15"), bool(true), octets(tlv(0x03, Buffer.from([0x02, 0xa4])))),
    seq(oid("2.5.29.37"), octets(seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2")))),
    seq(oid("2.5.29.17"), octets(seq(tlv(0x82, Buffer.from("localhost")), tlv(0x87, Buffer.from([127, 0, 0, 1]))))),
  ));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ecdsaSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const certDer = seq(tbs, ecdsaSha256, bits(sign("sha256", tbs, privateKey)));
  return { certDer, certPem: pem("CERTIFICATE", certDer), keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), key: privateKey };
}
