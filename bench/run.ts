/**
 * `npm run bench`: the pipeline's latency, throughput and memory on this machine, in one bounded run.
 * Writes bench/results.json, bench/results.md and bench/latency-vs-load.png. Every part is fenced: a part that
 * fails records its error and the run goes on. Flags (bench/lib/options.ts): `--quick` shortens every step (for
 * trying the harness), `--only=part,part` runs only the named parts, `--soak` adds the ten-minute soak,
 * `--baseline=<git-ref> --only=<part>` runs the part for that ref and this tree alternately, `--report-only`
 * re-renders the report from results.json. The parts are in bench/parts/.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeBuilds } from './lib/build';
import { calibrateHost } from './lib/host-calibration';
import { collectMeta } from './lib/meta';
import { BASELINE, log, ONLY, REPORT_ONLY } from './lib/options';
import { writeReport } from './lib/report';
import { render, reloadResults } from './lib/render';
import { part, results, saveResults } from './lib/results';
import { errorText } from './lib/stats';
import { load } from './lib/steps';
import { DEV_CLIENT_DIR } from './lib/sut-control';
import { BENCH_DIR } from './lib/procs';
import { runBaseline } from './parts/baseline';
import { PARTS } from './parts/index';

const t0 = Date.now();

async function main(): Promise<void> {
  if (REPORT_ONLY) {
    reloadResults();
    await render();
    log('re-rendered bench/results.md, bench/results.json and the plot from bench/results.json');
    return;
  }
  await collectMeta().catch((e: unknown) => (results.meta.error = errorText(e)));
  load.start();
  const host = await calibrateHost(load).catch((e: unknown) => ({ error: errorText(e) }));
  results.meta.hostCalibration = host;
  log(
    'error' in host
      ? `host calibration failed: ${host.error}`
      : `host calibration: the model double answered ${host.directDoubleReqS} req/s direct at c=16 (steal ${host.stealPct ?? '?'} %)`,
  );
  if (BASELINE) {
    await runBaseline(BASELINE);
  } else {
    for (const def of PARTS) {
      // The soak runs with --soak, or when --only names it.
      if (def.optIn && !ONLY.has(def.name)) continue;
      await part(def.name, def.budgetMs, def.run);
    }
  }
  await load.stop();
  removeBuilds();
  rmSync(DEV_CLIENT_DIR, { recursive: true, force: true });
  results.totalS = Math.round((Date.now() - t0) / 1000);
  await render();
  log(`done in ${results.totalS} s: bench/results.md, bench/results.json, bench/latency-vs-load.png`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`bench failed: ${errorText(e)}`);
    try {
      (results as unknown as Record<string, unknown>).fatal = errorText(e);
      saveResults();
      writeReport(results, join(BENCH_DIR, 'results.md'));
    } catch {
      // nothing more to do
    }
    process.exit(1);
  },
);
