-- The first answer to a request sent with an Idempotency-Key header, per user and route, so that a
-- client's retry (after a lost answer, a timeout, a crashed replica) gets that answer again
-- instead of doing the work twice; in the service's own database, so every replica sees it.
-- `status` is null while the first request is still at work.
create table idempotency_keys (
  scope text not null,
  user_id text not null,
  key text not null,
  request_hash text not null,
  status integer,
  body jsonb,
  created_at timestamptz not null default now(),
  primary key (scope, user_id, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);
