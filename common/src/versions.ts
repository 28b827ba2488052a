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

/** Records `version` of entity `id` if it is the next one; throws AlreadyApplied / RetryLater otherwise. */
export async function applyNextVersion(tx: Tx, entity: string, id: string, version: number): Promise<void> {
  const row = await sql<{ version: number }>`
    select version from entity_versions where entity = ${entity} and id = ${id} for update`.execute(tx);
  const current = row.rows[0]?.version;
  checkNextVersion(current, version, `${entity} ${id}`);
  if (current === undefined) {
    // two handlers of the same first version can race here: the loser waits for the winner's
    // commit, inserts nothing, and its event is a duplicate
    const inserted = await sql`insert into entity_versions (entity, id, version) values (${entity}, ${id}, ${version})
      on conflict do nothing returning version`.execute(tx);
    if (inserted.rows.length === 0) throw new AlreadyApplied(`${entity} ${id} version ${version} applied concurrently`);
  } else {
    await sql`update entity_versions set version = ${version} where entity = ${entity} and id = ${id}`.execute(tx);
  }
}
