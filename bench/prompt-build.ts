/**
 * `npm run bench:prompt`: summary + prompt build time per Synthea fixture and hook (p50/p99), and for a huge
 * prefetch (9,000 Conditions, ~3.7 MB). `PROMPTS_LIB=<dir>` measures another copy of libs/prompts/src instead of
 * this one; `PROMPTS_BASELINE=<dir>` measures that copy (the baseline before a change) beside this one in the same
 * run, alternating build by build, and adds the first build of each fixture ("first sight": a new patient, its
 * words not yet counted). Prints a Markdown table; `--json` prints JSON instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FIXTURES_DIR } from '@app/testing/synthea';
import type * as Prompts from '@app/prompts';
import { percentile } from './lib/stats';

type Json = Record<string, unknown>;
type Lib = typeof Prompts;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (dir: string): Lib => require(dir) as Lib;
const lib = load(process.env.PROMPTS_LIB ?? join(__dirname, '..', 'libs', 'prompts', 'src'));
const baseline = process.env.PROMPTS_BASELINE ? load(process.env.PROMPTS_BASELINE) : undefined;
/** The libraries measured, by label: this one alone, or the baseline and this one. */
const LIBS: Array<[string, Lib]> = baseline
  ? [
      ['before', baseline],
      ['after', lib],
    ]
  : [['', lib]];
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

/** One summary + prompt build: its whole time and the prompt build's alone (where the token counting is), in ms. */
interface Sample {
  total: number;
  build: number;
}

async function buildOnce(l: Lib, prefetch: Record<string, unknown>, hook: (typeof HOOKS)[number]): Promise<Sample> {
  const t = performance.now();
  const summary = l.summarize(prefetch, NOW, []);
  const b = performance.now();
  await l.buildPrompt(hook, summary, l.MODEL_PROFILES['meditron-70b']);
  const end = performance.now();
  return { total: end - t, build: end - b };
}

/** Per library, `runs` builds of each hook; the libraries alternate build by build (first one, then the other). */
async function time(
  prefetch: Record<string, unknown>,
  hooks: ReadonlyArray<(typeof HOOKS)[number]>,
  runs: number,
): Promise<Sample[][]> {
  const samples: Sample[][] = LIBS.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const hook of hooks)
      for (let k = 0; k < LIBS.length; k++) {
        const j = (i + k) % LIBS.length;
        samples[j]!.push(await buildOnce(LIBS[j]![1], prefetch, hook));
      }
  return samples;
}

interface Row {
  case: string;
  runs: number;
  /**
   * Per library (LIBS order), in ms: summary + build p50 and p99, the prompt build's own p50 and p99, and the
   * first build of the case (a new patient: its words not yet counted).
   */
  libs: Array<{ label: string; p50: number; p99: number; buildP50: number; buildP99: number; firstBuild: number }>;
}

function row(name: string, samples: Sample[][]): Row {
  return {
    case: name,
    runs: samples[0]!.length,
    libs: LIBS.map(([label], j) => {
      const total = sorted(samples[j]!.map((x) => x.total));
      const build = sorted(samples[j]!.map((x) => x.build));
      return {
        label,
        p50: percentile(total, 50),
        p99: percentile(total, 99),
        buildP50: percentile(build, 50),
        buildP99: percentile(build, 99),
        firstBuild: samples[j]![0]!.build,
      };
    }),
  };
}

const sorted = (v: number[]): number[] => [...v].sort((a, b) => a - b);

async function main(): Promise<void> {
  const files = readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  // Warm-up: the code paths and the template's own text, with a patient and nothing else (no clinical words).
  const first = JSON.parse(readFileSync(join(FIXTURES_DIR, files[0]!), 'utf8')) as Json;
  const patientOnly = searchsets({
    entry: (first.entry as Array<{ resource: Json }>).filter((e) => e.resource.resourceType === 'Patient'),
  });
  await time(patientOnly, HOOKS, 2);
  const rows: Row[] = [];
  for (const f of files) {
    const prefetch = searchsets(JSON.parse(readFileSync(join(FIXTURES_DIR, f), 'utf8')) as Json);
    rows.push(row(f.split('_').slice(0, 2).join(' '), await time(prefetch, HOOKS, RUNS)));
  }
  const huge = hugePrefetch(
    JSON.parse(readFileSync(join(FIXTURES_DIR, files.find((f) => f.startsWith('Dirk')) ?? files[0]!), 'utf8')) as Json,
  );
  const bytes = Buffer.byteLength(JSON.stringify(huge));
  // The longest the event loop is held during the huge case, per library, from the gaps of a 1 ms timer (the
  // runs yield between each other): how long a health call arriving then would wait.
  let last = performance.now();
  let current = 0;
  const loopMaxMs = LIBS.map(() => 0);
  const tick = setInterval(() => {
    const t = performance.now();
    loopMaxMs[current] = Math.max(loopMaxMs[current]!, t - last);
    last = t;
  }, 1);
  const hugeMs: Sample[][] = LIBS.map(() => []);
  for (let i = 0; i < 5; i++)
    for (let k = 0; k < LIBS.length; k++) {
      const j = (i + k) % LIBS.length;
      await new Promise((resolve) => setTimeout(resolve, 5));
      current = j;
      last = performance.now();
      hugeMs[j]!.push(await buildOnce(LIBS[j]![1], huge, 'patient-view'));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  clearInterval(tick);
  rows.push(row(`9,000 Conditions (${(bytes / 1e6).toFixed(1)} MB)`, hugeMs));
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ rows, loopMaxMs })}\n`);
    return;
  }
  const head = (l: string) => (l ? `${l} ` : '');
  const cols = LIBS.flatMap(([l]) =>
    ['p50', 'p99', 'build p50', 'build p99', 'first build'].map((c) => `${head(l)}${c} ms`),
  );
  process.stdout.write(`| case | runs | ${cols.join(' | ')} |\n|---|---:|${cols.map(() => '---:').join('|')}|\n`);
  for (const r of rows) {
    const cells = r.libs.flatMap((x) => [x.p50, x.p99, x.buildP50, x.buildP99, x.firstBuild].map((v) => v.toFixed(1)));
    process.stdout.write(`| ${r.case} | ${r.runs} | ${cells.join(' | ')} |\n`);
  }
  const blocks = LIBS.map(([l], j) => `${head(l)}${loopMaxMs[j]!.toFixed(0)} ms`).join(', ');
  process.stdout.write(`\nLongest event-loop block during the huge case: ${blocks}\n`);
}

void main();
