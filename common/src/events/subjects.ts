/** Every event subject of TicketForge (docs/design.md §4); streams and diagrams are checked against this list. */
export const subjects = [
  "ticket.created",
  "ticket.updated",
  "ticket.reservation_refused",
  "order.created",
  "order.cancelled",
  "order.completed",
  "expiration.complete",
  "payment.completed",
  "payment.refunded",
  "user.registered",
  "pass.issued",
  "pass.transferred",
  "pass.checked_in",
] as const;

export type Subject = (typeof subjects)[number];

/** One JetStream stream per publishing domain. */
export const streams = [
  { name: "TICKETS", subjects: ["ticket.>"] },
  { name: "ORDERS", subjects: ["order.>"] },
  { name: "PAYMENTS", subjects: ["payment.>"] },
  { name: "EXPIRATION", subjects: ["expiration.>"] },
  { name: "USERS", subjects: ["user.>"] },
  { name: "PASSES", subjects: ["pass.>"] },
] as const;

export const deadLetterStream = { name: "DEADLETTER", subjects: ["deadletter.>"] } as const;

export function streamOf(subject: string): string {
  const domain = subject.split(".")[0];
  const stream = streams.find((s) => s.subjects[0] === `${domain}.>`);
  if (!stream) throw new Error(`No stream for subject ${subject}`);
  return stream.name;
}
