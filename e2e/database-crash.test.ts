/**
 * The single-node shape (one process per service, one nats-server) when its PostgreSQL server is
 * SIGKILLed under load: the supervisor starts it again (as `npm start`'s does), the services
 * answer 503 while it is away, never 500, and once every order is final nothing is lost or done
 * twice. `npm test` runs a short load; `npm run test:long` a longer one.
 */
import {
  Buyers,
  Databases,
  allFinal,
  brokenInvariants,
  nothingBroken,
  killPostgres,
  long,
  ticketsOnSale,
  underLoad,
} from "./support/failures";
import { startWorld, type World } from "./support/world";

jest.setTimeout(600_000);

let world: World;
let db: Databases;

beforeAll(async () => {
  world = await startWorld({ ownPostgres: true, expirationWindowSeconds: 10 });
  db = new Databases(world.stack.databaseUrls);
}, 240_000);

afterAll(async () => {
  await db?.close();
  await world?.stop();
}, 60_000);

describe("PostgreSQL crashes", () => {
  test("When the database server is killed while buyers order, pay and cancel, then the calls and the readiness probe meanwhile get 503, never 500, and nothing is lost or done twice", async () => {
    const seller = await world.market.signUp("seller");
    const people = await world.market.signUpMany(long ? 10 : 4, "buyer");
    const buyers = new Buyers(world);
    const tickets = await ticketsOnSale(world, seller, long ? 100 : 24);
    // what the orders service tells its probes meanwhile
    const readiness = new Set<number>();
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const res = await fetch(`http://127.0.0.1:${world.stack.ports.orders}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        if (res) readiness.add(res.status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // the server is killed twice, a few seconds apart, while the buyers are at work
    const figures = await underLoad(world, db, buyers, { buyers: people, tickets, pauseMs: long ? 200 : 500 }, "PostgreSQL", async () => {
      await killPostgres(world, db);
      await new Promise((r) => setTimeout(r, 3_000));
      await killPostgres(world, db);
    });
    probing = false;
    await probe;
    // not ready while its database was away, ready again after
    expect([...readiness].sort()).toEqual([200, 503]);
    expect((await fetch(`http://127.0.0.1:${world.stack.ports.orders}/readyz`)).status).toBe(200);
    await allFinal(world, db);
    const broken = await brokenInvariants(world, db, buyers, tickets);
    console.log(
      `database crash: ${JSON.stringify({ ...figures, orders: buyers.placed.length, refusedAfterRetry: buyers.refused.length })}`,
    );
    expect(broken).toEqual(nothingBroken);
    expect(buyers.serverErrors.filter((e) => e.status !== 503)).toEqual([]);
    expect(buyers.refused.filter((r) => r.status !== 400)).toEqual([]);
    expect(figures.orders).toBeGreaterThan(0);
  });
});
