/** The embedded default (`npm start`: PGlite), single process, model 0 ms. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateDouble, startDouble, type Double } from '../lib/double-control';
import { QUICK } from '../lib/options';
import { stopChild } from '../lib/procs';
import type { PartRecord } from '../lib/results';
import { ramp, warmUp } from '../lib/steps';
import { startSut, sutEnv, type Sut } from '../lib/sut-control';

export const PGLITE_SERIES = 'single/PGlite model 0 ms';

export async function pglite(p: PartRecord): Promise<void> {
  let double: Double | undefined;
  let sut: Sut | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-bench-pglite-'));
  try {
    double = await startDouble();
    sut = await startSut(sutEnv({ INFERENCE_BACKENDS: `vllm=${double.baseUrl}`, BENCH_PGLITE_DIR: dir }));
    p.notes.push(`database: ${sut.ready.mode.database} (PGlite, one multiplexed connection; pools of 4)`);
    p.extra.doubleOwnTimeMs = { zero: await calibrateDouble(double, 'zero') };
    await warmUp(sut);
    await ramp(p, sut, double, PGLITE_SERIES, 'zero', 0, QUICK ? [10, 50] : [10, 25, 50, 100, 150]);
  } finally {
    await stopChild(sut?.child);
    await stopChild(double?.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
