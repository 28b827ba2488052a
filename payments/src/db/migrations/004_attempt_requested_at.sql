-- When the charge of an attempt was last asked for (its first request, or the retry that made it
-- pending again): the reconciler looks for the charge in the provider's charges created around
-- then, a listing the provider answers without the delay of its search index.
alter table payment_attempts add column requested_at timestamptz not null default now();
-- Attempts pending at the upgrade were (almost all) first requests: their row's creation time.
update payment_attempts set requested_at = created_at where status = 'pending';
