/** `node --cpu-prof` on the single-process SUT: where the time goes at 100 hooks/s, model 0 ms. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@app/testing/postgres';
import { startDouble, type Double } from '../lib/double-control';
import { stopChild } from '../lib/procs';
import { summarizeProfile } from '../lib/profile';
import { results, type PartRecord } from '../lib/results';
import { hookStep, warmUp } from '../lib/steps';
import { startSut, sutEnv, type Sut } from '../lib/sut-control';

export async function cpuProfile(p: PartRecord): Promise<void> {
  let db: TestDatabase | undefined;
  let double: Double | undefined;
  let sut: Sut | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-bench-prof-'));
  try {
    db = await createTestDatabase('bench_prof');
    double = await startDouble();
    sut = await startSut(sutEnv({ DATABASE_URL: db.url, INFERENCE_BACKENDS: `vllm=${double.baseUrl}` }), [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    await warmUp(sut);
    await hookStep(p, sut, double, {
      series: 'profiled single/pg 0 ms',
      hook: 'patient-view',
      rate: 100,
      connections: 32,
      profile: 'zero',
      modelMs: 0,
    });
    await stopChild(sut.child);
    sut = undefined;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written');
    results.profile = summarizeProfile(join(dir, file), 25);
    p.notes.push(
      'node --cpu-prof on the system-under-test process: boot, warm-up and 10 s at 100 patient-view hooks/s (model 0 ms).',
    );
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    await db?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
