create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  password_hash text not null,
  created_at timestamptz not null default now()
);
-- Emails are unique whatever their letter case: the database decides, not a read-then-write.
create unique index users_email_unique on users (lower(email));
