/** @jest-environment jsdom */
import { act, fireEvent, render, screen } from "@testing-library/react";
import { OrderLive } from "../components/OrderLive";
import type { Order } from "@ticketforge/common/api";
import { installFakeFetch } from "./fake-fetch";

jest.mock("next/navigation", () => ({ useRouter: () => jest.requireActual("./fake-fetch").router }));

const NOW = Date.parse("2030-01-01T12:00:00.000Z");
const order = (over: Partial<Order> = {}): Order => ({
  id: "o1",
  userId: "u1",
  status: "created",
  expiresAt: new Date(NOW + 60_000).toISOString(),
  version: 0,
  ticket: { id: "t1", title: "Jazz night", price: 20.5 },
  refund: null,
  cancellation: null,
  ...over,
});
const status = () => screen.getByTestId("order-status").textContent;
const flush = () => act(async () => void (await jest.advanceTimersByTimeAsync(1600)));

beforeEach(() => {
  jest.useFakeTimers();
  jest.setSystemTime(NOW);
});
afterEach(() => jest.useRealTimers());

describe("OrderLive", () => {
  it("shows a declined card's reason, then completes by itself after a good payment", async () => {
    const { calls } = installFakeFetch(
      { status: 200, body: order() },
      { status: 400, body: { errors: [{ message: "Your card was declined." }] } },
      { status: 200, body: order() }, // read right after a refused payment
      { status: 201, body: { id: "p1", orderId: "o1" } },
      { status: 200, body: order({ status: "complete", version: 1 }) },
    );
    render(<OrderLive initialOrder={order()} serverNow={NOW} stripeKey={null} />);
    expect(status()).toBe("Awaiting payment");
    expect(screen.getByRole("timer").textContent).toBe("1:00");
    await flush(); // one poll: still created

    fireEvent.click(screen.getByLabelText(/0002/));
    fireEvent.click(screen.getByRole("button", { name: "Pay $20.50" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Your card was declined.");

    fireEvent.click(screen.getByLabelText(/4242/));
    fireEvent.click(screen.getByRole("button", { name: "Pay $20.50" }));
    expect(await screen.findByText("Payment received")).toBeTruthy();
    await flush();
    expect(status()).toBe("Complete");
    expect(screen.getByText(/the ticket is yours/)).toBeTruthy();
    expect(calls.filter((c) => c.url === "/api/payments").map((c) => c.body)).toEqual([
      { orderId: "o1", token: "tok_chargeDeclined" },
      { orderId: "o1", token: "tok_visa" },
    ]);
    // each attempt has a key of its own, so the second card is not refused as the first one's retry
    const keys = calls.filter((c) => c.url === "/api/payments").map((c) => c.headers["idempotency-key"]);
    expect(keys.every((k) => typeof k === "string" && k.length >= 32)).toBe(true);
    expect(new Set(keys).size).toBe(2);
  });

  it("turns expired by itself, even when the server's clock is a little ahead", async () => {
    installFakeFetch({ status: 200, body: order({ expiresAt: new Date(NOW + 2000).toISOString() }) });
    render(<OrderLive initialOrder={order({ expiresAt: new Date(NOW + 2000).toISOString() })} serverNow={NOW} stripeKey={null} />);
    installFakeFetch({ status: 200, body: order({ status: "cancelled", version: 1, expiresAt: new Date(NOW + 2000).toISOString() }) });
    await flush();
    await flush();
    expect(status()).toBe("Expired");
    expect(screen.getByText("Reservation expired")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Pay/ })).toBeNull();
  });

  it("keeps watching after a payment that raced the expiry until the refund shows", async () => {
    const cancelled = order({ status: "cancelled", version: 1 });
    installFakeFetch(
      { status: 400, body: { errors: [{ message: "Order was cancelled; the payment will be refunded" }] } },
      { status: 200, body: cancelled },
      { status: 200, body: cancelled },
      { status: 200, body: { ...cancelled, refund: { amount: 20.5, refundedAt: new Date(NOW).toISOString() } } },
    );
    render(<OrderLive initialOrder={order()} serverNow={NOW} stripeKey={null} />);
    fireEvent.click(screen.getByRole("button", { name: "Pay $20.50" }));
    await flush();
    expect(status()).toBe("Expired");
    expect(screen.getByText(/checking for the refund/)).toBeTruthy();
    await flush();
    await flush();
    expect(screen.getByTestId("refund-note").textContent).toMatch(/refunded/);
    expect(screen.queryByText(/checking for the refund/)).toBeNull();
  });

  it("shows the refund note for a payment that arrived too late", () => {
    render(
      <OrderLive
        initialOrder={order({
          status: "cancelled",
          expiresAt: new Date(NOW - 1000).toISOString(),
          refund: { amount: 20.5, refundedAt: new Date(NOW).toISOString() },
        })}
        serverNow={NOW}
        stripeKey={null}
      />,
    );
    expect(screen.getByTestId("refund-note").textContent).toMatch(
      /Your payment of \$20\.50 arrived after the reservation had ended, so it was refunded/,
    );
  });
});

describe("OrderLive, when the seller changed the ticket after the order (issue 27, finding 11)", () => {
  const changed = (over: Partial<Order> = {}) =>
    order({ status: "cancelled", version: 1, cancellation: { reason: "ticket changed", ticketPrice: 10 }, ...over });

  it("tells the buyer in a plain sentence, with the price now, that nothing was charged, and offers no payment", async () => {
    installFakeFetch({ status: 200, body: changed() });
    render(<OrderLive initialOrder={order({ ticket: { id: "t1", title: "Jazz night", price: 0.01 } })} serverNow={NOW} stripeKey={null} />);
    await flush();
    expect(status()).toBe("Ticket changed");
    expect(screen.getByText("The ticket changed")).toBeTruthy();
    expect(screen.getByTestId("cancel-reason").textContent).toBe(
      "The seller changed this ticket after you ordered (now $10.00). Nothing was charged; order again at the new price.",
    );
    expect(screen.queryByRole("button", { name: /Pay/ })).toBeNull();
    expect(screen.getByRole("link", { name: "See the ticket at its new price" }).getAttribute("href")).toBe("/tickets/t1");
  });

  it("says a payment taken at the old price was given back", () => {
    render(
      <OrderLive
        initialOrder={changed({ refund: { amount: 0.01, refundedAt: new Date(NOW).toISOString() } })}
        serverNow={NOW}
        stripeKey={null}
      />,
    );
    expect(screen.getByTestId("cancel-reason").textContent).toBe(
      "The seller changed this ticket after you ordered (now $10.00). Your payment is given back; order again at the new price.",
    );
    expect(screen.getByTestId("refund-note").textContent).toMatch(/^Your payment of \$0\.01 was refunded on /);
  });
});

describe("OrderLive cancelling", () => {
  it("cancels the order on request and says so", async () => {
    const { calls } = installFakeFetch({ status: 204 }, { status: 200, body: order({ status: "cancelled", version: 1 }) });
    render(<OrderLive initialOrder={order()} serverNow={NOW} stripeKey={null} />);
    fireEvent.click(screen.getByRole("button", { name: "Cancel order" }));
    await flush();
    expect(status()).toBe("Cancelled");
    expect(screen.getByText("Order cancelled")).toBeTruthy();
    expect(calls[0]).toMatchObject({ url: "/api/orders/o1", method: "DELETE" });
  });
});
