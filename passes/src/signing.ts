import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

/**
 * The door code: a pass id and a 30-second window, signed with the service's Ed25519 key.
 *
 *   base64url( version (1 byte) | pass id (16 bytes, the uuid) | window (4 bytes, big-endian) | signature (64 bytes) )
 *
 * 85 bytes, 114 characters: small enough for a QR code a phone camera reads at arm's length. The
 * window is floor(unix seconds / 30); a scanner accepts the current window and one either side
 * (clocks drift, a code shown at 29 s is scanned at 31 s), so a screenshot is worthless about a
 * minute after its window. A scanner needs the public key only (GET /api/checkins/keys).
 */
export const windowSeconds = 30;
const formatVersion = 1;
const signedLength = 1 + 16 + 4;
const codeLength = signedLength + 64;

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The key's id: the first 16 hex digits of the SHA-256 of its public key (DER), so a scanner can tell keys apart. */
  kid: string;
}

/** A key from PASSES_SIGNING_KEY: PKCS#8 as PEM, or base64 of its DER bytes; anything else says what is wrong. */
export function parseSigningKey(text: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = text.trimStart().startsWith("-----BEGIN")
      ? createPrivateKey(text)
      : createPrivateKey({ key: Buffer.from(text.trim(), "base64"), format: "der", type: "pkcs8" });
  } catch {
    throw new Error("must be an Ed25519 private key in PKCS#8 (PEM, or base64 of the DER bytes)");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  return withPublic(privateKey);
}

/** A new key, as base64 of its PKCS#8 DER (what `npm start` keeps in .data/passes-signing-key). */
export function newSigningKeyText(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
}

function withPublic(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const kid = createHash("sha256")
    .update(publicKey.export({ format: "der", type: "spki" }))
    .digest("hex")
    .slice(0, 16);
  return { privateKey, publicKey, kid };
}

export const windowAt = (ms: number) => Math.floor(ms / 1000 / windowSeconds);
export const windowEnd = (window: number) => new Date((window + 1) * windowSeconds * 1000);

/** The code of a pass for the window holding `atMs`. */
export function signCode(key: SigningKey, passId: string, atMs = Date.now()): { code: string; expiresAt: Date } {
  const window = windowAt(atMs);
  const signed = Buffer.alloc(signedLength);
  signed.writeUInt8(formatVersion, 0);
  Buffer.from(passId.replace(/-/g, ""), "hex").copy(signed, 1);
  signed.writeUInt32BE(window, 17);
  const signature = sign(null, signed, key.privateKey);
  return { code: Buffer.concat([signed, signature]).toString("base64url"), expiresAt: windowEnd(window) };
}

export type CodeCheck = { ok: true; passId: string; window: number } | { ok: false; passId: string | null; reason: "forged" | "expired" };

/**
 * Checks a code with public keys only (what an offline scanner does): the signature of one of
 * `publicKeys`, and a window within one of the window of `atMs`. A code that does not parse, or
 * whose signature no key made, is "forged"; a genuine one outside the windows, "expired".
 */
export function checkCode(publicKeys: KeyObject[], code: string, atMs = Date.now()): CodeCheck {
  const bytes = /^[A-Za-z0-9_-]+$/.test(code) ? Buffer.from(code, "base64url") : Buffer.alloc(0);
  if (bytes.length !== codeLength || bytes.readUInt8(0) !== formatVersion) return { ok: false, passId: null, reason: "forged" };
  const signed = bytes.subarray(0, signedLength);
  const signature = bytes.subarray(signedLength);
  if (!publicKeys.some((key) => verify(null, signed, key, signature))) return { ok: false, passId: null, reason: "forged" };
  const passId = uuidOf(bytes.subarray(1, 17));
  const window = bytes.readUInt32BE(17);
  if (Math.abs(window - windowAt(atMs)) > 1) return { ok: false, passId, reason: "expired" };
  return { ok: true, passId, window };
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The public key as a JWK (RFC 8037), the form scanners and `jose` read. */
export function publicJwk(key: SigningKey) {
  const jwk = key.publicKey.export({ format: "jwk" });
  return { kid: key.kid, kty: "OKP" as const, crv: "Ed25519" as const, alg: "EdDSA" as const, x: String(jwk.x) };
}
