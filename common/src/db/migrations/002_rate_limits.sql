-- Rate-limit counters, one row per key (an address, an account, a user and action), in the
-- service's own database so that every replica counts the same hits: two replicas never double
-- a limit. A key's window opens at its first hit; a hit after the window ends opens a new one.
create table rate_limits (
  key text primary key,
  window_start timestamptz not null,
  hits integer not null
);
create index rate_limits_window on rate_limits (window_start);
