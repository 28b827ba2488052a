/**
 * What the processes of a running stack cost, read from /proc (Linux): CPU time and memory of a
 * process tree, without touching the processes.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { manifest } from "../services";

export interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  cpuTicks: number;
  /**
   * Write system calls so far (syscw of /proc/<pid>/io): write and writev, to sockets, pipes and
   * files alike. PostgreSQL sends with send(), which the kernel does not count there.
   */
  writes: number;
  /**
   * Voluntary context switches of all its threads so far (voluntary_ctxt_switches of
   * /proc/<pid>/task/<tid>/status): each is a thread that went to sleep to wait (for a socket, a
   * lock, a timer) and was woken again. On a virtual machine a wake-up costs both sides CPU.
   */
  wakeups: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readStat(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // gone meanwhile
  }
  // the name is in parentheses and may hold spaces: the fields after it are fixed
  const close = text.lastIndexOf(")");
  const name = text.slice(text.indexOf("(") + 1, close);
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state); utime = field 14, stime 15, cutime 16, cstime 17
  const n = (field: number) => Number(f[field - 3]);
  // cutime/cstime hold the CPU of children that exited: PostgreSQL backends that closed during a
  // run are still counted through the postmaster
  return { pid, ppid: n(4), name, cpuTicks: n(14) + n(15) + n(16) + n(17), writes: writesOf(pid), wakeups: wakeupsOf(pid) };
}

function wakeupsOf(pid: number): number {
  let total = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      total += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    }
  } catch {
    // gone meanwhile (the threads counted so far stand)
  }
  return total;
}

function writesOf(pid: number): number {
  try {
    return Number(/^syscw: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0; // gone meanwhile, or not ours to read
  }
}

/** Every process whose ancestry reaches one of `roots` (the roots included). */
export function processTree(roots: number[]): ProcInfo[] {
  const all = fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((p): p is ProcInfo => p !== undefined);
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const walk = (pid: number) => {
    const me = all.find((p) => p.pid === pid);
    if (me) out.push(me);
    for (const c of children.get(pid) ?? []) walk(c.pid);
  };
  for (const r of roots) walk(r);
  return out;
}

/** The direct children of `pid` called `name` (e.g. the nats-server this process started). */
export function childrenNamed(pid: number, name: string): number[] {
  return processTree([pid])
    .filter((p) => p.ppid === pid && p.name === name)
    .map((p) => p.pid);
}

/** A readable name for a process of the stack: the service a node process runs, else its command. */
export function labelOf(p: ProcInfo): string {
  let cmd = "";
  try {
    cmd = fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return p.name;
  }
  if (cmd.includes("scripts/start.mjs") || cmd.includes("scripts/launcher/main")) return "launcher";
  if (p.name === "nginx") return "gateway";
  if (cmd.includes("ceiling-pipeline.mjs")) return `plain ${cmd.trim().split(" ").pop()}`;
  if (cmd.includes("ceiling-server.mjs")) return "plain, one process";
  const service = manifest.services.find((s) => cmd.includes(`/${s.folder}/src/main`) || cmd.includes(`/${s.folder}/dist/main`));
  if (service) return service.name;
  return p.name;
}

/** CPU milliseconds spent between two snapshots of the same tree (new processes count from zero). */
export function cpuMsBetween(before: ProcInfo[], after: ProcInfo[]): { totalMs: number; byName: Record<string, number> } {
  const ms = (p: ProcInfo) => (p.cpuTicks * 1000) / clockTicks();
  const { total, byName } = growthBetween(before, after, ms);
  // A process that exited between the snapshots hands its whole life's CPU to its parent's
  // cutime/cstime, what it had spent before the first snapshot included: that part is not the
  // window's. (A pool's idle PostgreSQL backends close 10 s after the phase that opened them,
  // so without this a measurement was charged with the previous phase's queries.)
  const still = new Set(after.map((p) => p.pid));
  let earlier = 0;
  for (const p of before) {
    if (still.has(p.pid) || !still.has(p.ppid)) continue;
    earlier += ms(p);
    const label = labelOf(after.find((q) => q.pid === p.ppid)!);
    byName[label] = Math.round((byName[label] ?? 0) - ms(p));
  }
  return { totalMs: Math.round(total - earlier), byName };
}

/** Write system calls made between two snapshots of the same tree (see ProcInfo.writes). */
export function writesBetween(before: ProcInfo[], after: ProcInfo[]): { total: number; byName: Record<string, number> } {
  return growthBetween(before, after, (p) => p.writes);
}

/** Wake-ups between two snapshots of the same tree (see ProcInfo.wakeups). */
export function wakeupsBetween(before: ProcInfo[], after: ProcInfo[]): { total: number; byName: Record<string, number> } {
  return growthBetween(before, after, (p) => p.wakeups);
}

/** How much `value` grew between two snapshots, summed and by process label (new processes count from zero). */
function growthBetween(
  before: ProcInfo[],
  after: ProcInfo[],
  value: (p: ProcInfo) => number,
): { total: number; byName: Record<string, number> } {
  const was = new Map(before.map((p) => [p.pid, value(p)]));
  const byName: Record<string, number> = {};
  let total = 0;
  for (const p of after) {
    const grown = value(p) - (was.get(p.pid) ?? 0);
    total += grown;
    const label = labelOf(p);
    byName[label] = Math.round((byName[label] ?? 0) + grown);
  }
  return { total: Math.round(total), byName };
}

function kbField(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(file, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Resident memory of a set of processes, twice: RSS counts PostgreSQL's shared memory once per
 * backend, PSS shares it out between them, so the PSS sum is what the stack really holds.
 */
export function memoryOf(procs: ProcInfo[]): {
  rssMb: number;
  pssMb: number;
  byName: Record<string, { count: number; rssMb: number; pssMb: number }>;
} {
  const byName: Record<string, { count: number; rssMb: number; pssMb: number }> = {};
  let rss = 0;
  let pss = 0;
  for (const p of procs) {
    const r = kbField(`/proc/${p.pid}/status`, "VmRSS") / 1024;
    const s = kbField(`/proc/${p.pid}/smaps_rollup`, "Pss") / 1024;
    rss += r;
    pss += s;
    const e = (byName[labelOf(p)] ??= { count: 0, rssMb: 0, pssMb: 0 });
    e.count++;
    e.rssMb = Math.round(e.rssMb + r);
    e.pssMb = Math.round(e.pssMb + s);
  }
  return { rssMb: Math.round(rss), pssMb: Math.round(pss), byName };
}
