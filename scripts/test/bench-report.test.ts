import fs from "node:fs";
import path from "node:path";
import { historyHeader, historyRow, withRun } from "../bench/history";
import { renderTable, type BenchResults } from "../bench/report";
import { medianBlock, type BlockCrowd } from "../bench/crowds";

const root = path.join(__dirname, "..", "..");
const results = (file: string) => JSON.parse(fs.readFileSync(path.join(root, "bench-results", file), "utf8")) as BenchResults;
const doc = () => fs.readFileSync(path.join(root, "docs", "benchmarks.md"), "utf8");

describe("the benchmark's figures in the docs", () => {
  test("When docs/benchmarks.md is read, then its table is the one latest.json renders, naming the run's date and Node", () => {
    const latest = results("latest.json");
    const table = /<!-- bench:start -->\n([\s\S]*)\n<!-- bench:end -->/.exec(doc())?.[1];
    expect(table).toBe(renderTable(latest));
    expect(table).toContain(`Measured ${latest.startedAt.slice(0, 10)} on ${latest.machine.cpus} cores, Node ${latest.machine.node}`);
  });

  test("When the README and the docs' prose are read, then they quote no benchmark figure outside the generated table", () => {
    const latest = results("latest.json");
    const outsideTable = (text: string) => text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, "");
    const figures = [
      `${latest.pipeline.reservedPerSecond}/s`,
      `${latest.pipeline.reservedPerSecond} orders`,
      `${latest.idleMemory.pssMb} MB`,
    ];
    for (const [file, text] of [
      ["README.md", fs.readFileSync(path.join(root, "README.md"), "utf8")],
      ["docs/benchmarks.md", outsideTable(doc())],
    ]) {
      for (const figure of figures) expect([file, figure, text.includes(figure)]).toEqual([file, figure, false]);
    }
  });

  test("When a run measured the pipeline's and the listing's ceilings, then each sits next to the product's figure", () => {
    const r = results("latest.json");
    const text = renderTable(r);
    const row = (start: string) => text.split("\n").find((line) => line.startsWith(`| ${start}`)) ?? "";
    expect(row("1,000 distinct tickets")).toContain(`${r.pipeline.reservedPerSecond}/s`);
    expect(row("1,000 distinct tickets")).toContain(
      `${r.ceilings.pipeline!.reservedPerSecond}/s in one process, ${r.ceilings.pipelineByRole!.reservedPerSecond}/s with a process per service`,
    );
    expect(row("CPU per order")).toContain(
      `${r.ceilings.pipeline!.cpuMsPerOrder} ms in one process, ${r.ceilings.pipelineByRole!.cpuMsPerOrder} ms with a process per service`,
    );
    expect(row("GET /api/tickets")).toContain(`the same as a bare Express route: ${r.listing.bareExpress!.perSecond} req/s`);
    expect(row("GET /api/tickets")).toContain(
      `direct from the database (no-cache): ${r.listing.directFromDatabase!.perSecond} req/s (${r.listing.ratioFromDatabase})`,
    );
    expect(row("CPU of the idle stack")).toContain(`${r.idleCpu!.msPerSecond} ms a second`);
    expect(row("write system calls per order")).toContain(
      `| ${r.pipeline.writesPerOrder} | the plain pipeline: ${r.ceilings.pipeline!.writesPerOrder} in one process, ${r.ceilings.pipelineByRole!.writesPerOrder} with a process per service |`,
    );
    // the plain pipeline without the passes role, beside the goals that were set for five hops
    const five = r.ceilings.pipelineByRoleFiveHops!;
    expect(row("1,000 distinct tickets")).toContain(`(without the passes role: ${five.reservedPerSecond}/s)`);
    expect(row("1,000 distinct tickets")).toMatch(/\| ≥ 330\/s, 0 \(set for the five hops before passes\) \|$/);
    expect(row("CPU per order")).toContain(`(without the passes role: ${five.cpuMsPerOrder} ms)`);
    // one order at a time, asked of the plain pipeline too
    const low = r.ceilings.pipelineByRole!.lowLoad!;
    expect(row("one order at a time")).toContain(
      `asked the same: ${low.endToEnd.p50Ms} / ${low.endToEnd.p99Ms} ms (from the answer: ${low.hop.p50Ms} / ${low.hop.p99Ms} ms)`,
    );
    expect(row("POST /api/orders alone")).toContain(`the plain pipeline's order, asked the same: ${low.postOrders.p50Ms} ms`);
    expect(text).not.toMatch(/undefined|NaN/);
  });

  test("When a run asked the one-ticket crowd twice, then both rows show, each with where its CPU went", () => {
    const r = results("latest.json");
    const crowd = (p99Ms: number, cpuMsPerRequest?: Record<string, number>) => ({
      buyers: 500,
      created: 1,
      refused: 499,
      other: {},
      p50Ms: p99Ms / 2,
      p99Ms,
      maxMs: p99Ms + 1,
      cpuMsPerRequest,
    });
    r.crowds = {
      oneTicket: crowd(701, { orders: 1.04, "load generator": 0.6, postgres: 0.28, launcher: 0.26, passes: 0.02 }),
      // in no particular order, as latest.json may hold them
      oneTicketAgain: crowd(463, { "load generator": 0.57, orders: 0.66 }),
      block: r.crowds!.block,
    };
    const rows = renderTable(r).split("\n");
    const first = rows.find((line) => line.includes("each one's first order")) ?? "";
    expect(first).toContain("1 order, 499 refused with 400; p50 350.5 ms, p99 701 ms");
    // the total, then the four that spent the most, the gateway named as such
    expect(first).toContain("CPU per request 2.20 ms, of which orders 1.04, load generator 0.60, postgres 0.28, gateway (launcher) 0.26 |");
    expect(first).toMatch(/\| 1 order, the rest 400; p99 ≤ 600 ms \|$/);
    const again = rows.find((line) => line.startsWith("| the same buyers again")) ?? "";
    expect(again).toContain("p99 463 ms; CPU per request 1.23 ms, of which orders 0.66, load generator 0.57 | — | — |");

    // a run from before: one crowd, no CPU
    r.crowds = { oneTicket: crowd(600), block: r.crowds.block };
    const older = renderTable(r);
    expect(older).not.toContain("the same buyers again");
    expect(older).not.toMatch(/CPU per request|undefined|NaN/);
  });

  test("When a run sold several blocks, then the row shows the median one by POST p99, then every block's figures", () => {
    const r = results("latest.json");
    const block = (p99Ms: number, soldOutMs: number | null, refusals: number, twice = 0): BlockCrowd => ({
      tickets: 200,
      buyers: 500,
      soldOutMs,
      ordersPlaced: 200,
      ticketsReservedTwice: twice,
      refusals,
      post: { p50Ms: p99Ms / 4, p99Ms, maxMs: p99Ms + 5 },
      listing: { p50Ms: 40, p99Ms: 300 },
    });
    const draws = [block(1712, 2650, 400), block(640, 2100, 191), block(1204, null, 300, 1)];
    expect(medianBlock(draws)).toBe(draws[2]);
    // an even number: the lower middle one, a block as it happened
    expect(medianBlock(draws.slice(0, 2))).toBe(draws[1]);
    expect(() => medianBlock([])).toThrow(/no block/);
    r.crowds = { ...r.crowds!, block: medianBlock(draws), blockDraws: draws };
    const row = renderTable(r)
      .split("\n")
      .find((line) => line.startsWith("| 200 tickets, 500 buyers"));
    expect(row).toContain("(3 blocks one after the other, by the same buyers: the median one by POST p99, then all)");
    expect(row).toContain(
      "| sold out in never; POST p50 301 ms, p99 1204 ms; 1 reserved twice; the 3 blocks: sold out in 2.6 s, 2.1 s, never,",
    );
    expect(row).toContain("POST p99 1712 ms, 640 ms, 1204 ms (600, 391, 500 POSTs), 1 reserved twice | — | ≤ 3 s, p99 ≤ 1.5 s, 0 |");
    // a run of one block says nothing of draws
    r.crowds = { ...r.crowds, blockDraws: undefined };
    expect(renderTable(r)).not.toContain("blocks one after the other");
  });

  test("When a run measured the five hops with commits not waiting too, then both rows and the history line show it beside the stack's own", () => {
    const r = results("latest.json");
    r.pipelineFiveHops = { ...r.pipelineFiveHops!, reservedPerSecond: 270, cpuMsPerOrder: 6.9 };
    r.pipelineFiveHopsCommitsNotWaiting = { ...r.pipelineFiveHops, reservedPerSecond: 331, cpuMsPerOrder: 5.7 };
    const rows = renderTable(r).split("\n");
    const rate = rows.find((line) => line.startsWith("| 1,000 distinct tickets")) ?? "";
    expect(rate).toContain("the five hops before passes (passes paused for the run): 270/s");
    expect(rate).toContain(
      "; the same five hops with commits not waiting for the WAL (synchronous_commit off for that run, as the goals' figures were measured; the stack's commits wait): 331/s |",
    );
    const cpu = rows.find((line) => line.startsWith("| CPU per order")) ?? "";
    expect(cpu).toContain("the five hops before passes: 6.9 ms; the same with commits not waiting for the WAL: 5.7 ms |");
    const line = historyRow(r, "abc1234").split(",");
    const at = (c: string) => line[historyHeader.split(",").indexOf(c)];
    expect([at("five_hops_per_s"), at("five_hops_not_waiting_per_s"), at("five_hops_not_waiting_cpu_ms")]).toEqual(["270", "331", "5.7"]);
    delete r.pipelineFiveHopsCommitsNotWaiting;
    expect(renderTable(r)).not.toContain("not waiting");
    expect(historyRow(r, "abc1234").split(",")[historyHeader.split(",").indexOf("five_hops_not_waiting_cpu_ms")]).toBe("");
  });

  test("When a run counted wake-ups, then the table shows the product's, its five hops' and the plain pipeline's side by side", () => {
    const r = results("latest.json");
    r.pipeline.wakeupsPerOrder = 61.5;
    r.pipelineFiveHops = { ...r.pipelineFiveHops!, wakeupsPerOrder: 44.2 };
    r.ceilings.pipeline = { ...r.ceilings.pipeline!, wakeupsPerOrder: 30.1 };
    r.ceilings.pipelineByRole = { ...r.ceilings.pipelineByRole!, wakeupsPerOrder: 40.3 };
    r.ceilings.pipelineByRoleFiveHops = { ...r.ceilings.pipelineByRoleFiveHops!, wakeupsPerOrder: 28.7 };
    const row = renderTable(r)
      .split("\n")
      .find((line) => line.startsWith("| wake-ups per order"));
    expect(row).toContain("| 61.5; the five hops before passes: 44.2 |");
    expect(row).toContain("the plain pipeline: 30.1 in one process, 40.3 with a process per service (without the passes role: 28.7) |");
  });

  test("When orders were sent one at a time, then the row says how they were paced and puts the goal beside the time from the request", () => {
    const r = results("latest.json");
    const rowOf = (run: BenchResults) =>
      renderTable(run)
        .split("\n")
        .find((line) => line.startsWith("| one order at a time"))!;
    r.lowLoad = { ...r.lowLoad, pacedMs: 100, endToEnd: { p50Ms: 9.4, p99Ms: 21.7 }, hop: { p50Ms: 4.1, p99Ms: 12.2 } };
    expect(rowOf(r)).toMatch(
      /^\| one order at a time \(one every 100 ms\): request sent → ticket reserved, p50 \/ p99 \| 9\.4 \/ 21\.7 ms \(from the answer, the order committed: 4\.1 \/ 12\.2 ms\) \|.* \| ≤ 10 \/ 50 ms \|$/,
    );
    // a run of the older method, whose ten orders a second went back to back, says so
    delete r.lowLoad.pacedMs;
    expect(rowOf(r)).toContain("| one order at a time (10/s, each second's ten sent back to back): request sent → ticket reserved");
  });

  test("When an older run lacks the later ceilings, then their places say — and nothing reads undefined", () => {
    const old = results("latest.json");
    delete old.ceilings.pipeline;
    delete old.ceilings.pipelineByRole;
    delete old.ceilings.pipelineByRoleFiveHops;
    delete old.idleCpu;
    delete old.pipeline.writesPerOrder;
    delete old.pipeline.wakeupsPerOrder;
    delete old.listing.bareExpress;
    delete old.listing.directFromDatabase;
    delete old.ceilings.bareRouteWithCommit.cpuMsPerRequest;
    const text = renderTable(old);
    expect(text).toContain("| — | ≥ 330/s, 0 |");
    expect(text).not.toContain("CPU of the idle stack");
    expect(text).not.toContain("write system calls");
    expect(text).not.toContain("wake-ups per order");
    expect(text).not.toMatch(/undefined|NaN|Express route|no-cache|without the passes role|asked the same/);
  });
});

