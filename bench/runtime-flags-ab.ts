/**
 * `node --require ./bench/register.js bench/runtime-flags-ab.ts [--flags='none;--max-semi-space-size=16']
 * [--rounds=2] [--rates=10,25,50,50,50] [--cache-hit-rates=50,200] [--out=file.md]
 * [--timeline]`: the single-process stack (Postgres, in-process bus, model
 * double at 0 ms) under each set of V8 flags in turn (A/B/A/B, a fresh database and process each time), through the
 * same steps as the start of the benchmark's ramp (fresh patient-view hooks through the gateway, open loop, 10 s a
 * step, the harness's cool-down and VACUUM before each), then repeat-path (cache hit) steps after one priming call. Per step: p50 / p99 and what the process's runtime did
 * (young- and old-generation collections, event-loop delay; bench/lib/runtime-stats.ts).
 *
 * `--timeline` also samples every step every 20 ms (each process group's schedstat, /proc/stat, PSI, the step
 * database's backends' wait events; bench/lib/stall-timeline.ts) and writes, per step, where its time went and its
 * tail episodes against the rest of the step (bench/lib/tail-episodes.ts). The sampling runs on the same cores, so
 * it is opt-in and its steps are not the official figures.
 *
 * Issue 17 found with it that V8's default young generation on a large machine (64 MB semi-spaces) turns every
 * young-generation fill into a full collection once the old generation's room is below that size
 * (tools/local-stack/runtime-flags.ts).
 */
import { writeFileSync } from 'node:fs';
import { createTestDatabase } from '@app/testing/postgres';
import { doubleControl, startDouble } from './lib/double-control';
import { ZERO } from './lib/options';
import { stopChild } from './lib/procs';
import type { PartRecord, StepRecord } from './lib/results';
import { contentionText, table } from './lib/report-util';
import { tailTable } from './lib/tail-report';
import { hookStep, load, primeRepeatPath, warmUp } from './lib/steps';
import { startSut, sutEnv } from './lib/sut-control';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const FLAG_SETS = arg('flags', 'none;--max-semi-space-size=16')
  .split(';')
  .map((s) => s.trim());
const ROUNDS = Number(arg('rounds', '2'));
const RATES = arg('rates', '10,25,50,50,50').split(',').map(Number);
/** Repeat-path (cache hit) steps after the fresh ones, after one priming call; `--cache-hit-rates=` for none. */
const CACHE_HIT_RATES = arg('cache-hit-rates', '50,200').split(',').filter(Boolean).map(Number);
const OUT = arg('out', '');
/** Sample every step every 20 ms and attribute its tail episodes (bench/lib/stall-timeline.ts); off by default. */
const TIMELINE = process.argv.includes('--timeline');

interface Row {
  readonly round: number;
  readonly flags: string;
  readonly step: StepRecord;
}

async function once(round: number, flags: string): Promise<Row[]> {
  const db = await createTestDatabase('bench_flags');
  const double = await startDouble();
  const runtimeFlags = flags === 'none' ? [] : flags.split(/\s+/);
  const sut = await startSut(
    sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }),
    [],
    runtimeFlags,
  );
  const p: PartRecord = { name: `flags ${flags}`, ok: true, durationS: 0, notes: [], steps: [], extra: {} };
  try {
    await doubleControl(double, 'latency', ZERO);
    await warmUp(sut);
    for (const rate of RATES) {
      await hookStep(p, sut, double, {
        series: `round ${round} ${flags}`,
        hook: 'patient-view',
        rate,
        connections: 32,
        profile: 'zero',
        modelMs: 0,
        timeline: TIMELINE,
      });
    }
    if (CACHE_HIT_RATES.length > 0) {
      const prime = await primeRepeatPath(sut);
      if (prime.errors > 0 || prime.emptyCards > 0) throw new Error('the priming call was not answered with cards');
      for (const rate of CACHE_HIT_RATES) {
        await hookStep(p, sut, double, {
          series: `round ${round} ${flags} cache hit`,
          hook: 'patient-view',
          rate,
          connections: 64,
          profile: 'zero',
          modelMs: 0,
          vary: false,
          timeline: TIMELINE,
        });
      }
    }
    return p.steps.map((step) => ({ round, flags, step }));
  } finally {
    await stopChild(sut.child);
    await stopChild(double.child);
    await db.drop().catch(() => undefined);
  }
}

