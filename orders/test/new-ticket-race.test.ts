import request from "supertest";
import { serviceUnderTest } from "@ticketforge/nats";
import { aTicket, aUser, publish } from "@ticketforge/common/testing";
import { orders } from "../src/service";

// neither the rate limit nor the cap in the way: the buyer here asks again and again on purpose
const under = serviceUnderTest(orders, { config: { ORDERS_RATE_LIMIT_PER_MINUTE: 1_000_000, ORDERS_MAX_LIVE_PER_BUYER: 1_000 } });

const order = (cookie: string, ticketId: string) => request(under.service.app).post("/api/orders").set("Cookie", cookie).send({ ticketId });

describe("POST /api/orders while the ticket is arriving", () => {
  test("When a buyer orders tickets the moment they go on sale, then each order is refused with 404 until its ticket is known here, then placed: never a 400", async () => {
    const eager = aUser();
    const tickets = Array.from({ length: 30 }, () => aTicket());
    const replies = await Promise.all(
      tickets.map(async (ticket) => {
        const statuses: number[] = [];
        // the buyer's orders race the ticket's arrival (and each other, for the buyer's lock)
        const arrived = publish(under.service, "ticket.created", ticket);
        for (let status = 0; status !== 201 && statuses.length < 200;) {
          status = (await order(eager.cookie, ticket.id)).status;
          statuses.push(status);
        }
        await arrived;
        return statuses;
      }),
    );
    for (const statuses of replies) {
      expect(statuses.at(-1)).toBe(201);
      expect(statuses.slice(0, -1).every((s) => s === 404)).toBe(true);
    }
  });
});
