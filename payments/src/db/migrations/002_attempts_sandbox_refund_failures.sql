-- Every charge is recorded before the provider is asked (pending, with its idempotency key), so a
-- crash between a successful charge and its recording leaves a trace: the reconciler asks the
-- provider about each pending attempt and records, refunds or closes it.
create table payment_attempts (
  idempotency_key text primary key,
  order_id uuid not null references orders (id),
  user_id text not null,
  amount_cents integer not null check (amount_cents >= 0),
  status text not null check (status in ('pending', 'charged', 'declined', 'invalid', 'abandoned')),
  charge_ref text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index payment_attempts_pending on payment_attempts (updated_at) where status = 'pending';

-- The sandbox provider's own books (charges, declines, refunds by idempotency key), kept here so
-- that it behaves like a real provider across restarts: a refund after a restart finds its charge.
create table sandbox_ledger (
  kind text not null,
  key text not null,
  value jsonb not null,
  primary key (kind, key)
);

-- A refund the provider keeps refusing backs off and, past a bound, is reported to an operator.
alter table payments add column refund_failures integer not null default 0;
alter table payments add column last_refund_error text;
