-- order.created recorded in one server-side call (docs/design.md §4 rule 3), so that it needs
-- no answer and travels with the handler's commit: a new order at version 0 is inserted;
-- otherwise, as apply_next_version (common migration 003), it raises
--   TF001 already applied (the order is here at this version or a later one)
--   TF002 came early (a later version of an order not known yet)
-- which abort the transaction. The next version of a known order brings nothing to record.
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
  if not found then
    raise exception 'order % version % came early (have none)', order_id, order_version using errcode = 'TF002';
  end if;
  if order_version <= have then
    raise exception 'order % version % already applied (have %)', order_id, order_version, have using errcode = 'TF001';
  end if;
  if order_version > have + 1 then
    raise exception 'order % version % came early (have %)', order_id, order_version, have using errcode = 'TF002';
  end if;
end
$$;
