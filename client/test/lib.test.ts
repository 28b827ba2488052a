import { api } from "../lib/api";
import { splitErrors, toApiResult } from "../lib/api-result";
import { installFakeFetch } from "./fake-fetch";
import { formatPrice, parsePrice } from "../lib/money";
import { serviceUrl } from "../lib/server-api";
import { orderStatusLabel } from "../lib/status";
import { buyBlockedReason } from "../lib/ticket-view";
import type { Ticket } from "@ticketforge/common/api";
import { safeNextPath } from "../lib/validation";

jest.mock("next/headers", () => ({ headers: async () => new Headers() }));

describe("money", () => {
  it("formats prices as dollars", () => {
    expect(formatPrice(20)).toBe("$20.00");
    expect(formatPrice(20.5)).toBe("$20.50");
    expect(formatPrice(1_000_000)).toBe("$1,000,000.00");
  });

  it("parses what people type", () => {
    expect(parsePrice("20")).toEqual({ value: 20 });
    expect(parsePrice(" 20.5 ")).toEqual({ value: 20.5 });
    expect(parsePrice("20.50")).toEqual({ value: 20.5 });
    expect(parsePrice("20.")).toEqual({ value: 20 });
    expect(parsePrice("0.1")).toEqual({ value: 0.1 });
    expect(parsePrice("1,000,000")).toEqual({ value: 1_000_000 });
    expect(parsePrice("1,00")).toHaveProperty("error");
    expect(parsePrice("1e3")).toHaveProperty("error");
    expect(parsePrice("")).toEqual({ error: "Enter a price" });
  });
});

describe("serviceUrl", () => {
  it("goes through the gateway by default", () => {
    expect(serviceUrl("/api/tickets?limit=5", {})).toBe("http://localhost:3000/api/tickets?limit=5");
    expect(serviceUrl("/api/users/currentuser", { API_BASE_URL: "http://gw:8080/" })).toBe("http://gw:8080/api/users/currentuser");
  });

  it("sends each prefix to its own service when configured", () => {
    const env = {
      API_BASE_URL: "http://gw",
      AUTH_URL: "http://auth-srv:3000",
      TICKETS_URL: "http://tickets-srv:3000",
      ORDERS_URL: "http://orders-srv:3000",
    };
    expect(serviceUrl("/api/users/currentuser", env)).toBe("http://auth-srv:3000/api/users/currentuser");
    expect(serviceUrl("/api/tickets?mine=true", env)).toBe("http://tickets-srv:3000/api/tickets?mine=true");
    expect(serviceUrl("/api/tickets/abc", env)).toBe("http://tickets-srv:3000/api/tickets/abc");
    expect(serviceUrl("/api/orders", env)).toBe("http://orders-srv:3000/api/orders");
    expect(serviceUrl("/api/payments", env)).toBe("http://gw/api/payments");
    expect(serviceUrl("/api/ticketsmith", env)).toBe("http://gw/api/ticketsmith");
  });
});

function response(status: number, body: string, headers: Record<string, string> = {}) {
  return new Response(status === 204 ? null : body, { status, headers });
}

describe("toApiResult", () => {
  it("keeps the API's error messages and fields", async () => {
    const result = await toApiResult(response(400, JSON.stringify({ errors: [{ message: "Title is required", field: "title" }] })));
    expect(result).toEqual({ ok: false, status: 400, errors: [{ message: "Title is required", field: "title" }] });
  });

  it("never shows a 5xx body or a stack trace", async () => {
    const result = await toApiResult(response(500, "Error: boom\n    at Object.<anonymous> (/app/x.js:1:1)"));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ message: "Something went wrong on our side. Please try again in a moment." }]);
  });

  it("shows a 503's own advice, and a plain sentence for a gateway error", async () => {
    const busy = await toApiResult(
      response(503, JSON.stringify({ errors: [{ message: "The payment could not be processed right now; please try again" }] })),
    );
    if (!busy.ok) expect(busy.errors[0].message).toBe("The payment could not be processed right now; please try again");
    const gateway = await toApiResult(response(502, "Bad Gateway"));
    if (!gateway.ok) expect(gateway.errors[0].message).toBe("TicketForge is busy or restarting. Please try again in a moment.");
  });

  it("reads a 204 and plain-text bodies without failing", async () => {
    expect((await toApiResult(response(204, ""))).ok).toBe(true);
    const notJson = await toApiResult(response(404, "<html>Not found</html>"));
    if (!notJson.ok) expect(notJson.errors[0].message).toBe("We could not find that.");
  });

  it("splits field errors from form errors", () => {
    expect(
      splitErrors([{ message: "a", field: "price" }, { message: "b", field: "unknown" }, { message: "c" }], ["title", "price"]),
    ).toEqual({
      fieldErrors: { price: "a" },
      formErrors: ["b", "c"],
    });
  });
});

