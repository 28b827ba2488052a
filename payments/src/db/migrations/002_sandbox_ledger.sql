-- The sandbox provider's ledger (no STRIPE_KEY): what Stripe keeps on its side for real charges.
-- In the database, so that every replica answers a retried idempotency key the same way and can
-- refund a charge another replica made, and a restart forgets nothing.
create table sandbox_charges (
  idempotency_key text primary key,
  -- null when the card was declined: the key keeps answering with that decline
  charge_id text unique,
  declined text,
  amount_cents integer not null,
  currency text not null,
  description text not null,
  refund_id text unique,
  refund_key text unique,
  created_at timestamptz not null default now()
);
