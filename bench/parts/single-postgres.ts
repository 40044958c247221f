/**
 * Single-process mode on Postgres, in-process bus: latency against offered load (model 0 ms and realistic), an
 * order-sign step, closed-loop throughput, the repeat path (cache hit) after a cool-down, the facade comparison.
 */
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import {
  calibrateDouble,
  doubleControl,
  enqueueAnswers,
  realisticLatency,
  startDouble,
  type Double,
} from '../lib/double-control';
import { QUICK, REAL_RATES, TARGET_RPS, TARGET_TRIES, ZERO, ZERO_RATES } from '../lib/options';
import { stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { errorText } from '../lib/stats';
import { hookStep, NOMINAL_REALISTIC_MS, primeRepeatPath, ramp, targetAgain, warmUp } from '../lib/steps';
import { startSut, sutEnv, waitIdle, type Sut } from '../lib/sut-control';
import { facadeComparison, PORTKEY_PORT, startPortkey } from './facade';

export const SINGLE_ZERO = 'single/pg model 0 ms';
export const SINGLE_REAL = 'single/pg model 300+10x150';
export const CACHE_HIT = 'cache hit (repeat)';
/** The sustained target tried again after the zero-model ramp (its own series: the ramp's knee is the ramp's). */
export const SINGLE_ZERO_AGAIN = `${SINGLE_ZERO}, ${TARGET_RPS}/s again`;

export async function singleProcessPostgres(p: PartRecord, opts: { facade?: boolean } = {}): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  let portkey: ChildProcess | undefined;
  let double2: Double | undefined;
  try {
    db = await createTestDatabase('bench_hooks');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }));
    p.notes.push(`database: fresh Postgres database ${db.name}; transport: ${sut.ready.mode.transport}`);
    const zero = await calibrateDouble(double, 'zero');
    await doubleControl(double, 'latency', realisticLatency);
    const real = await calibrateDouble(double, 'realistic');
    await doubleControl(double, 'latency', ZERO);
    p.extra.doubleOwnTimeMs = { zero, realistic: real, nominalRealistic: NOMINAL_REALISTIC_MS };
    await warmUp(sut);

    await ramp(p, sut, double, SINGLE_ZERO, 'zero', 0, ZERO_RATES);
    await targetAgain(p, sut, double, SINGLE_ZERO_AGAIN, TARGET_RPS, TARGET_TRIES);
    await hookStep(p, sut, double, {
      series: SINGLE_ZERO,
      hook: 'order-sign',
      rate: 50,
      connections: 32,
      profile: 'zero',
      modelMs: 0,
    });
    await hookStep(p, sut, double, {
      series: `${SINGLE_ZERO} closed`,
      hook: 'patient-view',
      connections: 32,
      mode: 'closed',
      profile: 'zero',
      modelMs: 0,
      rate: 600,
    });

    await doubleControl(double, 'latency', realisticLatency);
    await ramp(p, sut, double, SINGLE_REAL, 'realistic', real.p50, REAL_RATES);
    await hookStep(p, sut, double, {
      series: SINGLE_REAL,
      hook: 'order-sign',
      rate: 25,
      connections: 120,
      profile: 'realistic',
      modelMs: real.p50,
    });

    // Repeat path: the same context again; the model is slow, so anything not served from the cache shows.
    // The step before it can leave a backlog (the proxy finishes generations past the hook deadline): wait until
    // every queue/in-flight gauge reads 0, then prime the cache with one quiet request, then measure.
    const settled = await waitIdle(sut, { minMs: 3000, maxMs: 120_000 });
    p.notes.push(
      `cache hit: cool-down ${Math.round(settled.waitedMs / 100) / 10} s until ${settled.idle ? 'every queue, in-flight and backlog gauge read 0' : `the 120 s limit (still busy: ${settled.busy})`}, then a priming request (repeated until one is answered with cards), then the steps`,
    );
    // The cache must hold the answer before the step: prime until one request came back with cards.
    let primed = false;
    for (let attempt = 1; attempt <= 3 && !primed; attempt++) {
      await enqueueAnswers(double, 2);
      const r = await primeRepeatPath(sut);
      primed = r.errors === 0 && r.emptyCards === 0;
      p.notes.push(
        `cache hit: priming request ${attempt}: ${primed ? 'answered with cards' : `no cards (errors ${r.errors}, empty ${r.emptyCards}, ${r.latencyMs.max} ms)`}`,
      );
      if (!primed) await waitIdle(sut);
    }
    for (const rate of QUICK ? [50] : [50, 200]) {
      await hookStep(p, sut, double, {
        series: CACHE_HIT,
        hook: 'patient-view',
        rate,
        connections: 64,
        profile: 'realistic',
        modelMs: 0,
        vary: false,
      });
    }
    await doubleControl(double, 'latency', ZERO);
    if (opts.facade === false) return;

    // Facade vs direct vs Portkey: a second double (no queued answers), same concurrency, same run.
    double2 = await startDouble();
    portkey = await startPortkey(p).catch((e: unknown) => {
      p.notes.push(`Portkey not run: ${errorText(e)}`);
      return undefined;
    });
    p.extra.facade = await facadeComparison(p, sut, double2, portkey ? PORTKEY_PORT : undefined);
  } finally {
    await stopChild(portkey);
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await stopChild(double2?.child);
    await db?.drop().catch(() => undefined);
  }
}
