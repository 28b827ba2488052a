// The services of TicketForge, read from services.json at the repository root: the one place they
// are listed (docs/add-a-service.md). Plain .js configs (jest.config.js, eslint.config.mjs) read
// the JSON themselves; TypeScript reads it through here, typed and checked.
import type { BusUser, Subject } from "@ticketforge/common";
import manifestJson from "../services.json";

export interface ServiceEntry {
  /** Its name: NATS user, Deployment, Jest project, the prefix of its variables (`ORDERS_PORT`). */
  name: string;
  /** Its workspace folder at the repository root. */
  folder: string;
  /** Its default port (npm start, and PORT in infra/k8s). */
  port: number;
  /** Its own database (`npm start` creates it on the embedded server). */
  database: string;
  /** The subjects its outbox publishes: the only ones its NATS user may publish. */
  publishes: readonly Subject[];
  /** The subjects its listeners consume: one durable consumer each. */
  consumes: readonly Subject[];
  /** The NATS key-value buckets it writes to (auth: revoked_sessions, where sign-out is announced). */
  kvWrites?: readonly string[];
  /** Letters for an operator that are no events (payments: a refund that keeps failing). */
  notices?: readonly string[];
}

export interface AppEntry {
  name: string;
  folder: string;
  port: number;
}

export interface ServicesManifest {
  gateway: { port: number };
  services: readonly ServiceEntry[];
  /** The Next.js web app: an image and a process of its own, but no database and no NATS user. */
  client: AppEntry;
}

export const manifest = manifestJson as unknown as ServicesManifest;

/** The backend services' names, in the manifest's order. */
export const services: readonly string[] = manifest.services.map((s) => s.name);

/** Everything built into an image and started by npm start: the services and the web app. */
export const apps: readonly string[] = [...services, manifest.client.name];

/** A service's entry; throws naming the unknown service. */
export function serviceEntry(name: string): ServiceEntry {
  const entry = manifest.services.find((s) => s.name === name);
  if (!entry) throw new Error(`services.json lists no service "${name}" (it lists ${services.join(", ")})`);
  return entry;
}

/** Default ports by process name: the gateway, each service, the client. */
export const defaultPorts: Record<string, number> = {
  gateway: manifest.gateway.port,
  ...Object.fromEntries(manifest.services.map((s) => [s.name, s.port])),
  [manifest.client.name]: manifest.client.port,
};

/** Each service's NATS user: what it publishes and the subjects its durable consumers read. */
export const busUsers: BusUser[] = manifest.services.map((s) => ({
  service: s.name,
  publishes: s.publishes,
  listens: s.consumes,
  kvWrites: s.kvWrites,
  notices: s.notices,
}));
