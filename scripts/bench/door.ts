/**
 * The door (issue 29), measured from outside through the gateway: how soon a paid ticket's pass
 * is listed, check-ins per second for one scanner and for ten, and how many codes a scanner
 * verifies per second offline (WebCrypto, the public key only, as the Door page does).
 */
import { checkCodeOffline, importScannerKeys, type Pass, type PassCode, type ScannerKeys } from "@ticketforge/common/api";
import type { httpOf } from "./crowds";
import { inBatches, percentile, round, sleep } from "./sample";

export interface DoorResults {
  passes: number;
  /**
   * From the payment's 201 to the pass in GET /api/passes, polled every 5 ms: one purchase at a
   * time, as a buyer at the checkout sees it (the first quarter of the passes).
   */
  paymentToPass: { p50Ms: number; p99Ms: number; maxMs: number; purchases: number };
  /** The same while ten purchases run at once, each polling every 5 ms (the other passes). */
  paymentToPassTenAtOnce?: { p50Ms: number; p99Ms: number; maxMs: number; purchases: number };
  checkinsPerSecond: { oneScanner: number; tenScanners: number };
  offlineVerificationsPerSecond: number;
}

const pct = (xs: number[], p: number) => round(percentile(xs, p));

export async function door(options: {
  http: ReturnType<typeof httpOf>;
  signUp: (name: string) => Promise<string>;
  say: (line: string) => void;
  passes?: number;
}): Promise<DoorResults> {
  const { http, say } = options;
  const n = options.passes ?? 200;
  const seller = await options.signUp("door-seller");
  const buyer = await options.signUp("door-buyer");
  const alone = Math.max(1, Math.floor(n / 4));
  say(`door: ${n} tickets bought, each pass awaited: ${alone} one at a time, then ${n - alone} ten at a time…`);
  const toPass: number[] = [];
  const toPassTenAtOnce: number[] = [];
  const buy = (times: number[]) => async (i: number) => {
    const ticket = await http("POST", "/api/tickets", { title: `Door ${i}`, price: 10 }, seller);
    const ticketId = (ticket.json as { id: string }).id;
    let order;
    // orders learns of a brand-new ticket through ticket.created
    while ((order = await http("POST", "/api/orders", { ticketId }, buyer)).status !== 201) await sleep(10);
    const orderId = (order.json as { id: string }).id;
    while ((await http("POST", "/api/payments", { orderId, token: "tok_visa" }, buyer)).status !== 201) await sleep(10);
    const paidAt = performance.now();
    for (;;) {
      const list = await http("GET", "/api/passes", undefined, buyer);
      if ((list.json as Pass[]).some((p) => p.orderId === orderId)) break;
      await sleep(5);
    }
    times.push(performance.now() - paidAt);
  };
  await inBatches(
    Array.from({ length: alone }, (_, i) => i),
    1,
    buy(toPass),
  );
  await inBatches(
    Array.from({ length: n - alone }, (_, i) => alone + i),
    10,
    buy(toPassTenAtOnce),
  );
  const passes = (await http("GET", "/api/passes", undefined, buyer)).json as Pass[];
  const codes: string[] = [];
  for (const p of passes) codes.push(((await http("GET", `/api/passes/${p.id}/code`, undefined, buyer)).json as PassCode).code);

  const keys = (await http("GET", "/api/checkins/keys", undefined, seller)).json as ScannerKeys;
  const verifyKeys = await importScannerKeys(keys.keys);
  const lists = { revoked: new Set<string>(), admitted: new Set<string>(), windowSeconds: keys.windowSeconds };
  let t = performance.now();
  for (let round = 0; round < 5; round++) for (const code of codes) await checkCodeOffline(verifyKeys, code, lists);
  const offlineVerificationsPerSecond = Math.round((5 * codes.length) / ((performance.now() - t) / 1000));

  const half = Math.floor(codes.length / 2);
  const admit = async (code: string, scanner: string) => {
    const r = await http("POST", "/api/checkins", { code, scanner }, seller);
    if (r.status !== 201) throw new Error(`check-in answered ${r.status}: ${JSON.stringify(r.json)}`);
  };
  t = performance.now();
  for (const code of codes.slice(0, half)) await admit(code, "one");
  const oneScanner = Math.round(half / ((performance.now() - t) / 1000));
  t = performance.now();
  let scanner = 0;
  await inBatches(codes.slice(half), 10, (code) => admit(code, `door-${scanner++ % 10}`));
  const tenScanners = Math.round((codes.length - half) / ((performance.now() - t) / 1000));
  say(
    `  pass listed after p50 ${pct(toPass, 50)} ms one at a time, ${pct(toPassTenAtOnce, 50)} ms ten at once; ${oneScanner} check-ins/s (1 scanner), ${tenScanners}/s (10); ${offlineVerificationsPerSecond} offline verifications/s`,
  );
  return {
    passes: passes.length,
    paymentToPass: { p50Ms: pct(toPass, 50), p99Ms: pct(toPass, 99), maxMs: pct(toPass, 100), purchases: toPass.length },
    paymentToPassTenAtOnce: {
      p50Ms: pct(toPassTenAtOnce, 50),
      p99Ms: pct(toPassTenAtOnce, 99),
      maxMs: pct(toPassTenAtOnce, 100),
      purchases: toPassTenAtOnce.length,
    },
    checkinsPerSecond: { oneScanner, tenScanners },
    offlineVerificationsPerSecond,
  };
}
