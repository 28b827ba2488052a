-- The cool-down after an unpaid hold (recentHold in src/db/orders.ts) looks for the buyer's
-- cancelled orders of the ticket on every new order. Through orders_user_newest that visited
-- every order the buyer ever placed, so each order cost more the longer their history, and the
-- order statement's estimated cost grew so much with it that PostgreSQL planned the statement
-- again at every execution instead of keeping its generic plan. Measured on a stack whose buyers
-- held about 150 orders each: 0.58-0.63 ms to run and 0.63 ms to plan per order before, 0.39-0.50
-- ms to run and no planning after. This index holds only cancelled orders, and a buyer has at
-- most a few for one ticket.
create index orders_cancelled_holds on orders (user_id, ticket_id) where status = 'cancelled';
