import { endOfTurn } from "../src";

describe("the end of an event-loop turn", () => {
  test("When several callers wait for the end of one turn, then they share one wait, which ends after the turn's other callbacks; the next turn gets its own", async () => {
    const order: string[] = [];
    const first = endOfTurn();
    const second = endOfTurn();
    expect(second).toBe(first);
    void first.then(() => order.push("end of turn 1"));
    queueMicrotask(() => order.push("microtask"));
    process.nextTick(() => order.push("tick"));
    await first;
    expect(order).toHaveLength(3);
    expect(order[2]).toBe("end of turn 1");
    const next = endOfTurn();
    expect(next).not.toBe(first);
    await next;
  });
});
