import * as crypto from "node:crypto";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { ServiceUnavailableError } from "@ticketforge/common";

/** node:crypto's argon2 (Node 24.7+); the project's @types/node (20) does not describe it yet. */
interface Argon2Parameters {
  message: string;
  nonce: Buffer;
  parallelism: number;
  tagLength: number;
  memory: number;
  passes: number;
}
type Argon2 = (algorithm: "argon2id", parameters: Argon2Parameters, callback: (err: Error | null, tag: Buffer) => void) => void;
const argon2 = (crypto as unknown as { argon2?: Argon2 }).argon2;

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

/**
 * OWASP's first choice (Password Storage Cheat Sheet): Argon2id with 19 MiB of memory, 2 passes,
 * parallelism 1. About 25 ms of one core per hash on these machines, against 333 ms and 128 MiB
 * for the scrypt (N=2^17, r=8) it replaces.
 */
export const owaspArgon2 = { memoryKiB: 19 * 1024, passes: 2, parallelism: 1 } as const;
const tagLength = 32;

export interface HasherOptions {
  /** Hashes computed at once; more requests wait their turn, so a burst cannot multiply memory. */
  concurrency: number;
  /** Requests that may wait for a hash; past that sign-up and sign-in answer 503 with Retry-After. */
  maxWaiting: number;
}

/** Refused when too many hashes wait already: 503, try again in a second. */
export class HashQueueFull extends ServiceUnavailableError {
  constructor() {
    super("Too many sign-ins at once; try again in a moment", 1);
  }
}

/**
 * Hashes and checks passwords. New hashes are Argon2id in the PHC string format
 * (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`); hashes made by the scrypt of earlier releases
 * (`scrypt$N$r$p$salt$hash`) still verify, and `needsUpgrade` tells sign-in to store a new one.
 * At most `concurrency` hashes run at once (Node's thread pool would run four, each with its
 * memory); an old scrypt hash, 128 MiB, runs alone.
 */
export function passwordHasher(options: HasherOptions) {
  if (typeof argon2 !== "function") {
    throw new Error(`Argon2 needs Node.js 24.7 or newer (node:crypto argon2); this is ${process.version}`);
  }
  const gate = new Gate(options.concurrency, options.maxWaiting);
  const argon2Async = promisify(argon2) as (algorithm: "argon2id", parameters: Argon2Parameters) => Promise<Buffer>;
  const derive = (password: string, nonce: Buffer, p: { m: number; t: number; p: number }, length: number) =>
    gate.run(1, () => argon2Async("argon2id", { message: password, nonce, memory: p.m, passes: p.t, parallelism: p.p, tagLength: length }));
  const current = { m: owaspArgon2.memoryKiB, t: owaspArgon2.passes, p: owaspArgon2.parallelism };

  async function hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const tag = await derive(password, salt, current, tagLength);
    return `$argon2id$v=19$m=${current.m},t=${current.t},p=${current.p}$${b64(salt)}$${b64(tag)}`;
  }

  async function verify(password: string, stored: string): Promise<boolean> {
    const argon = parseArgon2(stored);
    if (argon) {
      const actual = await derive(password, argon.salt, argon.params, argon.tag.length);
      return timingSafeEqual(actual, argon.tag);
    }
    const [scheme, n, r, p, salt, expectedHash] = stored.split("$");
    if (scheme !== "scrypt" || !salt || !expectedHash) return false;
    const its = { N: Number(n), r: Number(r), p: Number(p) };
    const expected = Buffer.from(expectedHash, "base64");
    // scrypt needs 128·N·r bytes (Node refuses more than 32 MiB unless told): it takes every slot
    const maxmem = 128 * its.N * its.r + 16 * 1024 * 1024;
    const actual = await gate.run(options.concurrency, () =>
      scryptAsync(password, Buffer.from(salt, "base64"), expected.length, { ...its, maxmem }),
    );
    return timingSafeEqual(actual, expected);
  }

  /** True when the stored hash is not Argon2id at the current parameters. */
  function needsUpgrade(stored: string): boolean {
    const argon = parseArgon2(stored);
    return !argon || argon.params.m !== current.m || argon.params.t !== current.t || argon.params.p !== current.p;
  }

  /** Compared against when the email is unknown, so a wrong email takes as long as a wrong password. */
  const decoy = hash("decoy-password-for-timing");

  return { hash, verify, needsUpgrade, decoy, params: current, waiting: () => gate.waiting };
}

export type PasswordHasher = ReturnType<typeof passwordHasher>;

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

function parseArgon2(stored: string) {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) return undefined;
  return {
    params: { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) },
    salt: Buffer.from(m[4], "base64"),
    tag: Buffer.from(m[5], "base64"),
  };
}

/** A counting semaphore: `run(weight, work)` waits until `weight` of the `size` slots are free. */
class Gate {
  private used = 0;
  private readonly queue: Array<{ weight: number; start: () => void }> = [];

  constructor(
    private readonly size: number,
    private readonly maxWaiting: number,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(weight: number, work: () => Promise<T>): Promise<T> {
    const w = Math.min(weight, this.size);
    if (this.queue.length > 0 || this.used + w > this.size) {
      if (this.queue.length >= this.maxWaiting) throw new HashQueueFull();
      await new Promise<void>((start) => this.queue.push({ weight: w, start }));
    } else {
      this.used += w;
    }
    try {
      return await work();
    } finally {
      this.used -= w;
      this.next();
    }
  }

  /** Starts waiting work in arrival order while it fits: a heavy one is not overtaken forever. */
  private next() {
    while (this.queue.length > 0 && this.used + this.queue[0].weight <= this.size) {
      const head = this.queue.shift()!;
      this.used += head.weight;
      head.start();
    }
  }
}
