import { sql } from "kysely";
import type { Tx } from "./db/database";
import { AlreadyApplied, RetryLater } from "./bus/listener";

/**
 * docs/design.md §4 rule 3: apply an entity's event only when it carries the next version.
 * An older or equal version is a duplicate (AlreadyApplied: ack, no effect); a newer one came
 * early (RetryLater: redelivered after the one before it). A replica row with a `version`
 * column uses `checkNextVersion` directly; other entities use the entity_versions table.
 */
export function checkNextVersion(current: number | undefined, incoming: number, what: string): void {
  const expected = current === undefined ? 0 : current + 1;
  if (incoming < expected) throw new AlreadyApplied(`${what} version ${incoming} already applied (have ${current})`);
  if (incoming > expected) throw new RetryLater(`${what} version ${incoming} came early (have ${current ?? "none"})`);
}

/**
 * Records `version` of entity `id` if it is the next one; throws AlreadyApplied / RetryLater otherwise.
 * One statement instead of a locking read and then a write (each a round trip): the row is locked
 * and read (`current`), moved on only from the version before (`moved`), or created at version 0
 * (`created`). Under a concurrent handler of the same entity, the lock waits for its commit and
 * the conditions are checked again on the row it left, so exactly one of them applies a version.
 */
export async function applyNextVersion(tx: Tx, entity: string, id: string, version: number): Promise<void> {
  const r = await sql<{ current: number | null; applied: boolean }>`
    with current as (
      select version from entity_versions where entity = ${entity} and id = ${id} for update
    ), moved as (
      update entity_versions set version = ${version}
      where entity = ${entity} and id = ${id} and version = ${version}::integer - 1
      returning version
    ), created as (
      insert into entity_versions (entity, id, version)
      select ${entity}, ${id}, ${version}::integer where ${version}::integer = 0 and not exists (select 1 from current)
      on conflict do nothing
      returning version
    )
    select (select version from current) as current,
      exists (select 1 from moved) or exists (select 1 from created) as applied`.execute(tx);
  const { current, applied } = r.rows[0];
  if (applied) return;
  checkNextVersion(current ?? undefined, version, `${entity} ${id}`);
  // the next version, yet not applied: a handler of the same first version created the row first
  throw new AlreadyApplied(`${entity} ${id} version ${version} applied concurrently`);
}
