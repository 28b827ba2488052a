import request from "supertest";
import { randomUUID } from "node:crypto";
import { aTicket, anOrder, aUser, publish, type TestService } from "@ticketforge/common/testing";
import { eventually } from "@ticketforge/nats";

type User = ReturnType<typeof aUser>;

/** A user as auth announces them (user.registered), with a session cookie. */
export async function givenUser(service: TestService): Promise<User & { email: string }> {
  const user = aUser();
  const email = `user-${randomUUID()}@example.com`;
  await publish(service, "user.registered", { id: user.id, email });
  return { ...user, email };
}

/**
 * A ticket of `seller` bought by `buyer`: ticket.created and order.completed as tickets and orders
 * publish them; resolves once the buyer's pass is listed.
 */
export async function givenPass(service: TestService, seller: User, buyer: User, title = "Opera night") {
  const ticket = aTicket({ userId: seller.id, title });
  const order = anOrder({ ticketId: ticket.id, buyerId: buyer.id });
  await publish(service, "ticket.created", ticket);
  await publish(service, "order.completed", order.completed());
  const pass = await eventually(async () => {
    const res = await request(service.app).get("/api/passes").set("Cookie", buyer.cookie);
    return (res.body as Array<{ id: string; orderId: string }>).find((p) => p.orderId === order.id);
  });
  return { ticket, order, pass: pass as { id: string; orderId: string } };
}

export async function codeOf(service: TestService, passId: string, owner: User): Promise<string> {
  const res = await request(service.app).get(`/api/passes/${passId}/code`).set("Cookie", owner.cookie);
  if (res.status !== 200) throw new Error(`no code: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.code;
}
