-- Title search (GET /api/tickets?q=…) is `title ilike '%…%'`: no b-tree serves it, and a rare
-- word made the listing walk every available ticket. A trigram index finds the titles holding
-- the word's three-letter pieces at once. pg_trgm is a trusted extension: the database's owner
-- (the service's own role, never a superuser) may create it.
create extension if not exists pg_trgm;
create index tickets_available_title_trgm on tickets using gin (title gin_trgm_ops) where status = 'available';
