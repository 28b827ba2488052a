import { aUser } from "@ticketforge/common/testing";
import request from "supertest";
import { serviceUnderTest } from "@ticketforge/nats";
import { tickets } from "../src/service";
import { createTicket } from "./helpers";

// behind the gateway on loopback: X-Forwarded-For names the client (TRUST_PROXY)
const under = serviceUnderTest(tickets, { config: { TICKETS_SEARCHES_PER_NETWORK_PER_MINUTE: 5, TRUST_PROXY: "loopback" } });

const searchFrom = (address: string, q: string) =>
  request(under.service.app).get("/api/tickets").set("X-Forwarded-For", address).query({ q });
const listFrom = (address: string) => request(under.service.app).get("/api/tickets").set("X-Forwarded-For", address);

describe("GET /api/tickets: title searches per client network", () => {
  test("When one address searches many times, then past the limit it gets 429 with Retry-After, while another address still gets results", async () => {
    await createTicket(under.service, aUser().cookie, { title: "Quartet in the park", price: 10 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await searchFrom("203.0.113.9", "quartet")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);

    const refused = await searchFrom("203.0.113.9", "park");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.body).toEqual({
      errors: [{ message: expect.stringMatching(/^Too many searches from your network, try again in \d+ seconds$/) }],
    });
    // the listing without a search is not a search: it still answers, from memory
    expect((await listFrom("203.0.113.9")).status).toBe(200);

    const other = await searchFrom("198.51.100.30", "quartet");
    expect(other.status).toBe(200);
    expect(other.body.map((t: { title: string }) => t.title)).toEqual(["Quartet in the park"]);
  });

  test("When one client rotates through the addresses of its IPv6 /64, then they count as one network; blank searches are listings", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await searchFrom(`2001:db8:27:b::${i + 1}`, "quartet")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await searchFrom("2001:db8:27:b::99", "   ")).status).toBe(200);
    expect((await searchFrom("2001:db8:27:c::1", "quartet")).status).toBe(200);
  });
});
