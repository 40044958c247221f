import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DashboardPanel, DashboardQuery } from './dashboard.query';
import { DASHBOARD_FACTS_SQL, DASHBOARD_VOLUME_SQL, SHADOW_BY_SERVICE_SQL, SHADOW_SAMPLES_SQL } from './dashboard.sql';
import { floorHour } from './governance-rollup.service';
import { Facts } from './facts';

export type Cell = string | number | null;

/** One panel: a table (its CSV is exactly these columns and rows) and how the console charts it. */
export interface DashboardTable {
  readonly title: string;
  readonly chart: 'bar' | 'line' | 'table';
  readonly columns: ReadonlyArray<string>;
  readonly rows: ReadonlyArray<ReadonlyArray<Cell>>;
}

export interface ShadowSample {
  readonly service: string;
  readonly receivedAt: string;
  readonly cards: ReadonlyArray<{ indicator: string; summary: string }>;
}

export interface Dashboard {
  readonly period: { readonly from: string; readonly to: string; readonly service: string | null };
  readonly panels: Record<DashboardPanel, DashboardTable>;
  /** What shadow-mode services would have shown, latest first (indicator and summary; no patient). */
  readonly shadowSamples: ReadonlyArray<ShadowSample>;
}

type Row = Record<string, unknown>;

/** Governance figures for a period, all aggregated in SQL over the hook, card, feedback and inference tables. */
@Injectable()
export class GovernanceDashboard {
  constructor(private readonly ds: DataSource) {}

  async read(q: DashboardQuery): Promise<Dashboard> {
    const [rollupFrom, rollupTo] = await this.rolledUpSpan(q);
    const p = [q.from, q.to, q.service, rollupFrom, rollupTo];
    const bucket = q.to.getTime() - q.from.getTime() <= 3 * 86_400_000 ? 'hour' : 'day';
    const [factRows, volume, shadow, samples] = await Promise.all([
      this.ds.query<Row[]>(DASHBOARD_FACTS_SQL, p),
      this.ds.query<Row[]>(DASHBOARD_VOLUME_SQL, [...p, bucket]),
      this.ds.query<Row[]>(SHADOW_BY_SERVICE_SQL, p),
      this.ds.query<Row[]>(SHADOW_SAMPLES_SQL, q.service ? [q.from, q.to, q.service] : [q.from, q.to, null]),
    ]);
    const f = new Facts(
      factRows.map((r) => ({ metric: String(r['metric']), label: String(r['label']), n: num(r['n']) })),
    );
    const withInference = f.get('with_inference');
    const reused = Math.max(0, withInference - f.get('distinct_inferences'));
    const clients = f
      .labels('client')
      .sort((a, b) => f.get('client', b) - f.get('client', a) || a.localeCompare(b))
      .slice(0, 100);
    return {
      period: { from: q.from.toISOString(), to: q.to.toISOString(), service: q.service },
      panels: {
        cards: f.table('Cards shown, by indicator', 'card', ['indicator', 'cards']),
        feedback: f.table('Feedback outcomes', 'feedback', ['outcome', 'cards']),
        'override-reasons': f.table('Override reasons', 'override', ['reason', 'overrides'], true),
        answers: {
          title: 'Answers by outcome',
          chart: 'bar',
          columns: ['outcome', 'count', 'unit'],
          rows: [
            ['valid', f.get('outcome', 'valid'), 'calls'],
            ['repaired', f.get('outcome', 'repaired'), 'calls'],
            ['invalid', f.get('outcome', 'invalid'), 'calls'],
            ['expired', f.get('outcome', 'expired'), 'calls'],
            ['backend error', f.get('outcome', 'backend_error'), 'calls'],
            ['no answer in time', f.get('outcome', 'pending'), 'calls'],
            ['finding dropped: no evidence cited', f.get('findings', 'dropped_uncited'), 'findings'],
            ['finding dropped: evidence not in prompt', f.get('findings', 'dropped_unknown_ref'), 'findings'],
            ['critical lowered to warning', f.get('findings', 'critical_lowered'), 'findings'],
          ],
        },
        latency: {
          title: 'Latency (ms)',
          chart: 'bar',
          columns: ['measure', 'p50_ms', 'p95_ms', 'p99_ms', 'count'],
          rows: [
            ['hook answer', ...f.percentiles('hook_ms'), f.get('calls')],
            ['model run', ...f.percentiles('run_ms'), f.get('runs')],
          ],
        },
        reuse: {
          title: 'Result reuse',
          chart: 'table',
          columns: ['measure', 'value'],
          rows: [
            ['hook calls answered from a model run', withInference],
            ['model runs behind them', f.get('distinct_inferences')],
            ['calls answered by a run started for an earlier call', reused],
            ['reuse rate (%)', withInference === 0 ? 0 : round1((100 * reused) / withInference)],
            ['model runs served by a backend', f.get('served', 'backend')],
            ['model runs served from the result cache', f.get('served', 'cache')],
            ['model runs coalesced with an identical one', f.get('served', 'coalesced')],
          ],
        },
        shadow: {
          title: 'Shadow-mode services: cards they would have shown',
          chart: 'bar',
          columns: ['service', 'calls', 'would_have_shown'],
          rows: shadow.map((r) => [String(r['service']), num(r['calls']), num(r['would_have_shown'])]),
        },
        clients: {
          title: 'Volume per EHR client',
          chart: 'bar',
          columns: ['client', 'calls', 'with_cards', 'failed'],
          rows: clients.map((c) => [c, f.get('client', c), f.get('client_cards', c), f.get('client_failed', c)]),
        },
        volume: {
          title: `Hook calls per ${bucket} (UTC)`,
          chart: 'line',
          columns: ['period_start', 'calls', 'with_cards'],
          rows: volume.map((r) => [iso(r['bucket']), num(r['calls']), num(r['with_cards'])]),
        },
      },
      shadowSamples: samples.map((r) => ({
        service: String(r['service']),
        receivedAt: iso(r['received_at']),
        cards: previews(r['preview']),
      })),
    };
  }

  /** The whole hours of the period already rolled up; [from, from) when none (everything is computed live). */
  private async rolledUpSpan(q: DashboardQuery): Promise<[Date, Date]> {
    const rows = await this.ds.query<Array<{ rolled_through: Date | null }>>(
      `SELECT rolled_through FROM governance_rollup_state WHERE singleton`,
    );
    const through = rows[0]?.rolled_through;
    if (!through) return [q.from, q.from];
    const first =
      floorHour(q.from).getTime() === q.from.getTime() ? q.from : new Date(floorHour(q.from).getTime() + 3_600_000);
    const last = new Date(Math.min(floorHour(q.to).getTime(), through.getTime()));
    return last > first ? [first, last] : [q.from, q.from];
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0) || 0;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function previews(v: unknown): Array<{ indicator: string; summary: string }> {
  if (!Array.isArray(v)) return [];
  return v.flatMap((c: unknown) => {
    if (typeof c !== 'object' || c === null) return [];
    const o = c as Record<string, unknown>;
    return typeof o['indicator'] === 'string' && typeof o['summary'] === 'string'
      ? [{ indicator: o['indicator'], summary: o['summary'] }]
      : [];
  });
}
