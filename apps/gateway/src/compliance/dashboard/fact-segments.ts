import type { FactSegment } from '@app/database';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const floorTo = (d: Date, unit: number) => new Date(Math.floor(d.getTime() / unit) * unit);
const ceilTo = (d: Date, unit: number) => new Date(Math.ceil(d.getTime() / unit) * unit);

/**
 * Splits [from, to) into what the rollups already hold and what is computed live: whole days from `governance_daily`,
 * whole hours around them from `governance_hourly`, and the partial hours at either end (and anything not rolled up
 * yet) live from the raw tables.
 */
export function factSegments(
  from: Date,
  to: Date,
  hoursThrough: Date | null | undefined,
  daysThrough: Date | null | undefined,
): FactSegment[] {
  const firstHour = ceilTo(from, HOUR_MS);
  const hourlyEnd = hoursThrough ? new Date(Math.min(floorTo(to, HOUR_MS).getTime(), hoursThrough.getTime())) : null;
  if (!hourlyEnd || hourlyEnd <= firstHour) return [{ source: 'live', from, to }];
  const out: FactSegment[] = [];
  const add = (source: FactSegment['source'], a: Date, b: Date) => {
    if (a < b) out.push({ source, from: a, to: b });
  };
  add('live', from, firstHour);
  const firstDay = ceilTo(from, DAY_MS);
  const dailyEnd = daysThrough ? new Date(Math.min(floorTo(to, DAY_MS).getTime(), daysThrough.getTime())) : null;
  if (dailyEnd && dailyEnd > firstDay) {
    add('hourly', firstHour, firstDay);
    add('daily', firstDay, dailyEnd);
    add('hourly', dailyEnd, hourlyEnd);
  } else {
    add('hourly', firstHour, hourlyEnd);
  }
  add('live', hourlyEnd, to);
  return out;
}
