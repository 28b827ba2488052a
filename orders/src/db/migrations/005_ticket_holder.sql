-- The order tickets last said holds the ticket (ticket.updated's orderId: reserved or sold for it,
-- null while available). A payment completes an order only once this names it (docs/design.md §4
-- rule 6): tickets reserved the ticket for that order at the price it was priced at, so an order
-- whose reservation tickets refused can never end complete at its old price.
alter table tickets add column order_id text;
-- Replicas of earlier releases did not keep it. Until now tickets reserved every order in the end,
-- so the holder is the ticket's live or completed order here (orders_ticket_live_unique: at most one).
update tickets t set order_id = o.id::text from orders o
  where o.ticket_id = t.id and o.status in ('created', 'awaiting:payment', 'complete');

-- apply_ticket_update (migration 003) with the holder: the same version check, one update in the usual case.
create function apply_ticket_update(ticket uuid, new_title text, new_price_cents integer, new_user_id text, new_order_id text, next_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  update tickets set title = new_title, price_cents = new_price_cents, user_id = new_user_id, order_id = new_order_id, version = next_version
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
  update tickets set title = new_title, price_cents = new_price_cents, user_id = new_user_id, order_id = new_order_id, version = next_version
    where id = ticket;
end
$$;

-- The five-argument form is what replicas of the previous release call while a rollout replaces
-- them: they pass no holder, so it is taken as the backfill above takes it. Until the rollout
-- ends those replicas also complete orders without waiting for the reservation, as before.
create or replace function apply_ticket_update(ticket uuid, new_title text, new_price_cents integer, new_user_id text, next_version integer) returns void
language sql as $$
  select apply_ticket_update(ticket, new_title, new_price_cents, new_user_id,
    (select o.id::text from orders o where o.ticket_id = ticket and o.status in ('created', 'awaiting:payment', 'complete')), next_version);
$$;
