/** The run's results (bench/results.json) and the fenced part runner. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, ONLY } from './options';
import { BENCH_DIR } from './procs';
import type { ProfileSummary } from './profile';
import { errorText } from './stats';
import type { LoadResult } from './types';
import type { PgCpu } from '@app/testing/pg-backend-cpu';
import type { RuntimeStats } from './runtime-stats';
import type { ProcUsage } from './usage';
import type { CpuContention } from './cpu-contention';
import type { TailAttribution } from './tail-episodes';

export interface StepRecord extends LoadResult {
  readonly series: string;
  readonly hook: string;
  readonly modelProfile: 'zero' | 'realistic';
  /** The model double's own time per call (measured direct, same profile) subtracted from the latency. */
  readonly modelMs: number;
  readonly overheadMs: { p50: number; p95: number; p99: number };
  /** Per process (`sut` = the single process; `gateway`, `cds-hooks`, `inference-proxy` deployed): RSS and CPU. */
  readonly rssMb: Record<string, ProcUsage>;
  /** Per process: event-loop delay and GC pauses over the step (bench/lib/runtime-stats.ts). */
  readonly runtime?: Record<string, RuntimeStats>;
  /** Postgres backend CPU ms per hook answered, by application_name (absent without a Postgres database). */
  readonly pgCpu?: PgCpu;
  /**
   * The machine over the step (busy / steal / iowait % of all cores), each process group's on-CPU and run-queue
   * wait time (total and per hook answered) and PSI stall % (bench/lib/cpu-contention.ts).
   */
  readonly cpuContention?: CpuContention;
  /** Only with a timeline (bench/runtime-flags-ab.ts --timeline): the tail episodes and what the machine did in them. */
  readonly tail?: TailAttribution;
  readonly modelCalls: number | null;
  /** The ramp stops rising after this step (errors, < 90 % achieved or p99 beyond the model + 2 s). */
  readonly saturated: boolean;
  /** Meets issue 17's sustained criterion (open loop, 0 errors, ≥ 95 % achieved, p99 ≤ 100 ms over the model). */
  readonly sustained?: boolean;
  /** How long the harness waited for the previous step's backlog to drain, and whether the SUT was idle then. */
  readonly settle?: { waitedMs: number; idle: boolean; busy?: string };
  /** The VACUUM (ANALYZE) of the step database run before the step (autovacuum off), in ms. */
  readonly vacuumMs?: number;
}

export interface PartRecord {
  readonly name: string;
  ok: boolean;
  error?: string;
  durationS: number;
  notes: string[];
  steps: StepRecord[];
  extra: Record<string, unknown>;
}

export interface BenchResults {
  meta: Record<string, unknown>;
  parts: PartRecord[];
  profile?: ProfileSummary | { error: string };
  plot?: { png: string; svg: string; note: string };
  totalS?: number;
}

export const results: BenchResults = { meta: {}, parts: [] };

export function saveResults(): void {
  writeFileSync(join(BENCH_DIR, 'results.json'), JSON.stringify(results, null, 2) + '\n');
}

/** Runs one part within its budget; a part that fails records its error and the run goes on. */
export async function part(
  name: string,
  budgetMs: number,
  body: (p: PartRecord) => Promise<void>,
  opts: { force?: boolean; label?: string } = {},
): Promise<PartRecord | undefined> {
  if (!opts.force && ONLY.size > 0 && !ONLY.has(name)) return undefined;
  const p: PartRecord = { name: opts.label ?? name, ok: true, durationS: 0, notes: [], steps: [], extra: {} };
  results.parts.push(p);
  const started = Date.now();
  log(`part ${p.name}: start (budget ${Math.round(budgetMs / 1000)} s)`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      body(p),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`part exceeded its ${Math.round(budgetMs / 1000)} s budget`)),
          budgetMs,
        );
      }),
    ]);
  } catch (e) {
    p.ok = false;
    p.error = errorText(e);
    log(`part ${p.name}: FAILED ${p.error}`);
  } finally {
    clearTimeout(timer);
    p.durationS = Math.round((Date.now() - started) / 100) / 10;
    saveResults();
    log(`part ${p.name}: done in ${p.durationS} s`);
  }
  return p;
}
