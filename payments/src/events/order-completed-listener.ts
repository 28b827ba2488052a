import { checkNextVersion, listener, RetryLater } from "@ticketforge/common";
import { lockOrder, setOrderStatus } from "../db/orders";
import type { PaymentsTables } from "../db/tables";

/** A completed order is paid: any further payment for it is refused. */
export const orderCompletedListener = listener<"order.completed", PaymentsTables>({
  subject: "order.completed",
  orderedBy: (event) => event.data.id,
  async handle({ data }, uow) {
    const order = await lockOrder(uow.db, data.id);
    if (!order) throw new RetryLater(`order ${data.id} not known yet`);
    checkNextVersion(order.version, data.version, `order ${data.id}`);
    await setOrderStatus(uow.db, data.id, "complete", data.version);
    uow.log.info({ orderId: data.id }, "order completed");
  },
});
