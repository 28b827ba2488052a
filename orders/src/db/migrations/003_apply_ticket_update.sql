-- A ticket.updated applied to the replica in one server-side call (docs/design.md §4 rule 3),
-- so that it needs no answer and travels with the handler's commit: the usual case, the replica
-- at the version before this one, is one update; otherwise it raises TF001 (already applied) or
-- TF002 (came early, or the ticket is not known yet) through check_next_version (common migration
-- 003), which abort the transaction. The lock makes two replicas applying one ticket take turns.
create function apply_ticket_update(ticket uuid, new_title text, new_price_cents integer, new_user_id text, next_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  update tickets set title = new_title, price_cents = new_price_cents, user_id = new_user_id, version = next_version
    where id = ticket and version = next_version - 1;
  if found then
    return;
  end if;
  select version into have from tickets where id = ticket for update;
  if not found then
    -- an update can overtake the creation of its ticket: it waits for ticket.created
    raise exception 'ticket % not known yet', ticket using errcode = 'TF002';
  end if;
  perform check_next_version('ticket ' || ticket, have, next_version);
  -- the version before this one was applied between the two statements: apply this one now
  update tickets set title = new_title, price_cents = new_price_cents, user_id = new_user_id, version = next_version
    where id = ticket;
end
$$;
