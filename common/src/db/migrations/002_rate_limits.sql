-- Rate-limit counters, one row per key (an address, an account, a user and action), in the
-- service's own database so that every replica counts the same hits: two replicas never double
-- a limit. A fixed window: the row is reset when a hit lands in a later window.
create table rate_limits (
  key text primary key,
  window_start timestamptz not null,
  hits integer not null
);
create index rate_limits_window on rate_limits (window_start);
