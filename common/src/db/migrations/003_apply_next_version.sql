-- docs/design.md §4 rule 3 on the server, so that a version check needs no answer in the service
-- and can travel with the transaction's next statement (sendWithNext).
--
-- check_next_version: returns when `next_version` is the one after `have` (0 when there is none
-- yet, `have` null); otherwise raises
--   TF001 already applied (an older or equal version: acknowledge, no effect)
--   TF002 came early (a newer version: redeliver after the one before it)
-- which abort the transaction. The server-side twin of checkNextVersion (common/src/versions.ts),
-- used by every version check written in SQL (here, and in the orders and payments replicas).
create function check_next_version(what text, have integer, next_version integer) returns void
language plpgsql as $$
begin
  if have is null then
    if next_version = 0 then
      return;
    end if;
    raise exception '% version % came early (have none)', what, next_version using errcode = 'TF002';
  end if;
  if next_version <= have then
    raise exception '% version % already applied (have %)', what, next_version, have using errcode = 'TF001';
  end if;
  if next_version > have + 1 then
    raise exception '% version % came early (have %)', what, next_version, have using errcode = 'TF002';
  end if;
end
$$;

-- Records `next_version` of an entity without a replica row in entity_versions, if it is the
-- next one. Under a concurrent handler of the same entity, the lock (or the insert of version 0)
-- waits for its commit and sees the row it left, so exactly one applies.
create function apply_next_version(entity_name text, entity_id text, next_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  select version into have from entity_versions where entity = entity_name and id = entity_id for update;
  if not found and next_version = 0 then
    insert into entity_versions (entity, id, version) values (entity_name, entity_id, 0) on conflict do nothing;
    if found then
      return;
    end if;
    raise exception '% % version 0 applied concurrently', entity_name, entity_id using errcode = 'TF001';
  end if;
  perform check_next_version(entity_name || ' ' || entity_id, have, next_version);
  update entity_versions set version = next_version where entity = entity_name and id = entity_id;
end
$$;
