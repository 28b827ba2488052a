// Checked by `npm run typecheck`, not by Jest: each line under @ts-expect-error must fail to
// compile, or the typecheck fails ("Unused '@ts-expect-error' directive").
import type { Bus } from "../src";

export function publishOutsideAUnitOfWork(bus: Bus) {
  // @ts-expect-error a domain event does not leave outside a unit of work (uow.publish)
  void bus.publish("order.created", new Uint8Array(), "an-id");
  // @ts-expect-error nor does any other subject of events/subjects.ts
  void bus.publish("ticket.updated", new Uint8Array(), "an-id");
  // what is not a domain event may: an operator's alert in the dead-letter stream
  void bus.publish("deadletter.payments.refund", new Uint8Array(), "an-id");
}