describe("safeNextPath", () => {
  it("only allows paths on this site", () => {
    expect(safeNextPath("/tickets/new")).toBe("/tickets/new");
    expect(safeNextPath("//evil.example")).toBe("/");
    expect(safeNextPath("https://evil.example")).toBe("/");
    expect(safeNextPath("/\\evil.example")).toBe("/");
    expect(safeNextPath(undefined)).toBe("/");
  });

  it.each([
    ["a tab", "/%09/evil.example", "/\t/evil.example"],
    ["a CR", "/\r/evil.example", "/\r\n/evil.example"],
    ["an LF", "/\n/evil.example", "\n//evil.example"],
    ["a backslash", "\\/evil.example", "/\\/evil.example"],
    ["a dot segment", "/.//evil.example", "/./\\evil.example"],
    ["a scheme", "javascript:alert(1)", "JavaScript:alert(document.cookie)"],
    ["a data URL", "data:text/html,<script>alert(1)</script>", "/%2F%2Fevil.example"],
    ["an absolute URL", "https://evil.example/", "http:/evil.example"],
  ])("never leaves the site through %s", (_what, ...targets) => {
    for (const target of targets) {
      const resolved = new URL(safeNextPath(target), "https://ticketforge.example");
      expect(resolved.origin).toBe("https://ticketforge.example");
      expect(safeNextPath(target).startsWith("//")).toBe(false);
    }
  });

  it("keeps a same-site path with its query and fragment", () => {
    expect(safeNextPath("/tickets?q=jazz#list")).toBe("/tickets?q=jazz#list");
    expect(safeNextPath(["/orders", "//evil.example"])).toBe("/orders");
  });
});

describe("order and ticket states", () => {
  const order = (status: "created" | "cancelled" | "complete", expiresAt: string) => ({ status, expiresAt });
  const now = Date.parse("2030-01-01T12:00:00Z");

  it("names a cancelled order after its window as expired", () => {
    expect(orderStatusLabel(order("cancelled", "2030-01-01T11:59:00Z"), now).label).toBe("Expired");
    expect(orderStatusLabel(order("cancelled", "2030-01-01T12:10:00Z"), now).label).toBe("Cancelled");
    expect(orderStatusLabel(order("created", "2030-01-01T12:10:00Z"), now).label).toBe("Awaiting payment");
    expect(orderStatusLabel(order("complete", "2030-01-01T11:00:00Z"), now).label).toBe("Complete");
  });

  it("names a cancelled order by the reason it was cancelled for, when the order says it", () => {
    const cancelled = (reason: "buyer" | "expired" | "ticket changed", expiresAt: string) => ({
      ...order("cancelled", expiresAt),
      cancellation: { reason, ticketPrice: reason === "ticket changed" ? 10 : null },
    });
    expect(orderStatusLabel(cancelled("buyer", "2030-01-01T11:59:00Z"), now).label).toBe("Cancelled");
    expect(orderStatusLabel(cancelled("expired", "2030-01-01T12:10:00Z"), now).label).toBe("Expired");
    expect(orderStatusLabel(cancelled("ticket changed", "2030-01-01T12:10:00Z"), now).label).toBe("Ticket changed");
  });

  it("gives the reason the Buy button is disabled", () => {
    const ticket = (status: Ticket["status"]): Ticket => ({
      id: "t",
      title: "T",
      price: 1,
      userId: "seller",
      version: 0,
      orderId: null,
      status,
    });
    const buyer = { id: "buyer", email: "b@example.com" };
    expect(buyBlockedReason(ticket("available"), buyer, null)).toBeNull();
    expect(buyBlockedReason(ticket("available"), { id: "seller", email: "s@example.com" }, null)).toMatch(/your own/);
    expect(buyBlockedReason(ticket("reserved"), buyer, null)).toMatch(/Another buyer has reserved/);
    expect(buyBlockedReason(ticket("sold"), buyer, null)).toMatch(/sold/);
  });
});

describe("api with an Idempotency-Key", () => {
  it("sends a keyed request again, with the same key, when the service was restarting or the connection was lost", async () => {
    const { calls } = installFakeFetch(
      { status: 503, body: { errors: [{ message: "briefly unavailable" }] }, headers: { "Retry-After": "0" } },
      { status: 201, body: { id: "o1" } },
    );
    const result = await api<{ id: string }>("POST", "/api/orders", { ticketId: "t1" }, { idempotencyKey: "k-1" });
    expect(result).toMatchObject({ ok: true, status: 201, data: { id: "o1" } });
    expect(calls.map((c) => c.headers["idempotency-key"])).toEqual(["k-1", "k-1"]);
  });

  it("never sends an unkeyed request twice, and gives up on a keyed one after three tries", async () => {
    const { calls } = installFakeFetch({
      status: 503,
      body: { errors: [{ message: "briefly unavailable" }] },
      headers: { "Retry-After": "0" },
    });
    expect((await api("POST", "/api/orders", { ticketId: "t1" })).status).toBe(503);
    expect(calls).toHaveLength(1);
    expect((await api("POST", "/api/orders", { ticketId: "t1" }, { idempotencyKey: "k-2" })).status).toBe(503);
    expect(calls).toHaveLength(4);
  });
});
