import { checkNextVersion, listener, RetryLater } from "@ticketforge/common";
import { lockOrder, setOrderStatus } from "../db/orders";

/** A completed order is paid: any further payment for it is refused. */
export const orderCompletedListener = listener("order.completed", async ({ data }, { tx, log }) => {
  const order = await lockOrder(tx, data.id);
  if (!order) throw new RetryLater(`order ${data.id} not known yet`);
  checkNextVersion(order.version, data.version, `order ${data.id}`);
  await setOrderStatus(tx, data.id, "complete", data.version);
  log.info({ orderId: data.id }, "order completed");
});
