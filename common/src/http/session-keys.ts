import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { z } from "zod";

/**
 * Session tokens are signed with Ed25519 (JWS alg EdDSA): auth alone holds the private key
 * (JWT_PRIVATE_KEY) and signs; every service holds the public key (JWT_PUBLIC_KEY) and can only
 * verify. A compromised tickets pod can read sessions, not mint one for another user.
 */
const howToMake =
  "make a pair with: openssl genpkey -algorithm ed25519 -out jwt-private.pem && openssl pkey -in jwt-private.pem -pubout -out jwt-public.pem";

/** PEM from an environment variable: real line breaks, or `\n` written out on one line (.env files). */
export const pemFrom = (value: string) => value.replace(/\\n/g, "\n").trim();

const keys = new Map<string, KeyObject>();
function cached(pem: string, make: (pem: string) => KeyObject): KeyObject {
  let key = keys.get(pem);
  if (!key) {
    key = make(pem);
    keys.set(pem, key);
  }
  return key;
}

/** The public key of a PEM (SPKI), made once per PEM. */
export const sessionPublicKey = (pem: string) => cached(pemFrom(pem), (p) => createPublicKey(p));
/** The private key of a PEM (PKCS#8), made once per PEM. */
export const sessionPrivateKey = (pem: string) => cached(pemFrom(pem), (p) => createPrivateKey(p));

function problemOf(pem: string, kind: "public" | "private"): string | undefined {
  // node derives a public key from a private PEM too: a private key given as the public one
  // would put the signing key into every service
  if (kind === "public" && /PRIVATE KEY-----/.test(pem))
    return "holds a private key: only the public key goes here (the private one is auth's alone)";
  if (kind === "private" && !/PRIVATE KEY-----/.test(pem))
    return `must be an Ed25519 private key in PEM (-----BEGIN PRIVATE KEY-----); ${howToMake}`;
  let key: KeyObject;
  try {
    key = kind === "public" ? sessionPublicKey(pem) : sessionPrivateKey(pem);
  } catch {
    return `must be an Ed25519 ${kind} key in PEM (-----BEGIN ${kind.toUpperCase()} KEY-----); ${howToMake}`;
  }
  if (key.asymmetricKeyType !== "ed25519") return `must be an Ed25519 key, not ${key.asymmetricKeyType}; ${howToMake}`;
  return undefined;
}

/** The setting of a session key: a PEM that must hold an Ed25519 key of that kind. */
export const sessionKeySetting = (kind: "public" | "private") =>
  z.string().superRefine((pem, ctx) => {
    const problem = problemOf(pem, kind);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** Why a private key does not sign for the public key the services verify with, or undefined. */
export function sessionKeyMismatch(privatePem: string, publicPem: string): string | undefined {
  const derived = createPublicKey(sessionPrivateKey(privatePem)).export({ type: "spki", format: "der" });
  const given = sessionPublicKey(publicPem).export({ type: "spki", format: "der" });
  return derived.equals(given)
    ? undefined
    : "JWT_PRIVATE_KEY is not the private key of JWT_PUBLIC_KEY: the services would refuse every session auth signs";
}

/** A new key pair, as PEM. */
export function newSessionKeyPair(): { publicKey: string; privateKey: string } {
  const pair = generateKeyPairSync("ed25519");
  return {
    publicKey: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
