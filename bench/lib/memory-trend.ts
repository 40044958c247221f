/**
 * One app's memory over a soak, from RSS samples: the least-squares slope after the first minute's warm-up and the
 * slope over the second half alone. A leak keeps growing, so it shows in the second half too; caches and heaps that
 * fill to their bounds and then stay (a plateau) show only in the first. The app is flagged as growing when the
 * second half's slope is above the flag; the whole slope is reported beside it.
 */
import { round } from './stats';
import { slope } from './usage';

export interface RssSample {
  /** Seconds since the soak's start. */
  readonly s: number;
  readonly rssMb: Readonly<Record<string, number>>;
}

export interface SoakTrend {
  first: number;
  last: number;
  max: number;
  /** After the first minute (all samples when fewer than 6 are after it). */
  slopeMbPerMin: number;
  /** Over the second half of the soak's samples. */
  lastHalfSlopeMbPerMin: number;
  growing: boolean;
}

/** Seconds treated as warm-up (JIT, pools, caches filling) before the whole slope is taken. */
const WARM_UP_S = 60;

export function memoryTrend(samples: readonly RssSample[], app: string, flagMbPerMin: number): SoakTrend {
  const all = samples.filter((x) => x.rssMb[app] !== undefined);
  const after = all.filter((x) => x.s >= WARM_UP_S);
  const pts = after.length >= 6 ? after : all;
  const ys = all.map((x) => x.rssMb[app]!);
  const perMin = (xs: readonly RssSample[]): number =>
    slope(
      xs.map((x) => x.s),
      xs.map((x) => x.rssMb[app]!),
    ) * 60;
  const endS = all.at(-1)?.s ?? 0;
  const startS = all[0]?.s ?? 0;
  const lastHalf = all.filter((x) => x.s >= startS + (endS - startS) / 2);
  const lastHalfSlope = perMin(lastHalf);
  return {
    first: ys[0] ?? 0,
    last: ys.at(-1) ?? 0,
    max: Math.max(0, ...ys),
    slopeMbPerMin: round(perMin(pts)),
    lastHalfSlopeMbPerMin: round(lastHalfSlope),
    growing: lastHalfSlope > flagMbPerMin,
  };
}
