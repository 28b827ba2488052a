import request from "supertest";
import { startTestService, type TestService } from "@ticketforge/common/testing";
import { auth } from "@ticketforge/auth/service";
import { tickets } from "@ticketforge/tickets/service";
import { orders } from "@ticketforge/orders/service";
import { paymentsService } from "@ticketforge/payments/service";
import { expiration } from "@ticketforge/expiration/service";

export type ServiceName = "auth" | "tickets" | "orders" | "payments" | "expiration";
export type Services = Record<ServiceName, TestService>;

/**
 * Every service in this process, each with its own database, on one nats-server: the whole API
 * at the speed of a service test. For tests that follow a user or a request across services
 * (sessions, the authorization matrix, the fuzzer); the process-per-service stack is in stack.ts.
 */
export async function startServices(
  natsUrl: string,
  config: Record<string, unknown> = {},
  /** Settings of one service only (its NATS user, say). */
  own: (service: ServiceName) => Record<string, unknown> = () => ({}),
): Promise<Services> {
  const started: Partial<Services> = {};
  const configOf = (name: ServiceName) => ({ ...config, ...own(name) });
  try {
    started.auth = await startTestService(auth, natsUrl, { config: configOf("auth") });
    started.tickets = await startTestService(tickets, natsUrl, { config: configOf("tickets") });
    started.orders = await startTestService(orders, natsUrl, { config: configOf("orders") });
    started.payments = await startTestService(paymentsService(), natsUrl, { config: configOf("payments") });
    started.expiration = await startTestService(expiration, natsUrl, { config: configOf("expiration") });
    return started as Services;
  } catch (err) {
    await stopServices(started);
    throw err;
  }
}

export async function stopServices(services: Partial<Services> | undefined) {
  for (const s of Object.values(services ?? {})) await s?.close().catch(() => undefined);
}

/** The service that answers a path, as the ingress routes it. */
export function serviceFor(services: Services, path: string): TestService {
  if (path.startsWith("/api/users")) return services.auth;
  if (path.startsWith("/api/tickets")) return services.tickets;
  if (path.startsWith("/api/orders")) return services.orders;
  if (path.startsWith("/api/payments")) return services.payments;
  throw new Error(`no service for ${path}`);
}

/** Signs a new user up through the auth service; returns their id and session cookie. */
export async function signUp(services: Services, name = "user") {
  const email = `${name}-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const res = await request(services.auth.app).post("/api/users/signup").send({ email, password: "correct horse battery" });
  if (res.status !== 201) throw new Error(`sign-up answered ${res.status}: ${JSON.stringify(res.body)}`);
  const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("session="))!.split(";")[0];
  return { id: res.body.id as string, email, cookie };
}

export { busUsers } from "../../scripts/launcher/bus-users";
