import { AsyncLocalStorage } from "node:async_hooks";
import type { Db } from "../db/database";
import { sql } from "kysely";

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const capture = new AsyncLocalStorage<{ pool?: PgPool }>();
let patched = false;

/**
 * Finds the pg Pool behind a Kysely handle: Kysely keeps it in a private field, so a query is run
 * while pg's Pool.connect notes which pool served it. Undefined for a database without a pool.
 */
export async function findPool(db: Db): Promise<(() => PoolStats) | undefined> {
  if (!patched) {
    patched = true;
    const pg = await import("pg");
    const Pool = (pg.default ?? pg).Pool as unknown as { prototype: { connect: (...args: unknown[]) => unknown } };
    const connect = Pool.prototype.connect;
    Pool.prototype.connect = function (this: PgPool, ...args: unknown[]) {
      const store = capture.getStore();
      if (store && !store.pool) store.pool = this;
      return connect.apply(this, args);
    };
  }
  const store: { pool?: PgPool } = {};
  await capture.run(store, () => sql`select 1`.execute(db));
  const pool = store.pool;
  return pool ? () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }) : undefined;
}
