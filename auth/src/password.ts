import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const keyLength = 64;

/** OWASP's minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1. */
export const owaspLog2Cost = 17;

interface Params {
  N: number;
  r: number;
  p: number;
}

// scrypt needs 128·N·r bytes; Node refuses more than 32 MiB unless told: N=2^17, r=8 is 128 MiB
const maxmem = (params: Params) => 128 * params.N * params.r + 16 * 1024 * 1024;

/**
 * Hashes and checks passwords at the cost 2^log2Cost. Hashes are stored as
 * `scrypt$N$r$p$salt$hash`, so a hash made at an older, lower cost still verifies, and
 * `needsUpgrade` tells sign-in to store a new hash at the current cost.
 */
export function passwordHasher(log2Cost: number) {
  const params: Params = { N: 2 ** log2Cost, r: 8, p: 1 };

  async function hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const derived = await scryptAsync(password, salt, keyLength, { ...params, maxmem: maxmem(params) });
    return ["scrypt", params.N, params.r, params.p, salt.toString("base64"), derived.toString("base64")].join("$");
  }

  async function verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, expectedHash] = stored.split("$");
    if (scheme !== "scrypt" || !salt || !expectedHash) return false;
    const its: Params = { N: Number(n), r: Number(r), p: Number(p) };
    const expected = Buffer.from(expectedHash, "base64");
    const actual = await scryptAsync(password, Buffer.from(salt, "base64"), expected.length, { ...its, maxmem: maxmem(its) });
    return timingSafeEqual(actual, expected);
  }

  /** True when the stored hash was made at other parameters than the current ones. */
  function needsUpgrade(stored: string): boolean {
    const [, n, r, p] = stored.split("$");
    return Number(n) !== params.N || Number(r) !== params.r || Number(p) !== params.p;
  }

  /** Compared against when the email is unknown, so a wrong email takes as long as a wrong password. */
  const decoy = hash("decoy-password-for-timing");

  return { hash, verify, needsUpgrade, decoy, params };
}

export type PasswordHasher = ReturnType<typeof passwordHasher>;
