/**
 * Operators' view of the dead-letter stream:
 *   npm run dead-letters                  list every parked event with its error and deliveries
 *   npm run dead-letters -- list orders   only the orders service's
 *   npm run dead-letters -- replay orders publish them again (after the cause is fixed)
 * It joins the stack that `npm start` runs on DATA_DIR (default .data), on the port and with the
 * admin password that stack chose (DATA_DIR/stack.json). NATS_URL in the environment picks another
 * server instead (NATS_USER / NATS_PASSWORD: its admin's). It never guesses a default address: a
 * nats-server on 4222 may be a stranger's, and managing streams there would create ours on it.
 * Replay redelivers the original message stored in the event's stream, never a letter's body; a
 * letter that points to no such message (forged, or past the stream's limits) stays and is named.
 * Everything a letter holds was written by a service and is shown with control characters escaped.
 */
import { Bus, createLogger, formatDeadLetter, listDeadLetters, printable, replayDeadLetters } from "@ticketforge/common";
import { adminNatsServer } from "./launcher/running-stack";

async function main() {
  const [command = "list", service] = process.argv.slice(2);
  if (command !== "list" && command !== "replay") {
    console.error("usage: npm run dead-letters -- [list|replay] [service]");
    process.exitCode = 2;
    return;
  }
  const server = adminNatsServer(process.env);
  if ("missing" in server) {
    console.error(server.missing);
    process.exitCode = 1;
    return;
  }
  console.error(`NATS at ${server.url} (${server.from})`);
  const log = createLogger("dead-letters", "warn");
  const bus = await Bus.connect({
    url: server.url,
    name: "dead-letters",
    log,
    user: server.user,
    password: server.password,
    manageStreams: true,
  });
  try {
    if (command === "list") {
      const letters = await listDeadLetters(bus, service);
      for (const l of letters) console.log(formatDeadLetter(l));
      console.log(`${letters.length} dead letter(s)${service ? ` for ${printable(service)}` : ""}`);
    } else if (command === "replay") {
      const replayed = await replayDeadLetters(bus, service, {
        onRefused: (l, reason) =>
          console.log(`not replayed: #${l.seq} ${printable(l.service)} ${printable(l.subject)}: ${printable(reason)}`),
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

if (require.main === module) void main();
