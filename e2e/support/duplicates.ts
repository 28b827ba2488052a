import type { StoredEvent } from "./broker";
import type { World } from "./world";

/** Everything a user can see of the marketplace: every ticket and every order, as the API shows them. */
export async function observableState(world: World) {
  const ids = [...new Set((await world.broker.of("ticket.created")).map((e) => e.data.id as string))];
  const orders = [...(await world.market.allOrders()).values()].sort((a, b) => a.id.localeCompare(b.id));
  // every user's passes for the door (one per sold ticket)
  const passes = [];
  for (const user of world.market.users)
    passes.push(...((await world.market.request("GET", "/api/passes", { as: user })).body as Array<{ id: string }>));
  passes.sort((a, b) => a.id.localeCompare(b.id));
  return { tickets: await world.market.tickets(ids.sort()), orders, passes };
}

/**
 * Publishes every event the streams hold a second time (under new Nats-Msg-Ids, so JetStream
 * stores the copies) and waits until every service has handled the copies and the system is
 * quiet again. Returns the events as they were before and as they are after.
 */
export async function publishEverythingAgain(world: World): Promise<{ before: StoredEvent[]; after: StoredEvent[] }> {
  const before = await world.broker.events();
  for (const event of before) await world.broker.republish(event);
  await world.broker.settle();
  return { before, after: await world.broker.events() };
}

/** How many times each envelope id is stored. */
export function copiesById(events: StoredEvent[]): Map<string, number> {
  const copies = new Map<string, number>();
  for (const e of events) copies.set(e.id, (copies.get(e.id) ?? 0) + 1);
  return copies;
}
