// What an offline scanner does with a door code, with the public key alone: WebCrypto only, so
// the web app's Door page runs it in the browser and the tests run it in Node. The format and the
// signing are the passes service's (passes/src/signing.ts; docs/design.md §3).
import type { ScannerKeys } from "./schemas";

/** A public key imported for verifying (WebCrypto's CryptoKey, named so without the DOM types). */
export type VerifyKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const signedLength = 21;
const codeLength = signedLength + 64;

export type OfflineCheck =
  { ok: true; passId: string } | { ok: false; passId: string | null; reason: "forged" | "expired" | "revoked" | "already admitted" };

/** The public keys of GET /api/checkins/keys, ready to verify with. */
export async function importScannerKeys(keys: ScannerKeys["keys"]): Promise<VerifyKey[]> {
  return Promise.all(
    keys.map((k) => crypto.subtle.importKey("jwk", { kty: k.kty, crv: k.crv, x: k.x }, { name: "Ed25519" }, false, ["verify"])),
  );
}

/**
 * Checks a scanned code: a signature of one of the keys, a window within one of now's, and a pass
 * neither revoked nor admitted already (the lists of the last download, plus what this scanner
 * admitted since).
 */
export async function checkCodeOffline(
  keys: VerifyKey[],
  code: string,
  lists: { revoked: ReadonlySet<string>; admitted: ReadonlySet<string>; windowSeconds: number },
  atMs = Date.now(),
): Promise<OfflineCheck> {
  const bytes = decode(code.trim());
  if (!bytes || bytes.length !== codeLength || bytes[0] !== 1) return { ok: false, passId: null, reason: "forged" };
  const signed = bytes.slice(0, signedLength);
  const signature = bytes.slice(signedLength);
  let genuine = false;
  for (const key of keys) if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed)) genuine = true;
  if (!genuine) return { ok: false, passId: null, reason: "forged" };
  const passId = uuidOf(bytes.slice(1, 17));
  const window = new DataView(bytes.buffer, bytes.byteOffset + 17, 4).getUint32(0);
  if (Math.abs(window - Math.floor(atMs / 1000 / lists.windowSeconds)) > 1) return { ok: false, passId, reason: "expired" };
  if (lists.revoked.has(passId)) return { ok: false, passId, reason: "revoked" };
  if (lists.admitted.has(passId)) return { ok: false, passId, reason: "already admitted" };
  return { ok: true, passId };
}

function decode(code: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(code)) return undefined;
  const base64 = code.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (code.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function uuidOf(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
