-- Rate-limit counters are written at every request they guard (every order placed or refused,
-- every sign-in), and a counter that is lost costs at most one window's worth of extra hits. An
-- unlogged table writes no WAL: a statement that touches only it commits without waiting for a
-- WAL flush, so a crowd's refusals (one upsert each, outside any transaction) no longer queue for
-- the disk. What it gives up: after a crash of the PostgreSQL server (not a clean restart) and on
-- a promoted replica the counters start again from zero, so a window in progress is forgotten once.
alter table rate_limits set unlogged;
