import { createHash } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { sql } from "kysely";
import type { Queryable } from "../db/database";
import { HttpError, RequestValidationError } from "../errors";
import { userOf } from "./auth";

export class IdempotencyKeyReusedError extends HttpError {
  readonly statusCode = 422;
  constructor() {
    super("This Idempotency-Key was used with another request: send a new key for a new request");
  }
}

export class IdempotencyKeyInUseError extends HttpError {
  readonly statusCode = 409;
  constructor() {
    super("A request with this Idempotency-Key is still at work: retry after Retry-After");
  }
}

/**
 * Answers that are not kept: "not now" rather than an outcome. A 404 is one too: a service learns
 * of an order from an event, so just after its creation elsewhere it may not know it yet, and a
 * kept 404 would refuse the retry for a day.
 */
const notNow = new Set([404, 409, 429]);

/** A first request that died (its process killed) before it answered frees its key after this long. */
const abandonedAfterSeconds = 30;
/** Keys are kept for a day, as payment APIs do: long enough for any client's retries. */
const keptForHours = 24;

/**
 * Makes a signed-in POST safe to retry, as payment APIs do: a request with an `Idempotency-Key`
 * header is done once per user and key. A retry with the same key and the same body gets the
 * first answer again (status and body, header `Idempotent-Replayed: true`); the same key with
 * another body is a 422; a retry while the first is still at work is a 409. An answer of 5xx,
 * 404, 409 or 429 is not kept: the retry does the work. Without the header the route runs as before.
 *
 * The answer is recorded after the route's own transaction: a process killed between the two
 * leaves the key at work for `abandonedAfterSeconds`, then a retry runs the route again, and the
 * route's own rules (one live order per ticket, one payment per order) refuse a second effect.
 * Use after `requireAuth`, on a route that answers with `res.json`.
 */
export function idempotent(db: Queryable, scope: string): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = req.get("Idempotency-Key");
    if (key === undefined) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new RequestValidationError([{ field: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" }]);
    }
    const userId = userOf(req).id;
    const hash = createHash("sha256")
      .update(`${req.method} ${req.path}\n${canonicalJson(req.body ?? null)}`)
      .digest("hex");
    // claim the key; if another request holds it, look at what it holds. A key freed between the
    // two (its first request answered "not now") is claimed again: it is free, not reused.
    for (let look = 0; ; look++) {
      const claimed = await sql<{ key: string }>`
        insert into idempotency_keys (scope, user_id, key, request_hash) values (${scope}, ${userId}, ${key}, ${hash})
        on conflict (scope, user_id, key) do update set request_hash = excluded.request_hash, created_at = now()
          where idempotency_keys.status is null and idempotency_keys.request_hash = excluded.request_hash
            and idempotency_keys.created_at < now() - make_interval(secs => ${abandonedAfterSeconds})
        returning key`.execute(db);
      if (claimed.rows.length > 0) break;
      const { rows } = await sql<{ request_hash: string; status: number | null; body: unknown }>`
        select request_hash, status, body from idempotency_keys where scope = ${scope} and user_id = ${userId} and key = ${key}`.execute(
        db,
      );
      const first = rows[0];
      if (!first && look < 2) continue;
      if (first && first.request_hash !== hash) throw new IdempotencyKeyReusedError();
      if (!first || first.status === null) {
        res.setHeader("Retry-After", "1");
        throw new IdempotencyKeyInUseError();
      }
      res.setHeader("Idempotent-Replayed", "true");
      res.status(first.status).json(first.body);
      return;
    }
    sometimesForgetOld(db);

    // the first request: its answer is recorded before it leaves. An answer that says "not now"
    // (a 5xx, 404, 409, 429) frees the key for the retry; a failure to record still sends the
    // answer, and the key is freed once abandoned.
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const status = res.statusCode;
      const kept = status < 500 && !notNow.has(status);
      if (!kept) {
        // the database may be the cause: then the key is freed as soon as it answers again, so
        // that the client's retry does not meet a 409 until the key is abandoned
        void freeKey(db, scope, userId, key, () => send(body));
        return res;
      }
      void sql`update idempotency_keys set status = ${status}, body = ${JSON.stringify(body)}::jsonb
          where scope = ${scope} and user_id = ${userId} and key = ${key}`
        .execute(db)
        .catch(() => undefined)
        .then(() => send(body));
      return res;
    };
    next();
  };
}

/** Deletes a key at work (`then` runs after the first try), trying again every half second until the key would be abandoned anyway. */
async function freeKey(db: Queryable, scope: string, userId: string, key: string, then: () => void) {
  const until = Date.now() + abandonedAfterSeconds * 1000;
  for (let first = true; ; first = false) {
    const freed = await sql`delete from idempotency_keys where scope = ${scope} and user_id = ${userId} and key = ${key} and status is null`
      .execute(db)
      .then(
        () => true,
        () => false,
      );
    if (first) then();
    if (freed || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The same JSON for the same data, whatever the order of its keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

let lastCleanUp = 0;
/** Now and then (at most once a minute per process), keys older than a day are deleted. */
function sometimesForgetOld(db: Queryable) {
  if (Date.now() - lastCleanUp < 60_000) return;
  lastCleanUp = Date.now();
  sql`delete from idempotency_keys where created_at < now() - make_interval(hours => ${keptForHours})`.execute(db).catch(() => undefined);
}
