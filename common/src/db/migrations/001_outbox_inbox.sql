-- Transactional outbox: events are written in the same transaction as the state they describe.
create table outbox (
  seq bigserial primary key,
  id uuid not null unique,
  subject text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  claimed_until timestamptz,
  published_at timestamptz
);
create index outbox_pending on outbox (seq) where published_at is null;

-- Inbox: ids of handled events, written in the handler's transaction, so a redelivery has no second effect.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  handled_at timestamptz not null default now(),
  primary key (consumer, event_id)
);

-- Last applied version of each entity known from events (for entities without a replica row).
create table entity_versions (
  entity text not null,
  id text not null,
  version integer not null,
  primary key (entity, id)
);
