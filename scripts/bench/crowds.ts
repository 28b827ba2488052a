/**
 * Crowds: many signed-in buyers at the same instant, measured from outside through the gateway,
 * as a sale's first seconds look. Two scenarios:
 * - one ticket, every buyer orders it at once: exactly one order, every other buyer a clean 400.
 *   Asked three times: first by buyers who have just signed up, as a sale opens (each one's first
 *   request to orders, whose session it has not verified yet, on a connection of its own that the
 *   gateway has not seen, in the services' first crowd, whose refusal path may not be compiled
 *   yet), then by the same buyers on another ticket (sessions known, connections kept), which
 *   shows what the first time costs, then by as many other buyers who have just signed up (new
 *   sessions on code the two crowds before warmed), which separates the two;
 * - a block of tickets, every buyer reads the listing and orders one of what it shows, again on a
 *   refusal, until it holds one or the listing is empty: how fast the block sells out, and that no
 *   ticket is reserved twice. Three blocks one after the other, by the same buyers: the headline
 *   is the median one.
 */

import http from "node:http";
import { inBatches, percentile, round } from "./sample";

type Http = (method: string, url: string, body?: unknown, cookie?: string) => Promise<{ status: number; json: unknown; ms: number }>;

/** One crowd after one ticket. */
export interface OneTicketCrowd {
  buyers: number;
  created: number;
  refused: number;
  other: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU per request by process over the crowd, the load generator (this process) included. */
  cpuMsPerRequest?: Record<string, number>;
}

export interface CrowdResults {
  /** Buyers who have just signed up: the figure the goal is about. */
  oneTicket: OneTicketCrowd;
  /** The same buyers at once again, on another ticket. */
  oneTicketAgain?: OneTicketCrowd;
  /** Other buyers who have just signed up, after the two crowds before: new sessions, warm code. */
  oneTicketWarm?: OneTicketCrowd;
  /** The median of the blocks by POST p99 (the only block in runs before 2026-12-06's evening). */
  block: BlockCrowd;
  /** Every block of the run, in the order they sold (absent in runs that asked one). */
  blockDraws?: BlockCrowd[];
}

/** One block of tickets sold to the crowd. */
export interface BlockCrowd {
  tickets: number;
  buyers: number;
  soldOutMs: number | null;
  ordersPlaced: number;
  ticketsReservedTwice: number;
  refusals: number;
  post: { p50Ms: number; p99Ms: number; maxMs: number };
  listing: { p50Ms: number; p99Ms: number };
}

/** A percentile of the crowd's times, to a tenth of a millisecond; 0 for a crowd that sent nothing. */
const pct = (xs: number[], p: number) => (xs.length === 0 ? 0 : round(percentile(xs, p)));

/**
 * Requests over kept connections of node:http, a connection per request in flight (as many as a
 * crowd's buyers), timed from the call to the whole answer. The load generator shares the two
 * cores with the stack, so it should cost them little: the process's own fetch (undici) spent
 * 0.9–1.4 ms of CPU per crowd request, node:http with an Agent 0.3–0.8 ms (measured 2026-12-05).
 */
export function httpOf(base: string): Http {
  // A kept connection idle for 4 s is closed here, before the gateway's 5 s keep-alive timeout
  // closes it from its side: hundreds of connections fall idle together between two crowds, and
  // one reused as nginx closed it ended a run with "socket hang up" (s52-c, before the third block).
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4_000 });
  return (method, url, body, cookie) =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = { "content-type": "application/json" };
      if (payload !== undefined) headers["content-length"] = Buffer.byteLength(payload);
      if (cookie) headers.cookie = cookie;
      const req = http.request(base + url, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          try {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, ms: performance.now() - started });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
}

