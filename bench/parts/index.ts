/** Every part of `npm run bench`, in run order, with its time budget. */
import { QUICK, SOAK } from '../lib/options';
import type { PartRecord } from '../lib/results';
import { audit } from './audit';
import { cpuProfile } from './cpu-profile';
import { kafkaMode } from './kafka';
import { overload } from './overload';
import { pglite } from './pglite';
import { singleProcessPostgres } from './single-postgres';
import { soak } from './soak';

export interface PartDef {
  readonly name: string;
  readonly budgetMs: number;
  readonly run: (p: PartRecord) => Promise<void>;
  /** Only with a flag (the soak). */
  readonly optIn?: boolean;
}

const min = 60_000;

export const PARTS: readonly PartDef[] = [
  { name: 'hooks-single-process-postgres', budgetMs: (QUICK ? 5 : 14) * min, run: (p) => singleProcessPostgres(p) },
  { name: 'hooks-deployed-kafka', budgetMs: (QUICK ? 4 : 12) * min, run: (p) => kafkaMode(p, 'deployed') },
  { name: 'overload', budgetMs: (QUICK ? 3 : 5) * min, run: overload },
  { name: 'cpu-profile', budgetMs: 2 * min, run: cpuProfile },
  { name: 'hooks-single-process-pglite', budgetMs: 3 * min, run: pglite },
  { name: 'hooks-kafka', budgetMs: (QUICK ? 4 : 7) * min, run: (p) => kafkaMode(p, 'single') },
  { name: 'audit-1m', budgetMs: (QUICK ? 4 : 8) * min, run: audit },
  { name: 'soak', budgetMs: 16 * min, run: soak, optIn: !SOAK },
];
