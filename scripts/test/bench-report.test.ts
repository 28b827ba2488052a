import fs from "node:fs";
import path from "node:path";
import { renderReadme, type BenchResults } from "../bench/report";

const root = path.join(__dirname, "..", "..");
const results = (file: string) => JSON.parse(fs.readFileSync(path.join(root, "bench-results", file), "utf8")) as BenchResults;

describe("the README's benchmark table", () => {
  test("When the README is read, then its table is the one latest.json renders: the figures shown are the latest run's", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const table = /<!-- bench:start -->\n([\s\S]*)\n<!-- bench:end -->/.exec(readme)?.[1];
    expect(table).toBe(renderReadme(results("latest.json")));
  });

  test("When a run measured the pipeline's and the listing's ceilings, then each sits next to the product's figure", () => {
    const r = results("latest.json");
    const text = renderReadme(r);
    const row = (start: string) => text.split("\n").find((line) => line.startsWith(`| ${start}`)) ?? "";
    expect(row("1,000 distinct tickets")).toContain(`${r.pipeline.reservedPerSecond}/s`);
    expect(row("1,000 distinct tickets")).toContain(`${r.ceilings.pipeline!.reservedPerSecond}/s in one process, ${r.ceilings.pipelineByRole!.reservedPerSecond}/s with a process per service`);
    expect(row("CPU per order")).toContain(`${r.ceilings.pipeline!.cpuMsPerOrder} ms in one process, ${r.ceilings.pipelineByRole!.cpuMsPerOrder} ms with a process per service`);
    expect(row("GET /api/tickets")).toContain(`the same as a bare Express route: ${r.listing.bareExpress!.perSecond} req/s`);
    expect(row("GET /api/tickets")).toContain(`direct from the database (no-cache): ${r.listing.directFromDatabase!.perSecond} req/s (${r.listing.ratioFromDatabase})`);
    expect(row("CPU of the idle stack")).toContain(`${r.idleCpu!.msPerSecond} ms a second`);
    expect(row("write system calls per order")).toContain(
      `| ${r.pipeline.writesPerOrder} | the plain pipeline: ${r.ceilings.pipeline!.writesPerOrder} in one process, ${r.ceilings.pipelineByRole!.writesPerOrder} with a process per service |`,
    );
    expect(text).not.toMatch(/undefined|NaN/);
  });

  test("When an older run lacks the later ceilings, then their places say — and nothing reads undefined", () => {
    const text = renderReadme(results("2026-11-30T17-55-35-after-revert-2.json"));
    expect(text).toContain("| — | ≥ 300/s, 0 |");
    expect(text).not.toContain("CPU of the idle stack");
    expect(text).not.toContain("write system calls");
    expect(text).not.toMatch(/undefined|NaN|Express route|no-cache/);
  });
});
