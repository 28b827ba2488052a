/**
 * How big the long suites run. `npm test` runs each at the size that proves its point on every
 * change; `TEST_SIZE=long` (`npm run test:long`, and the e2e workflow) runs them at full size. A
 * suite's own variable (FAILOVER_ORDERS, FUZZ_RUNS, CRASH_ORDERS) wins over both.
 */
const size = process.env.TEST_SIZE ?? "";
if (!["", "quick", "long"].includes(size)) throw new Error(`TEST_SIZE must be "long" or unset (got "${size}")`);

/** True under `npm run test:long`. */
export const longRun = size === "long";

/** The variable's value if set, else `quick` for `npm test` and `long` for `npm run test:long`. */
export function testSize(variable: string, quick: number, long: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === "") return longRun ? long : quick;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${variable} must be a whole number of at least 1 (got "${raw}")`);
  return n;
}
