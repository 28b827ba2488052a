-- One row per order whose reservation window is running. The timer is this row, not something in
-- memory, so it survives restarts, and replicas share it (the worker claims rows with SKIP LOCKED).
create table timers (
  order_id text primary key,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
-- The worker takes the earliest due timers first.
create index timers_expires_at on timers (expires_at);
