-- docs/design.md §4 rule 3 in one server-side call, so that the check needs no answer in the
-- service: it can travel with the transaction's next statement (sendWithNext). Records
-- `next_version` of an entity if it is the one after the last applied; otherwise raises
--   TF001 already applied (an older or equal version: acknowledge, no effect)
--   TF002 came early (a newer version: redeliver after the one before it)
-- which abort the transaction. Under a concurrent handler of the same entity, the lock (or the
-- insert of version 0) waits for its commit and sees the row it left, so exactly one applies.
create function apply_next_version(entity_name text, entity_id text, next_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  select version into have from entity_versions where entity = entity_name and id = entity_id for update;
  if not found then
    if next_version = 0 then
      insert into entity_versions (entity, id, version) values (entity_name, entity_id, 0) on conflict do nothing;
      if found then
        return;
      end if;
      raise exception '% % version 0 applied concurrently', entity_name, entity_id using errcode = 'TF001';
    end if;
    raise exception '% % version % came early (have none)', entity_name, entity_id, next_version using errcode = 'TF002';
  end if;
  if next_version = have + 1 then
    update entity_versions set version = next_version where entity = entity_name and id = entity_id;
    return;
  end if;
  if next_version <= have then
    raise exception '% % version % already applied (have %)', entity_name, entity_id, next_version, have using errcode = 'TF001';
  end if;
  raise exception '% % version % came early (have %)', entity_name, entity_id, next_version, have using errcode = 'TF002';
end
$$;
