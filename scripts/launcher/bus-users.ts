import type { BusUser } from "@ticketforge/common";
import { auth } from "@ticketforge/auth/service";
import { tickets } from "@ticketforge/tickets/service";
import { orders } from "@ticketforge/orders/service";
import { payments } from "@ticketforge/payments/service";
import { expiration } from "@ticketforge/expiration/service";

/**
 * Each service's NATS user and the subjects its listeners consume, read from the service
 * definitions themselves: the accounts of the local server and of infra/k8s nats.conf are made
 * from this list, so a new listener cannot be forgotten in either.
 */
export const busUsers: BusUser[] = [auth, tickets, orders, payments, expiration].map((d) => ({
  service: d.name,
  listens: d.listeners.map((l) => l.subject),
}));