export async function crowds(options: {
  http: Http;
  seller: string;
  /** Signs a new buyer up and returns its session cookie. */
  signUp: (n: number) => Promise<string>;
  /** Resolves once the services have taken in every event so far. */
  quiet: () => Promise<boolean>;
  /** Runs `fn` and answers the CPU milliseconds each process spent meanwhile, by name. */
  measure: <T>(fn: () => Promise<T>) => Promise<{ value: T; cpuMs: Record<string, number> }>;
  buyers?: number;
  tickets?: number;
  /** How many blocks are sold one after the other (3 by default). */
  blocks?: number;
  say: (line: string) => void;
}): Promise<CrowdResults> {
  const { http, seller, say } = options;
  const buyerCount = options.buyers ?? 500;
  const ticketCount = options.tickets ?? 200;
  say(`crowds: signing up ${buyerCount} buyers, and ${buyerCount} more for later…`);
  const signedUp = await inBatches(
    Array.from({ length: 2 * buyerCount }, (_, i) => i),
    8,
    (i) => options.signUp(i),
  );
  const buyers = signedUp.slice(0, buyerCount);
  const later = signedUp.slice(buyerCount);

  // 1. one ticket, every buyer at once: buyers new to orders, then the same buyers again, then
  // other new buyers: a process's first crowd may also pay for compiling the refusal's code
  const oneTicketCrowd = async (title: string, who = buyers): Promise<OneTicketCrowd> => {
    const one = await http("POST", "/api/tickets", { title, price: 100 }, seller);
    if (one.status !== 201) throw new Error(`the crowd's ticket was not created: ${one.status}`);
    const oneId = (one.json as { id: string }).id;
    await options.quiet();
    const { value: answers, cpuMs } = await options.measure(() =>
      Promise.all(who.map((cookie) => http("POST", "/api/orders", { ticketId: oneId }, cookie))),
    );
    const other: Record<string, number> = {};
    for (const a of answers) if (a.status !== 201 && a.status !== 400) other[a.status] = (other[a.status] ?? 0) + 1;
    const times = answers.map((a) => a.ms);
    const crowd: OneTicketCrowd = {
      buyers: buyerCount,
      created: answers.filter((a) => a.status === 201).length,
      refused: answers.filter((a) => a.status === 400 && JSON.stringify(a.json).includes("already reserved")).length,
      other,
      p50Ms: pct(times, 50),
      p99Ms: pct(times, 99),
      maxMs: pct(times, 100),
      cpuMsPerRequest: Object.fromEntries(
        Object.entries(cpuMs)
          .filter(([, ms]) => ms > 0)
          .map(([name, ms]) => [name, Math.round((ms / buyerCount) * 100) / 100]),
      ),
    };
    await options.quiet();
    return crowd;
  };
  const oneTicket = await oneTicketCrowd("The one ticket");
  say(
    `  one ticket, ${buyerCount} buyers at once: ${oneTicket.created} order(s), ${oneTicket.refused} refused, p50 ${oneTicket.p50Ms} ms, p99 ${oneTicket.p99Ms} ms`,
  );
  const oneTicketAgain = await oneTicketCrowd("The one ticket, again");
  say(`  …the same buyers again on another ticket: p50 ${oneTicketAgain.p50Ms} ms, p99 ${oneTicketAgain.p99Ms} ms`);
  const oneTicketWarm = await oneTicketCrowd("The one ticket, other buyers", later);
  say(`  …${buyerCount} other new buyers on a third ticket: p50 ${oneTicketWarm.p50Ms} ms, p99 ${oneTicketWarm.p99Ms} ms`);

  // 2. a block of tickets, every buyer reads the listing and orders what it shows, `blocks` times:
  // one block is one draw of a race (how many buyers a stale listing sends to a ticket just
  // taken), whose POST p99 ranged from 170 to 1,474 ms over eight blocks on one stack
  const blockDraws: BlockCrowd[] = [];
  for (let draw = 0; draw < (options.blocks ?? 3); draw++) {
    const b = await blockCrowd(draw);
    say(
      `  ${ticketCount} tickets, ${buyerCount} buyers (block ${draw + 1}): sold out in ${b.soldOutMs ?? "never"} ms, ${b.ordersPlaced} orders, ` +
        `${b.ticketsReservedTwice} reserved twice, ${b.refusals} refusals, POST p99 ${b.post.p99Ms} ms`,
    );
    blockDraws.push(b);
  }
  return { oneTicket, oneTicketAgain, oneTicketWarm, block: medianBlock(blockDraws), blockDraws };

  async function blockCrowd(draw: number): Promise<BlockCrowd> {
    const block = await inBatches(
      Array.from({ length: ticketCount }, (_, i) => i),
      8,
      async (i) => {
        const r = await http("POST", "/api/tickets", { title: `Crowd block ${draw + 1}, ticket ${i}`, price: 100 }, seller);
        return (r.json as { id: string }).id;
      },
    );
    const inBlock = new Set(block);
    await options.quiet();
    const placed = new Map<string, number>();
    const postTimes: number[] = [];
    const listingTimes: number[] = [];
    let refusals = 0;
    let soldOutAt: number | null = null;
    const started = performance.now();
    await Promise.all(
      buyers.map(async (cookie, n) => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const page = await http("GET", "/api/tickets?limit=100", undefined, cookie);
          listingTimes.push(page.ms);
          const open = (page.json as Array<{ id: string }>).map((t) => t.id).filter((id) => inBlock.has(id));
          if (open.length === 0) return;
          const pick = open[(n + attempt * 7) % open.length];
          const order = await http("POST", "/api/orders", { ticketId: pick }, cookie);
          postTimes.push(order.ms);
          if (order.status === 201) {
            placed.set(pick, (placed.get(pick) ?? 0) + 1);
            if (placed.size === ticketCount && soldOutAt === null) soldOutAt = performance.now() - started;
            return;
          }
          refusals++;
        }
      }),
    );
    return {
      tickets: ticketCount,
      buyers: buyerCount,
      soldOutMs: soldOutAt === null ? null : Math.round(soldOutAt),
      ordersPlaced: [...placed.values()].reduce((a, b) => a + b, 0),
      ticketsReservedTwice: [...placed.values()].filter((n) => n > 1).length,
      refusals,
      post: { p50Ms: pct(postTimes, 50), p99Ms: pct(postTimes, 99), maxMs: pct(postTimes, 100) },
      listing: { p50Ms: pct(listingTimes, 50), p99Ms: pct(listingTimes, 99) },
    };
  }
}

/**
 * The block the headline shows: the median draw by POST p99 (the lower middle one of an even
 * number), a block as it happened rather than figures of different draws put together.
 */
export function medianBlock(draws: BlockCrowd[]): BlockCrowd {
  if (draws.length === 0) throw new Error("no block was measured");
  const sorted = [...draws].sort((a, b) => a.post.p99Ms - b.post.p99Ms);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
