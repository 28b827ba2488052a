-- Every statement that changes tickets notifies `tickets_changed` when its transaction commits
-- (PostgreSQL sends one notification per transaction, however many statements): each replica's
-- listing cache (src/listing-cache.ts) hears of changes made by any replica, or by hand.
create function notify_tickets_changed() returns trigger
language plpgsql as $$
begin
  perform pg_notify('tickets_changed', '');
  return null;
end
$$;

create trigger tickets_changed after insert or update or delete or truncate on tickets
  for each statement execute function notify_tickets_changed();
