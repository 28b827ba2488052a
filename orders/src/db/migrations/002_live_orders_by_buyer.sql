-- The per-buyer cap counts a buyer's live orders on every new order. Through orders_user_newest
-- that count visited every order the buyer ever placed (the status is only in the table), so it
-- grew with their history; this index holds only the live ones, a handful per buyer.
create index orders_user_live on orders (user_id) where status in ('created', 'awaiting:payment');
