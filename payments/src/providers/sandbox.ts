import { randomBytes } from "node:crypto";
import { openDatabase, sql, type Database, type Queryable } from "@ticketforge/common";
import {
  InvalidPaymentTokenError,
  PaymentDeclinedError,
  type ChargeLookup,
  type ChargeRequest,
  type PaymentProvider,
  type RefundRequest,
} from "./provider";

export interface SandboxCharge extends ChargeRequest {
  id: string;
  refundedBy?: string;
}

type Outcome = { chargeId: string } | { declined: string };

/** Where the sandbox keeps its books: `kind` is charge, outcome or refund. */
export interface SandboxLedger {
  get<T>(kind: string, key: string): Promise<T | undefined>;
  /** Stores `value` unless the key is taken; false when it was. */
  claim(kind: string, key: string, value: unknown): Promise<boolean>;
  set(kind: string, key: string, value: unknown): Promise<void>;
  all<T>(kind: string): Promise<T[]>;
  close?(): Promise<void>;
}

/** Books in memory: for tests of the provider itself; a restart forgets them. */
export class MemoryLedger implements SandboxLedger {
  private readonly entries = new Map<string, unknown>();
  async get<T>(kind: string, key: string) {
    return this.entries.get(`${kind}:${key}`) as T | undefined;
  }
  async claim(kind: string, key: string, value: unknown) {
    if (this.entries.has(`${kind}:${key}`)) return false;
    this.entries.set(`${kind}:${key}`, value);
    return true;
  }
  async set(kind: string, key: string, value: unknown) {
    this.entries.set(`${kind}:${key}`, value);
  }
  async all<T>(kind: string) {
    return [...this.entries].filter(([k]) => k.startsWith(`${kind}:`)).map(([, v]) => v as T);
  }
}

/**
 * Books in the payments database (table sandbox_ledger): they outlive the process, as a provider's
 * do. Like an outside provider, the sandbox has connections of its own (at most two, opened at
 * its first call): the refunder calls it inside a unit of work that holds one of the service's
 * connections, and were the sandbox to wait for another of those, a full pool would wait forever.
 */
export class DatabaseLedger implements SandboxLedger {
  private opened?: Promise<Database>;
  constructor(private readonly url: string) {}

  private async db(): Promise<Queryable> {
    this.opened ??= openDatabase({ url: this.url, poolSize: 2 }).catch((err: unknown) => {
      this.opened = undefined; // the next call tries again
      throw err;
    });
    return (await this.opened).db;
  }
  async get<T>(kind: string, key: string) {
    const r = await sql<{ value: T }>`select value from sandbox_ledger where kind = ${kind} and key = ${key}`.execute(await this.db());
    return r.rows[0]?.value;
  }
  async claim(kind: string, key: string, value: unknown) {
    const r = await sql`insert into sandbox_ledger (kind, key, value) values (${kind}, ${key}, ${JSON.stringify(value)}::jsonb)
      on conflict do nothing returning key`.execute(await this.db());
    return r.rows.length > 0;
  }
  async set(kind: string, key: string, value: unknown) {
    await sql`insert into sandbox_ledger (kind, key, value) values (${kind}, ${key}, ${JSON.stringify(value)}::jsonb)
      on conflict (kind, key) do update set value = excluded.value`.execute(await this.db());
  }
  async all<T>(kind: string) {
    return (await sql<{ value: T }>`select value from sandbox_ledger where kind = ${kind}`.execute(await this.db())).rows.map(
      (r) => r.value,
    );
  }
  async close() {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}

/** The test tokens Stripe documents, so that the same cards work with both providers. */
const declined = "tok_chargeDeclined";
const accepted = "tok_visa";

/**
 * The built-in provider: no network, no money. `tok_visa` is charged, `tok_chargeDeclined` is
 * declined with Stripe's message, any other token is invalid. Like Stripe, it remembers the first
 * outcome of each idempotency key (a charge or a decline) and answers every later call with that
 * key the same way, and it can be asked what became of a key. Its books are a SandboxLedger: the
 * payments database in the service, so that a restart forgets nothing.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = "sandbox";

  constructor(private readonly ledger: SandboxLedger = new MemoryLedger()) {}

  async charge(request: ChargeRequest): Promise<{ id: string }> {
    const known = await this.ledger.get<Outcome>("outcome", request.idempotencyKey);
    if (known) return this.answer(known);
    // an unknown token is refused before anything happens, so it leaves no outcome behind (as with Stripe)
    if (request.token !== declined && request.token !== accepted) {
      throw new InvalidPaymentTokenError(`No such token: '${request.token}'`);
    }
    const outcome: Outcome =
      request.token === declined ? { declined: "Your card was declined." } : { chargeId: `ch_sandbox_${randomBytes(12).toString("hex")}` };
    if ("chargeId" in outcome) await this.ledger.set("charge", outcome.chargeId, { ...request, id: outcome.chargeId });
    // of two calls with one key at once, the first to claim it decides; the other gets its outcome
    if (!(await this.ledger.claim("outcome", request.idempotencyKey, outcome))) {
      return this.answer((await this.ledger.get<Outcome>("outcome", request.idempotencyKey))!);
    }
    return this.answer(outcome);
  }

  private answer(outcome: Outcome): { id: string } {
    if ("declined" in outcome) throw new PaymentDeclinedError(outcome.declined);
    return { id: outcome.chargeId };
  }

  async findCharge(idempotencyKey: string): Promise<ChargeLookup> {
    const known = await this.ledger.get<Outcome>("outcome", idempotencyKey);
    if (!known) return { found: "nothing" };
    return "declined" in known ? { found: "declined" } : { found: "charge", id: known.chargeId };
  }

  async refund(request: RefundRequest): Promise<{ id: string }> {
    const known = await this.ledger.get<string>("refund", request.idempotencyKey);
    if (known) return { id: known };
    const charge = await this.ledger.get<SandboxCharge>("charge", request.chargeId);
    if (!charge) throw new Error(`No such charge: '${request.chargeId}'`);
    if (charge.refundedBy) throw new Error(`Charge ${charge.id} has already been refunded`);
    const id = `re_sandbox_${randomBytes(12).toString("hex")}`;
    if (!(await this.ledger.claim("refund", request.idempotencyKey, id))) {
      return { id: (await this.ledger.get<string>("refund", request.idempotencyKey))! };
    }
    await this.ledger.set("charge", charge.id, { ...charge, refundedBy: id });
    return { id };
  }

  minimumChargeCents(): number {
    return 1;
  }

  async close(): Promise<void> {
    await this.ledger.close?.();
  }

  /** Every charge made (tests look at what was really charged). */
  async charges(): Promise<SandboxCharge[]> {
    return this.ledger.all<SandboxCharge>("charge");
  }
}
