/**
 * `--baseline=<git-ref> --only=<part>`: the named parts for that ref and for this tree alternately (A/B/A/B) in one
 * run, so a code change is compared on the same machine state. The ref is checked out in a temporary git worktree
 * (node_modules symlinked) and this tree's bench/ is copied over its own: the harness and load generator are this
 * tree's, only the system under test (apps, libs, tools) is the ref's.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { log, ONLY } from '../lib/options';
import { BENCH_DIR, REPO_DIR } from '../lib/procs';
import { part, results, type PartRecord, type StepRecord } from '../lib/results';
import { round } from '../lib/stats';
import { setSutRoot } from '../lib/sut-control';
import { PARTS } from './index';

const ROUNDS = Number(process.env.BENCH_BASELINE_ROUNDS ?? 2);

export interface ComparisonRow {
  part: string;
  step: string;
  baseline: { p50: number[]; p99: number[] };
  current: { p50: number[]; p99: number[] };
  /** Median over rounds, current − baseline. */
  diffP50: number;
  diffP99: number;
}

const git = (args: string[]): string => execFileSync('git', args, { cwd: REPO_DIR }).toString().trim();

function makeWorktree(ref: string): { dir: string; sha: string } {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const dir = mkdtempSync(join(tmpdir(), 'meditron-bench-baseline-'));
  git(['worktree', 'add', '--detach', dir, sha]);
  symlinkSync(join(REPO_DIR, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const skip = new Set(['results.json', 'results.md', 'latency-vs-load.png', 'latency-vs-load.svg']);
  cpSync(BENCH_DIR, join(dir, 'bench'), { recursive: true, force: true, filter: (src) => !skip.has(basename(src)) });
  return { dir, sha };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const stepKey = (s: StepRecord): string =>
  `${s.series} ${s.hook} ${s.mode === 'open' ? `${s.offeredRps}/s` : `c=${s.connections}`}`;

function compare(name: string, runs: Array<{ side: 'baseline' | 'current'; p: PartRecord }>): ComparisonRow[] {
  const rows = new Map<string, ComparisonRow>();
  for (const { side, p } of runs) {
    for (const s of p.steps) {
      const key = stepKey(s);
      const row = rows.get(key) ?? {
        part: name,
        step: key,
        baseline: { p50: [], p99: [] },
        current: { p50: [], p99: [] },
        diffP50: 0,
        diffP99: 0,
      };
      row[side].p50.push(s.latencyMs.p50);
      row[side].p99.push(s.latencyMs.p99);
      rows.set(key, row);
    }
  }
  for (const r of rows.values()) {
    r.diffP50 = round(median(r.current.p50) - median(r.baseline.p50));
    r.diffP99 = round(median(r.current.p99) - median(r.baseline.p99));
  }
  return [...rows.values()];
}

export async function runBaseline(ref: string): Promise<void> {
  const defs = PARTS.filter((d) => ONLY.has(d.name));
  if (defs.length === 0) throw new Error('--baseline needs --only=<part> naming at least one part');
  const { dir, sha } = makeWorktree(ref);
  results.meta.baseline = { ref, sha, worktree: dir, rounds: ROUNDS };
  log(`baseline ${ref} (${sha.slice(0, 10)}) checked out in ${dir}; ${ROUNDS} rounds A/B`);
  const comparison: ComparisonRow[] = [];
  try {
    for (const def of defs) {
      const runs: Array<{ side: 'baseline' | 'current'; p: PartRecord }> = [];
      for (let i = 1; i <= ROUNDS; i++) {
        for (const side of ['baseline', 'current'] as const) {
          setSutRoot(side === 'baseline' ? dir : undefined);
          const p = await part(def.name, def.budgetMs, def.run, {
            force: true,
            label: `${def.name} [${side === 'baseline' ? `baseline ${ref}` : 'current'} #${i}]`,
          });
          if (p) runs.push({ side, p });
        }
      }
      comparison.push(...compare(def.name, runs));
    }
  } finally {
    setSutRoot(undefined);
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch (e) {
      log(`could not remove the baseline worktree ${dir}: ${String(e)}`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  results.meta.baselineComparison = comparison;
}
