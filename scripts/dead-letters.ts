/**
 * Operators' view of the dead-letter stream:
 *   npm run dead-letters                  list every parked event with its error and deliveries
 *   npm run dead-letters -- list orders   only the orders service's
 *   npm run dead-letters -- replay orders publish them again (after the cause is fixed)
 * Replay redelivers the original message stored in the event's stream, never a letter's body; a
 * letter that points to no such message (forged, or past the stream's limits) stays and is named.
 * Everything a letter holds was written by a service and is shown with control characters escaped.
 * NATS_URL selects the server (default nats://127.0.0.1:4222); on a server with accounts,
 * NATS_USER / NATS_PASSWORD are the admin's (npm start keeps them in .data/nats/passwords.json).
 */
import { Bus, createLogger, formatDeadLetter, listDeadLetters, printable, replayDeadLetters } from "@ticketforge/common";

async function main() {
  const [command = "list", service] = process.argv.slice(2);
  const log = createLogger("dead-letters", "warn");
  const bus = await Bus.connect({
    url: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    name: "dead-letters",
    log,
    user: process.env.NATS_USER,
    password: process.env.NATS_PASSWORD,
    manageStreams: true,
  });
  try {
    if (command === "list") {
      const letters = await listDeadLetters(bus, service);
      for (const l of letters) console.log(formatDeadLetter(l));
      console.log(`${letters.length} dead letter(s)${service ? ` for ${printable(service)}` : ""}`);
    } else if (command === "replay") {
      const replayed = await replayDeadLetters(bus, service, {
        onRefused: (l, reason) => console.log(`not replayed: #${l.seq} ${printable(l.service)} ${printable(l.subject)}: ${printable(reason)}`),
      });
      console.log(`replayed ${replayed} dead letter(s)`);
    } else {
      console.error("usage: npm run dead-letters -- [list|replay] [service]");
      process.exitCode = 2;
    }
  } finally {
    await bus.drain();
  }
}

void main();
