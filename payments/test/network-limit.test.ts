import { aUser } from "@ticketforge/common/testing";
import request from "supertest";
import { serviceUnderTest } from "@ticketforge/nats";
import { paymentsService } from "../src/service";
import { givenOrder, RecordingProvider } from "./helpers";

const provider = new RecordingProvider();

// behind the gateway on loopback: X-Forwarded-For names the client (TRUST_PROXY)
const under = serviceUnderTest(paymentsService({ provider }), {
  config: { PAYMENT_ATTEMPTS_PER_NETWORK_PER_MINUTE: 4, TRUST_PROXY: "loopback" },
});

const payFrom = (address: string, cookie: string, orderId: string) =>
  request(under.service.app)
    .post("/api/payments")
    .set("X-Forwarded-For", address)
    .set("Cookie", cookie)
    .send({ orderId, token: "tok_visa" });

/** A new buyer with an order of their own, each trying one card: every per-buyer and per-order limit is fresh. */
const newBuyer = () => givenOrder(under.service, aUser());

describe("payment attempts per client network", () => {
  test("When many buyers pay from one address, then past the limit each is refused with 429 and Retry-After before any charge, while another address still pays", async () => {
    const buyers = await Promise.all(Array.from({ length: 6 }, newBuyer));
    const statuses = [];
    for (const b of buyers.slice(0, 4)) statuses.push((await payFrom("203.0.113.7", b.buyer.cookie, b.id)).status);
    expect(statuses).toEqual([201, 201, 201, 201]);

    const refused = await payFrom("203.0.113.7", buyers[4].buyer.cookie, buyers[4].id);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.body).toEqual({
      errors: [{ message: expect.stringMatching(/^Too many payment attempts from your network, try again in \d+ seconds$/) }],
    });
    expect(provider.chargeCallsOf(buyers[4].id)).toHaveLength(0);
    // even the buyer's first attempt: it is the address that is held back, not the account
    expect((await payFrom("203.0.113.7", aUser().cookie, buyers[5].id)).status).toBe(429);

    expect((await payFrom("198.51.100.20", buyers[5].buyer.cookie, buyers[5].id)).status).toBe(201);
    expect(provider.chargeCallsOf(buyers[5].id)).toHaveLength(1);
  });

  test("When one client rotates through the addresses of its IPv6 /64, then they count as one network", async () => {
    const buyers = await Promise.all(Array.from({ length: 6 }, newBuyer));
    const statuses = [];
    for (const [i, b] of buyers.slice(0, 5).entries())
      statuses.push((await payFrom(`2001:db8:27:9::${i + 1}`, b.buyer.cookie, b.id)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    // the next /64 is another client
    expect((await payFrom("2001:db8:27:a::1", buyers[5].buyer.cookie, buyers[5].id)).status).toBe(201);
  });
});