function resultsTable(rows: readonly Row[]): string {
  const head = [
    'round',
    'V8 flags',
    'path',
    'rate/s',
    'p50 ms',
    'p99 ms',
    'scavenges',
    'full GCs (> 10 ms)',
    'full GC ms',
    'loop delay max ms',
  ];
  return table(
    head,
    rows.map(({ round, flags, step }) => {
      const rt = step.runtime?.sut;
      const major = rt?.gc.major;
      return [
        String(round),
        flags === 'none' ? "none (V8's defaults)" : `\`${flags}\``,
        step.series.endsWith('cache hit') ? 'cache hit' : 'fresh',
        String(step.offeredRps),
        String(step.latencyMs.p50),
        String(step.latencyMs.p99),
        String(rt?.gc.minor?.count ?? 0),
        `${major?.count ?? 0} (${major?.over10Ms ?? 0})`,
        String(major?.totalMs ?? 0),
        rt ? String(rt.loopMaxMs) : '–',
      ];
    }),
  );
}

/** Per step: the machine and each group over the whole step (bench/lib/cpu-contention.ts). */
function contentionSection(rows: readonly Row[]): string {
  return [
    "## Where each step's time went (machine busy/steal %; on-CPU / run-queue wait ms per hook by group; PSI)",
    '',
    table(
      ['round', 'step', 'p99 ms', 'machine and groups'],
      rows.map(({ round, step }) => [
        String(round),
        `${step.series} ${step.offeredRps}/s`,
        String(step.latencyMs.p99),
        contentionText(step.cpuContention),
      ]),
    ),
    '',
  ].join('\n');
}

const TAIL_LEGEND = [
  '## Tail episodes (20 ms timeline)',
  '',
  "An episode is the answers over the step's p99 whose [due, due + latency] windows overlap; its figures are the 20 ms " +
    'samples overlapping that window, beside the rest of the step (after its last answer: left out). Run-queue wait ' +
    "and on-CPU are summed over a group's threads, per 100 ms of wall time: over 100 means more than one thread at a " +
    'time (2 cores: at most 200 ms on CPU per 100 ms for the whole machine). `other` = the busy time of the machine ' +
    "outside every group (another session's processes, the kernel; tick-grained). `bench` = this process, the " +
    "sampling included. Backends = the step database's non-idle backends per sample by wait event (`on CPU`: active, " +
    'no wait). In a step that did not keep up (achieved < 90 % of offered) the episode is the backlog, not a stall.',
  '',
].join('\n');

/** Per step: its tail episodes against the rest of the step (bench/lib/tail-episodes.ts). */
function tailSections(rows: readonly Row[]): string {
  const sections = rows
    .filter(({ step }) => step.tail)
    .map(({ step }) => {
      const t = step.tail!;
      const overloaded =
        step.offeredRps !== null && step.throughputRps < 0.9 * step.offeredRps
          ? ` — did not keep up (${step.throughputRps}/s achieved): the episode is the backlog`
          : '';
      return [
        `### ${step.series} ${step.offeredRps}/s: answers over p99 ${t.p99Ms} ms${overloaded}`,
        '',
        tailTable(t),
        '',
      ].join('\n');
    });
  return [TAIL_LEGEND, ...sections].join('\n');
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++)
      for (const flags of FLAG_SETS) rows.push(...(await once(round, flags)));
  } finally {
    await load.stop();
  }
  const text = `${resultsTable(rows)}\n${TIMELINE ? `\n${contentionSection(rows)}\n${tailSections(rows)}` : ''}`;
  if (OUT) writeFileSync(OUT, text);
  process.stdout.write(text);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