describe("bench-results/", () => {
  test("When the folder is read, then it holds the latest run, the replicas run and one history file, not a file per run", () => {
    const files = fs
      .readdirSync(path.join(root, "bench-results"))
      .filter((f) => !f.startsWith(".") && f !== "profiles")
      .sort();
    expect(files).toEqual(["history.csv", "latest.json", "replicas.json"]);
  });

  test("When the history is read, then its header names date, commit and Node, and its newest line is latest.json's run", () => {
    const lines = fs
      .readFileSync(path.join(root, "bench-results", "history.csv"), "utf8")
      .trim()
      .split("\n");
    expect(lines[0]).toBe(historyHeader);
    expect(historyHeader.split(",").slice(0, 3)).toEqual(["date", "commit", "node"]);
    const latest = results("latest.json");
    const newest = lines[lines.length - 1].split(",");
    expect(historyRow(latest, newest[1])).toBe(lines[lines.length - 1]);
    expect(newest[1]).toMatch(/^[0-9a-f]{7,}(-dirty)?$/);
  });

  test("When a run is added, then it takes its place by date, after the header, and nothing else changes", () => {
    const latest = results("latest.json");
    const earlier = { ...latest, startedAt: "2026-01-01T00:00:00.000Z", label: "early" };
    const text = withRun(withRun(undefined, latest, "abc1234"), earlier, "def5678");
    expect(text.split("\n")).toEqual([historyHeader, historyRow(earlier, "def5678"), historyRow(latest, "abc1234"), ""]);
  });

  test("When the history was written with fewer columns, then its rows keep their cells and get empty ones for the new columns", () => {
    const latest = results("latest.json");
    const oldColumns = historyHeader.split(",").slice(0, 13);
    const oldRow = "2026-01-01T00:00:00Z,abc1234,v24.22.3,early,300,6,5,20,4,9000,380,9,3";
    const text = withRun(`${oldColumns.join(",")}\n${oldRow}\n`, latest, "def5678");
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe(historyHeader);
    expect(lines[1]).toBe(oldRow + ",".repeat(historyHeader.split(",").length - 13));
    expect(lines[1].split(",")).toHaveLength(historyHeader.split(",").length);
    expect(lines[2]).toBe(historyRow(latest, "def5678"));
  });

  test("When a run has the five hops and their plain parts, then its line holds both and the product's CPU over the plain parts'", () => {
    const latest = results("latest.json");
    const row = Object.fromEntries(historyHeader.split(",").map((c, i) => [c, historyRow(latest, "abc1234").split(",")[i]]));
    const five = latest.pipelineFiveHops!;
    const plain = latest.ceilings.pipelineByRoleFiveHops!;
    expect(Number(row.five_hops_cpu_ms)).toBe(five.cpuMsPerOrder);
    expect(Number(row.plain_five_hops_per_s)).toBe(plain.reservedPerSecond);
    // rounded to hundredths: within half of one of the exact ratio (a ratio such as 6.3 / 4.0 = 1.575 lands on the half)
    const ratio = Number(row.five_hops_cpu_over_plain);
    expect(Math.abs(ratio - five.cpuMsPerOrder / plain.cpuMsPerOrder)).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(Math.round(ratio * 100) / 100).toBe(ratio);
    const older = structuredClone(latest);
    delete older.pipelineFiveHops;
    delete older.crowds;
    const olderRow = historyRow(older, "abc1234").split(",");
    expect(olderRow[historyHeader.split(",").indexOf("five_hops_cpu_over_plain")]).toBe("");
    expect(olderRow[historyHeader.split(",").indexOf("block_post_p99_ms")]).toBe("");
  });

  test("When a run sent its orders one at a time, then its line holds the time from the request to the reservation and how the orders were paced", () => {
    const run = results("latest.json");
    run.lowLoad = { ...run.lowLoad, pacedMs: 100, endToEnd: { p50Ms: 9.4, p99Ms: 21.7 } };
    const cells = (r: BenchResults) => {
      const row = historyRow(r, "abc1234").split(",");
      return Object.fromEntries(
        ["request_to_reserved_p50_ms", "request_to_reserved_p99_ms", "one_at_a_time_paced_ms"].map((c) => [
          c,
          row[historyHeader.split(",").indexOf(c)],
        ]),
      );
    };
    expect(cells(run)).toEqual({ request_to_reserved_p50_ms: "9.4", request_to_reserved_p99_ms: "21.7", one_at_a_time_paced_ms: "100" });
    delete run.lowLoad.pacedMs;
    expect(cells(run).one_at_a_time_paced_ms).toBe("");
  });

  test("When the history's columns are in an order this bench does not write, then adding a run refuses rather than misaligns", () => {
    const latest = results("latest.json");
    expect(() => withRun("date,label,commit\n", latest, "abc1234")).toThrow(/columns this bench does not write/);
  });
});
