import { spawn, type ChildProcess } from "node:child_process";
import { cpuMsBetween, processTree, wakeupsBetween } from "../bench/procs";

/**
 * A parent that, as a postmaster does, starts children and reaps them: at once one that spins for
 * `burnMs` of CPU and then waits to be stopped; on SIGUSR2 one that spins for 400 ms and exits.
 */
class Parent {
  readonly process: ChildProcess;
  private said = "";
  private readonly waiting: Array<() => void> = [];

  constructor(burnMs: number) {
    // spins for CPU time, not wall time: the test may share its cores with other suites
    const spin = (ms: number, stay: boolean) =>
      `const u = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; }; const end = u() + ${ms}; while (u() < end);
       console.log("burnt " + process.pid);${stay ? " setInterval(() => {}, 1000);" : ""}`;
    const script = `const { spawn } = require("node:child_process");
      const start = (code) => spawn(process.execPath, ["-e", code], { stdio: ["ignore", "inherit", "inherit"] })
        .on("exit", () => console.log("reaped"));
      start(${JSON.stringify(spin(burnMs, true))});
      process.on("SIGUSR2", () => start(${JSON.stringify(spin(400, false))}));
      setInterval(() => {}, 1000);`;
    this.process = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    this.process.stdout!.on("data", (chunk: Buffer) => {
      this.said += chunk.toString();
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  /** Resolves once the parent's output has said `pattern` `times` times. */
  async until(pattern: RegExp, times = 1): Promise<string[]> {
    for (;;) {
      const found = [...this.said.matchAll(new RegExp(pattern, "g"))];
      if (found.length >= times) return found.map((m) => m[1] ?? m[0]);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
}

describe("the bench's CPU figures (scripts/bench/procs.ts)", () => {
  let parent: Parent | undefined;
  afterEach(() => {
    // the children first: a child left running would hold the test's output open
    if (parent) for (const p of processTree([parent.process.pid!]).reverse()) process.kill(p.pid, "SIGKILL");
    parent = undefined;
  });

  test("When a child that was busy before the window exits during it, then its earlier CPU is not the window's", async () => {
    parent = new Parent(400);
    const [childPid] = (await parent.until(/burnt (\d+)/)).map(Number);
    const before = processTree([parent.process.pid!]);
    expect(before.map((p) => p.pid)).toContain(childPid);
    process.kill(childPid, "SIGTERM");
    await parent.until(/reaped/);
    const after = processTree([parent.process.pid!]);
    expect(after.map((p) => p.pid)).not.toContain(childPid);
    // the parent's cutime grew by the child's 400 ms, all of them spent before the first snapshot
    expect(cpuMsBetween(before, after).totalMs).toBeLessThan(150);
  });

  test("When a child is born, works and exits inside the window, then its CPU is counted through its parent", async () => {
    parent = new Parent(0);
    await parent.until(/burnt (\d+)/);
    const before = processTree([parent.process.pid!]);
    parent.process.kill("SIGUSR2");
    await parent.until(/reaped/);
    const after = processTree([parent.process.pid!]);
    expect(cpuMsBetween(before, after).totalMs).toBeGreaterThanOrEqual(350);
  });

  test("When a process sleeps on a timer again and again, then each wake-up is counted; a process busy on the CPU counts few", async () => {
    const child = (code: string) => spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "inherit"] });
    const said = (p: ChildProcess, what: string) =>
      new Promise<void>((resolve) => p.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes(what) && resolve()));
    const window = async (p: ChildProcess, what: string) => {
      const ready = said(p, "ready");
      await ready;
      const done = said(p, what);
      const before = processTree([p.pid!]);
      p.stdin!.write("go\n");
      await done;
      const grown = wakeupsBetween(before, processTree([p.pid!])).total;
      p.kill();
      return grown;
    };
    // 200 timers in a row: the main thread sleeps and is woken for each, unless a timer was due
    // already when the event loop looked again (a host slow enough that one turn took longer than
    // the timer's 2 ms): seen once, 199 of 200. A busy process counts a quarter of that.
    const sleeper = child(
      "console.log('ready'); process.stdin.once('data', () => { let i = 0; const t = () => (++i <= 200 ? setTimeout(t, 2) : console.log('woke')); t(); });",
    );
    expect(await window(sleeper, "woke")).toBeGreaterThanOrEqual(190);
    // 300 ms of CPU without a wait: woken by the go, then busy
    const spinner = child(
      "console.log('ready'); process.stdin.once('data', () => { const u = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; }; const end = u() + 300; while (u() < end); console.log('spun'); });",
    );
    expect(await window(spinner, "spun")).toBeLessThan(50);
  });
});
