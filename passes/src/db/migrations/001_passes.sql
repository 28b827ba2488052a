-- The tickets this service knows of, kept from ticket.created / ticket.updated (the tickets
-- service owns them): a pass shows the title, and only the seller checks it in.
create table tickets (
  id uuid primary key,
  title text not null,
  seller_id text not null,
  version integer not null check (version >= 0)
);

-- Who ordered which ticket, kept from order.created: order.completed names neither the buyer
-- nor the ticket's seller, and events only grow by addition (docs/design.md §4).
create table orders (
  id uuid primary key,
  buyer_id text not null,
  ticket_id uuid not null
);

-- Who is who, kept from auth's user.registered: a transfer names its recipient by email.
create table users (
  id text primary key,
  email text not null
);
create unique index users_email on users (email);

create table passes (
  id uuid primary key default gen_random_uuid(),
  ticket_id uuid not null references tickets (id),
  order_id uuid not null references orders (id),
  owner_id text not null,
  status text not null default 'valid' check (status in ('valid', 'used', 'transferred')),
  -- the pass this one replaces (a transfer); null for the pass issued to the buyer
  transferred_from uuid unique references passes (id),
  created_at timestamptz not null default now()
);
-- Exactly one pass per sold ticket, however often order.completed is delivered: the database
-- decides, not a read-then-write in code.
create unique index passes_one_per_order on passes (order_id) where transferred_from is null;
create index passes_owner_newest on passes (owner_id, created_at desc);
create index passes_ticket on passes (ticket_id);

-- A pass enters once: the primary key is the rule.
create table checkins (
  pass_id uuid primary key references passes (id),
  scanner text not null,
  admitted_at timestamptz not null,
  offline boolean not null
);

-- Two scanners admitted one pass while offline (or admitted a revoked one): kept for the seller,
-- never merged into the check-in.
create table checkin_conflicts (
  id uuid primary key default gen_random_uuid(),
  pass_id uuid not null references passes (id),
  scanner text not null,
  scanned_at timestamptz not null,
  reason text not null,
  reported_at timestamptz not null default now()
);

-- Mail to send, written in the unit of work that decides it, sent after the commit (and by the
-- sweep after a crash or while the mail server is down): at least once.
create table mails (
  id uuid primary key default gen_random_uuid(),
  to_user_id text not null,
  subject text not null,
  body text not null,
  created_at timestamptz not null default now(),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  sent_at timestamptz
);
create index mails_waiting on mails (next_attempt_at) where sent_at is null;

-- A ticket.updated applied to the replica in one server-side call, as orders does (orders
-- migration 003): TF001 already applied, TF002 came early or the ticket is not known yet.
create function apply_ticket_update(ticket uuid, new_title text, new_seller_id text, next_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  update tickets set title = new_title, seller_id = new_seller_id, version = next_version
    where id = ticket and version = next_version - 1;
  if found then
    return;
  end if;
  select version into have from tickets where id = ticket for update;
  if not found then
    raise exception 'ticket % not known yet', ticket using errcode = 'TF002';
  end if;
  perform check_next_version('ticket ' || ticket, have, next_version);
  update tickets set title = new_title, seller_id = new_seller_id, version = next_version
    where id = ticket;
end
$$;
