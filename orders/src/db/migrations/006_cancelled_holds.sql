-- The cool-down after an unpaid hold (recentHold in src/db/orders.ts) looks for the buyer's
-- cancelled orders of the ticket on every new order. Through orders_user_newest that visited
-- every order the buyer ever placed, so each order cost more the longer their history (about
-- 0.3 ms of a 0.7 ms order statement for a buyer with 150 orders), and the order statement's
-- plan cost so much more for such a buyer that PostgreSQL planned it again at every execution
-- (0.65 ms more) instead of keeping its generic plan. This index holds only cancelled orders, and
-- a buyer has at most a few for one ticket.
create index orders_cancelled_holds on orders (user_id, ticket_id) where status = 'cancelled';
