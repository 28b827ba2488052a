-- The tickets this service knows of, kept from ticket.created / ticket.updated (the tickets
-- service owns them). `version` is the last applied ticket version (docs/design.md §4 rule 3).
create table tickets (
  id uuid primary key,
  title text not null,
  price_cents integer not null check (price_cents >= 0),
  user_id text not null,
  version integer not null check (version >= 0)
);

create table orders (
  id uuid primary key default gen_random_uuid(),
  user_id text not null,
  ticket_id uuid not null references tickets (id),
  status text not null check (status in ('created', 'awaiting:payment', 'complete', 'cancelled')),
  expires_at timestamptz not null,
  version integer not null default 0,
  -- the price the buyer reserved at, as sent in order.created (what payments charge)
  price_cents integer not null check (price_cents >= 0),
  payment_id text,
  refund_amount_cents integer,
  refunded_at timestamptz,
  created_at timestamptz not null default now()
);
-- A ticket is never reserved by two live orders, nor sold twice: the database decides, whatever
-- the concurrency, not a read-then-write in code (docs/design.md §5).
create unique index orders_ticket_live_unique on orders (ticket_id)
  where status in ('created', 'awaiting:payment', 'complete');
create index orders_user_newest on orders (user_id, created_at desc);
