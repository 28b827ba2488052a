// The order Jest starts test files in. Jest runs the slowest first when it remembers how long each
// took (its cache, from an earlier run); a fresh clone has no cache, and Jest would fall back to the
// biggest files first. The long suites then start last and the run waits for them on one worker
// while the others idle. These figures, seconds from a measured `npm test` (docs/testing.md),
// stand in for the cache until it has its own.
const Sequencer = require("@jest/test-sequencer").default;
const path = require("node:path");

const measured = {
  "e2e/failover.test.ts": 81,
  "e2e/crash.test.ts": 52,
  "scripts/test/self-healing.test.ts": 39,
  "client/test/journey.test.ts": 39,
  "e2e/database-crash.test.ts": 30,
  "expiration/test/listeners.test.ts": 28,
  "scripts/test/npm-start.test.ts": 25,
  "e2e/expiry.test.ts": 24,
  "e2e/fuzz.test.ts": 19,
  "e2e/marketplace.test.ts": 18,
  "scripts/test/dev-loop.test.ts": 18,
  "tickets/test/order-listeners.test.ts": 18,
  "common/test/consumer.test.ts": 17,
  "client/test/passes-journey.test.ts": 13,
};
const root = path.resolve(__dirname, "../..");

module.exports = class SlowFirst extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached !== undefined) return cached;
    const known = measured[path.relative(root, test.path)];
    if (known !== undefined) return known * 1000;
    // the rest by size, as Jest would, all after the measured ones: a byte counts as a microsecond
    return (test.context.hasteFS.getSize(test.path) ?? 0) / 1000;
  }
};
