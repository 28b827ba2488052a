-- order.created recorded in one server-side call (docs/design.md §4 rule 3), so that it needs
-- no answer and travels with the handler's commit: a new order at version 0 is inserted;
-- otherwise check_next_version (common migration 003) raises TF001 (the order is here at this
-- version or a later one) or TF002 (a later version of an order not known yet), which abort the
-- transaction. The next version of a known order brings nothing to record.
create function record_order(order_id uuid, buyer text, price integer, order_status text, order_version integer) returns void
language plpgsql as $$
declare
  have integer;
begin
  if order_version = 0 then
    insert into orders (id, user_id, price_cents, status, version) values (order_id, buyer, price, order_status, 0)
      on conflict (id) do nothing;
    if found then
      return;
    end if;
  end if;
  select version into have from orders where id = order_id for update;
  perform check_next_version('order ' || order_id, have, order_version);
end
$$;
