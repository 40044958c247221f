import type { Cell, DashboardTable } from './dashboard.service';

export interface Fact {
  readonly metric: string;
  readonly label: string;
  readonly n: number;
}

/** The summed facts of a period, looked up by metric and label; percentiles from the latency buckets. */
export class Facts {
  private readonly byKey = new Map<string, number>();
  private readonly byMetric = new Map<string, Map<string, number>>();

  constructor(rows: ReadonlyArray<Fact>) {
    for (const r of rows) {
      this.byKey.set(`${r.metric}\u0000${r.label}`, r.n);
      let m = this.byMetric.get(r.metric);
      if (!m) this.byMetric.set(r.metric, (m = new Map()));
      m.set(r.label, r.n);
    }
  }

  get(metric: string, label = ''): number {
    return this.byKey.get(`${metric}\u0000${label}`) ?? 0;
  }

  labels(metric: string): string[] {
    return [...(this.byMetric.get(metric)?.keys() ?? [])];
  }

  /** One metric as a two-column table, by label (or by count, largest first). */
  table(title: string, metric: string, columns: [string, string], byCount = false): DashboardTable {
    const rows = this.labels(metric).map((l): [string, number] => [l, this.get(metric, l)]);
    rows.sort(byCount ? (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]) : (a, b) => a[0].localeCompare(b[0]));
    return { title, chart: 'bar', columns, rows };
  }

  /**
   * p50 / p95 / p99 in ms from 5%-wide logarithmic buckets (bucket b holds [1.05^b, 1.05^(b+1)) ms): each is the
   * bucket's geometric middle, so within 2.5% of the exact value. Null when nothing was measured.
   */
  percentiles(metric: string): [Cell, Cell, Cell] {
    const buckets = this.labels(metric)
      .map((l) => [Number(l), this.get(metric, l)] as const)
      .sort((a, b) => a[0] - b[0]);
    const total = buckets.reduce((a, [, n]) => a + n, 0);
    if (total === 0) return [null, null, null];
    const at = (p: number): number => {
      const rank = Math.ceil(p * total);
      let seen = 0;
      for (const [b, n] of buckets) {
        seen += n;
        if (seen >= rank) return Math.round(Math.pow(1.05, b + 0.5) * 10) / 10;
      }
      return NaN;
    };
    return [at(0.5), at(0.95), at(0.99)];
  }
}
