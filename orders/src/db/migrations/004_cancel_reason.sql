-- Why a cancelled order ended, shown to its buyer: 'buyer' (cancelled it), 'expired' (its window
-- ran out unpaid), 'ticket changed' (tickets refused the reservation: its seller edited the ticket
-- after the order was priced, docs/design.md §4 rule 6). Null for orders cancelled before it was kept.
alter table orders add column cancel_reason text check (cancel_reason in ('buyer', 'expired', 'ticket changed'));
-- 'ticket changed': the ticket's price when tickets refused the reservation, so the buyer can be told it.
alter table orders add column changed_ticket_price_cents integer check (changed_ticket_price_cents >= 0);
