import { SweepLoop } from "../src";

const tick = () => new Promise((r) => setImmediate(r));

describe("the kick, coalesce, sweep loop", () => {
  test("When kicks arrive during a pass, then they coalesce into one more pass", async () => {
    let passes = 0;
    let release!: () => void;
    const loop = new SweepLoop(
      async () => {
        passes++;
        if (passes === 1) await new Promise<void>((r) => (release = r));
      },
      { intervalMs: 60_000, onError: () => undefined },
    ).start();
    await tick();
    for (let i = 0; i < 10; i++) loop.kick();
    release();
    await loop.idle();
    expect(passes).toBe(2);
    await loop.stop();
  });

  test("When a pass throws, then the error is reported and the next kick runs again", async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const loop = new SweepLoop(
      async () => {
        passes++;
        if (passes === 1) throw new Error("broker down");
      },
      { intervalMs: 60_000, onError: (err) => errors.push(err) },
    ).start();
    await loop.idle();
    loop.kick();
    await loop.idle();
    expect(errors).toEqual([new Error("broker down")]);
    expect(passes).toBe(2);
    await loop.stop();
  });

  test("When nothing kicks it, then it still sweeps every interval; after stop it runs no more", async () => {
    let passes = 0;
    const loop = new SweepLoop(async () => void passes++, { intervalMs: 20, onError: () => undefined }).start();
    const { eventually } = await import("../src/testing");
    await eventually(() => passes >= 3, 5_000);
    await loop.stop();
    const after = passes;
    await new Promise((r) => setTimeout(r, 100));
    expect(passes).toBe(after);
  });
});
