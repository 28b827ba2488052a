import type { BusUser } from "@ticketforge/common";
import { auth } from "../../auth/src/service";
import { tickets } from "../../tickets/src/service";
import { orders } from "../../orders/src/service";
import { payments } from "../../payments/src/service";
import { expiration } from "../../expiration/src/service";

/**
 * Each service's NATS user and the subjects its listeners consume, read from the service
 * definitions themselves: the accounts of the local server and of infra/k8s nats.conf are made
 * from this list, so a new listener cannot be forgotten in either.
 */
export const busUsers: BusUser[] = [auth, tickets, orders, payments, expiration].map((d) => ({
  service: d.name,
  listens: d.listeners.map((l) => l.subject),
}));
