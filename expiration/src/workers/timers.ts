import type { Worker } from "@ticketforge/common";
import type { ExpirationContext } from "../app";
import { countDueTimers, deleteTimers, lockDueTimers, msUntilNextTimer } from "../db/timers";

/** Timers fired per transaction: bounds how long one pass holds its row locks. */
const batchSize = 100;
/** Shortest pause, so that timers due but locked by another replica do not make this one spin. */
const minPauseMs = 20;

/**
 * Fires due timers: in ONE transaction it locks them, writes an expiration.complete for each to
 * the outbox and deletes them, so a timer fires exactly once, whether the process dies before
 * or after the commit and however many replicas run. Returns how many fired and when to look again.
 */
export async function fireDueTimers(ctx: ExpirationContext): Promise<{ fired: number; nextInMs?: number; lateSeconds?: number }> {
  return ctx.work(async (uow) => {
    const due = await lockDueTimers(uow.db, batchSize);
    for (const { orderId } of due) {
      const eventId = uow.publish("expiration.complete", { orderId });
      uow.log.info({ orderId, eventId }, "reservation window ran out; expiration.complete sent");
    }
    if (due.length > 0)
      await deleteTimers(
        uow.db,
        due.map((t) => t.orderId),
      );
    const lateSeconds = due.length > 0 ? Math.max(...due.map((t) => t.lateSeconds)) : undefined;
    return { fired: due.length, nextInMs: await msUntilNextTimer(uow.db), lateSeconds };
  });
}

/**
 * The loop of the service: fire what is due, then sleep until the next timer is due, at most
 * EXPIRATION_POLL_MS (timers started meanwhile by the listeners, or by other replicas, are seen
 * on the next look). Timers that fell due while the service was down fire on the first pass.
 */
export function startTimerWorker(ctx: ExpirationContext): Worker {
  const pollMs = ctx.config.EXPIRATION_POLL_MS;
  let stopped = false;
  let wake = () => undefined as void;
  let lastLateness = 0;
  ctx.metrics.gauge("tf_expiration_timers_due", "Timers past their expiresAt and not yet fired", [], async () => [
    [{}, await countDueTimers(ctx.db)],
  ]);
  ctx.metrics.gauge(
    "tf_expiration_last_fire_lateness_seconds",
    "How late after expiresAt the last fired timers fired (the latest of the batch)",
    [],
    () => [[{}, lastLateness]],
  );

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopped) {
      let pauseMs = pollMs;
      try {
        const { fired, nextInMs, lateSeconds } = await fireDueTimers(ctx);
        if (lateSeconds !== undefined) lastLateness = lateSeconds;
        if (fired === batchSize) continue; // a backlog: keep going without a pause
        if (nextInMs !== undefined) pauseMs = Math.min(pollMs, Math.max(minPauseMs, Math.ceil(nextInMs)));
      } catch (err) {
        // the database may be briefly unreachable: the timers are safe in it, look again later
        ctx.log.warn({ err }, "looking for due timers failed; retrying");
      }
      if (!stopped) await pause(pauseMs);
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}
