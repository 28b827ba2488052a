-- The networks (an IPv4 address, an IPv6 /64) an account has signed in from: attempts from them
-- are limited per account and network only, so strangers guessing from elsewhere cannot lock the
-- owner out (auth/src/rate-limit.ts).
create table known_networks (
  user_id uuid not null references users (id) on delete cascade,
  network text not null,
  last_seen timestamptz not null default now(),
  primary key (user_id, network)
);
