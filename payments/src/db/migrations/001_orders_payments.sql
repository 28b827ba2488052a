-- What payments knows of each order, from order.* events: who may pay it, how much, whether it is still open.
create table orders (
  id uuid primary key,
  user_id text not null,
  price_cents integer not null check (price_cents >= 0),
  status text not null,
  version integer not null,
  -- Bumped after a declined card: the next charge needs a fresh idempotency key, because the
  -- provider answers a reused key with the first (declined) outcome.
  charge_attempt integer not null default 0
);

create table payments (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null references orders (id),
  amount_cents integer not null check (amount_cents >= 0),
  provider text not null,
  provider_ref text not null,
  status text not null check (status in ('succeeded', 'refunded')),
  refund_ref text,
  created_at timestamptz not null default now(),
  -- Set when the order turned out cancelled: the refunder gives the charge back from this time on.
  refund_due_at timestamptz,
  refunded_at timestamptz
);
-- At most one payment per order: two concurrent payments cannot both be recorded.
create unique index payments_order_id_unique on payments (order_id);
-- The refunder's queue: only charges still to give back.
create index payments_refund_due on payments (refund_due_at) where status = 'succeeded' and refund_due_at is not null;
