import { execFileSync } from "node:child_process";
import path from "node:path";

const root = path.join(__dirname, "..", "..");

/**
 * Loads the service module in a fresh Node process, as a service's start-up does, then reports
 * the young generation's committed size before and after `compactHeap`.
 */
function youngGenerationAround(flags: string[]): { beforeMb: number; afterMb: number; result: unknown } {
  const script = `
    const v8 = require("node:v8");
    require(${JSON.stringify(path.join(root, "common", "src", "service.ts"))});
    const { compactHeap } = require(${JSON.stringify(path.join(root, "common", "src", "heap.ts"))});
    // what start-up leaves alive: a few MB of objects made while loading
    globalThis.kept = Array.from({ length: 200000 }, (_, i) => ({ i, name: "entry " + i }));
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").physical_space_size / 1048576;
    const beforeMb = young();
    const result = compactHeap() ?? null;
    process.stdout.write(JSON.stringify({ beforeMb, afterMb: young(), result }));`;
  const out = execFileSync(process.execPath, [...flags, "--import", "tsx", "-e", script], { cwd: root, encoding: "utf8" });
  return JSON.parse(out) as { beforeMb: number; afterMb: number; result: unknown };
}

describe("compactHeap, run by every service just after start-up", () => {
  test("When the runtime exposes gc, then the young generation that start-up grew is given back", () => {
    const { beforeMb, afterMb, result } = youngGenerationAround(["--expose-gc"]);
    expect(beforeMb).toBeGreaterThan(8);
    expect(afterMb).toBeLessThan(beforeMb / 4);
    expect(result).toEqual({ ms: expect.any(Number) });
  });

  test("When it does not, then nothing is done", () => {
    const { beforeMb, afterMb, result } = youngGenerationAround([]);
    expect(result).toBeNull();
    expect(afterMb).toBe(beforeMb);
  });
});
