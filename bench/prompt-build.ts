/**
 * `npm run bench:prompt`: summary + prompt build time per Synthea fixture and hook (p50/p99), and for a huge
 * prefetch (9,000 Conditions, ~3.7 MB). `PROMPTS_LIB=<dir>` measures another copy of libs/prompts/src (the
 * baseline before a change). Prints a Markdown table; `--json` prints JSON instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FIXTURES_DIR } from '@app/testing/synthea';
import type * as Prompts from '@app/prompts';
import { percentile } from './lib/stats';

type Json = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(process.env.PROMPTS_LIB ?? join(__dirname, '..', 'libs', 'prompts', 'src')) as typeof Prompts;
const NOW = new Date('2021-06-01T00:00:00Z');
const RUNS = Number(process.env.BENCH_PROMPT_RUNS ?? 15);
const HOOKS = ['patient-view', 'order-sign', 'encounter-discharge'] as const;

function searchsets(bundle: Json): Record<string, unknown> {
  const resources = (bundle.entry as Array<{ resource: Json }>).map((e) => e.resource);
  const set = (pred: (r: Json) => boolean) => {
    const entry = resources.filter(pred).map((resource) => ({ resource }));
    return { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry };
  };
  return {
    patient: resources.find((r) => r.resourceType === 'Patient'),
    conditions: set((r) => r.resourceType === 'Condition'),
    medications: set((r) => r.resourceType === 'MedicationRequest'),
    allergies: set((r) => r.resourceType === 'AllergyIntolerance'),
    observations: set((r) => r.resourceType === 'Observation'),
  };
}

/** 9,000 distinct Conditions cloned from a fixture's, each with its own id, onset and text. */
function hugePrefetch(bundle: Json): Record<string, unknown> {
  const base = searchsets(bundle);
  const conditions = ((base.conditions as Json).entry as Array<{ resource: Json }>).map((e) => e.resource);
  const entry = Array.from({ length: 9000 }, (_, i) => {
    const c = conditions[i % conditions.length]!;
    const code = c.code as { coding: Array<Json>; text?: string };
    return {
      resource: {
        ...c,
        id: `huge-${i}`,
        onsetDateTime: new Date(Date.UTC(1990, 0, 1) + i * 3_600_000).toISOString(),
        code: { ...code, coding: [{ ...code.coding[0], code: String(100000 + i) }], text: `${code.text ?? ''} #${i}` },
      },
    };
  });
  return { ...base, conditions: { resourceType: 'Bundle', type: 'searchset', total: entry.length, entry } };
}

async function time(prefetch: Record<string, unknown>, hook: (typeof HOOKS)[number], runs: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const summary = lib.summarize(prefetch, NOW, []);
    await lib.buildPrompt(hook, summary, lib.MODEL_PROFILES['meditron-70b']);
    ms.push(performance.now() - t);
  }
  return ms;
}

const sorted = (v: number[]): number[] => [...v].sort((a, b) => a - b);

async function main(): Promise<void> {
  const files = readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  await time(searchsets(JSON.parse(readFileSync(join(FIXTURES_DIR, files[0]!), 'utf8')) as Json), 'patient-view', 2);
  const rows: Array<{ case: string; p50: number; p99: number; runs: number }> = [];
  for (const f of files) {
    const prefetch = searchsets(JSON.parse(readFileSync(join(FIXTURES_DIR, f), 'utf8')) as Json);
    const ms = (await Promise.all(HOOKS.map(async (h) => time(prefetch, h, RUNS)))).flat();
    rows.push({
      case: f.split('_').slice(0, 2).join(' '),
      p50: percentile(sorted(ms), 50),
      p99: percentile(sorted(ms), 99),
      runs: ms.length,
    });
  }
  const huge = hugePrefetch(
    JSON.parse(readFileSync(join(FIXTURES_DIR, files.find((f) => f.startsWith('Dirk')) ?? files[0]!), 'utf8')) as Json,
  );
  const bytes = Buffer.byteLength(JSON.stringify(huge));
  // The longest the event loop is held during the huge case, from the gaps of a 1 ms timer (the runs yield
  // between each other): how long a health call arriving then would wait.
  let last = performance.now();
  let loopMaxMs = 0;
  const tick = setInterval(() => {
    const t = performance.now();
    loopMaxMs = Math.max(loopMaxMs, t - last);
    last = t;
  }, 1);
  const hugeMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    hugeMs.push(...(await time(huge, 'patient-view', 1)));
  }
  clearInterval(tick);
  rows.push({
    case: `9,000 Conditions (${(bytes / 1e6).toFixed(1)} MB)`,
    p50: percentile(sorted(hugeMs), 50),
    p99: percentile(sorted(hugeMs), 99),
    runs: hugeMs.length,
  });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ rows, loopMaxMs })}\n`);
    return;
  }
  process.stdout.write('| case | runs | p50 ms | p99 ms |\n|---|---:|---:|---:|\n');
  for (const r of rows) process.stdout.write(`| ${r.case} | ${r.runs} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |\n`);
  process.stdout.write(`\nLongest event-loop block during the huge case: ${loopMaxMs.toFixed(0)} ms\n`);
}

void main();
