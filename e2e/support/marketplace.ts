import { eventually } from "@ticketforge/nats";
import { randomUUID } from "node:crypto";
import type { Order, Ticket, User as ApiUser } from "@ticketforge/common/api";

/** A signed-up user and the session cookie the auth service gave them. */
export interface User {
  id: string;
  email: string;
  cookie: string;
}

export interface Reply {
  status: number;
  body: any;
}

/**
 * The marketplace as a browser sees it: plain HTTP through the gateway, a user being nothing but
 * the cookie that sign-up set. Every user signed up here is remembered, so a test can look at
 * the whole marketplace (all orders of everyone) through the public API.
 */
export class Marketplace {
  readonly users: User[] = [];
  /** Who sells each ticket sold here: only the seller is shown which order holds a ticket. */
  private readonly sellers = new Map<string, User>();

  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, options: { as?: User; body?: unknown; idempotencyKey?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.as) headers.cookie = options.as.cookie;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text, a failing assertion shows it
    }
    return { status: res.status, body };
  }

  /** POST /api/users/signup; the returned user carries the session cookie. */
  async signUp(name = "user"): Promise<User> {
    const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
    const res = await fetch(`${this.baseUrl}/api/users/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse battery" }),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 201) throw new Error(`sign-up of ${email} answered ${res.status}: ${await res.text()}`);
    const session = res.headers.getSetCookie().find((c) => c.startsWith("session="));
    if (!session) throw new Error(`sign-up of ${email} set no session cookie`);
    const { id } = (await res.json()) as ApiUser;
    const user = { id, email, cookie: session.split(";")[0] };
    this.users.push(user);
    return user;
  }

  async signUpMany(count: number, name: string): Promise<User[]> {
    return inBatches(
      Array.from({ length: count }, (_, i) => i),
      10,
      (i) => this.signUp(`${name}${i}`),
    );
  }

  /** A seller puts a ticket on sale; fails unless it is created. */
  async sell(seller: User, title = "Concert", price = 20.5): Promise<Ticket> {
    const ticket: Ticket = created(await this.request("POST", "/api/tickets", { as: seller, body: { title, price } }), "ticket");
    this.sellers.set(ticket.id, seller);
    return ticket;
  }

  placeOrder(buyer: User, ticketId: string): Promise<Reply> {
    return this.request("POST", "/api/orders", { as: buyer, body: { ticketId } });
  }

  /** A buyer orders a ticket; fails unless the order is created. */
  async order(buyer: User, ticketId: string): Promise<Order> {
    return created(await this.placeOrder(buyer, ticketId), "order");
  }

  pay(buyer: User, orderId: string, token = "tok_visa"): Promise<Reply> {
    return this.request("POST", "/api/payments", { as: buyer, body: { orderId, token } });
  }

  cancel(buyer: User, orderId: string): Promise<Reply> {
    return this.request("DELETE", `/api/orders/${orderId}`, { as: buyer });
  }

  async ticket(id: string): Promise<Ticket> {
    return ok(await this.request("GET", `/api/tickets/${id}`, { as: this.sellers.get(id) }), `ticket ${id}`);
  }

  async orderOf(buyer: User, id: string): Promise<Order> {
    return ok(await this.request("GET", `/api/orders/${id}`, { as: buyer }), `order ${id}`);
  }

  async ordersOf(buyer: User): Promise<Order[]> {
    return ok(await this.request("GET", "/api/orders", { as: buyer }), `orders of ${buyer.email}`);
  }

  /** Every order of every user signed up here, by id. */
  async allOrders(): Promise<Map<string, Order>> {
    const lists = await inBatches(this.users, 10, (u) => this.ordersOf(u));
    return new Map(lists.flat().map((o) => [o.id, o]));
  }

  async tickets(ids: string[]): Promise<Ticket[]> {
    return inBatches(ids, 10, (id) => this.ticket(id));
  }
}

function ok(reply: Reply, what: string) {
  if (reply.status !== 200) throw new Error(`GET ${what} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

function created(reply: Reply, what: string) {
  if (reply.status !== 201) throw new Error(`creating a ${what} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Runs `work` over `items`, at most `size` at a time, keeping the order of the results. */
export async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

/** The error messages of an error reply. */
export function messages(reply: Reply): string[] {
  return ((reply.body?.errors ?? []) as Array<{ message: string }>).map((e) => e.message);
}

/**
 * Repeats a request while it answers 404: a service learns of a ticket or an order from an event,
 * so for a few milliseconds after its creation elsewhere it does not know it yet (eventual
 * consistency a real client also meets). Any other answer is returned as it is.
 */
export async function onceKnown(send: () => Promise<Reply>, timeoutMs = 20_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await send();
    if (reply.status !== 404 || Date.now() > deadline) return reply;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Retries `assertion` until it passes (jest's expect() returns nothing, so it cannot be handed to
 * `eventually` as it is: that waits for a truthy value).
 */
export async function untilPasses(assertion: () => Promise<unknown> | unknown, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      await assertion();
      return true;
    },
    timeoutMs,
    100,
  );
}
