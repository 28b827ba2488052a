-- user_id and order_id come from other services (the session JWT, order events) where ids are
-- opaque strings: text, so an unexpected id format is stored and compared, never a cast error.
create table tickets (
  id uuid primary key default gen_random_uuid(),
  title text not null check (char_length(title) between 1 and 200),
  price_cents integer not null check (price_cents > 0 and price_cents <= 100000000),
  user_id text not null,
  status text not null default 'available' check (status in ('available', 'reserved', 'sold')),
  order_id text,
  version integer not null default 0,
  created_at timestamptz not null default now(),
  -- a reserved or sold ticket always names its order, an available one never does
  constraint tickets_order_matches_status check ((status = 'available') = (order_id is null))
);
-- The public listing (available tickets, newest first) walks this index page by page (keyset),
-- so a page costs the same on the first page and the thousandth, whatever the table size.
create index tickets_available_newest on tickets (created_at desc, id desc) where status = 'available';
-- "My tickets" (every status) walks this one.
create index tickets_by_user on tickets (user_id, created_at desc, id desc);
