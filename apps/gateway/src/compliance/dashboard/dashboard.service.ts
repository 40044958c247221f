import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DashboardPanel, DashboardQuery } from './dashboard.query';
import {
  CARDS_SQL,
  CLIENTS_SQL,
  FEEDBACK_SQL,
  HOOK_TOTALS_SQL,
  MODEL_RUNS_SQL,
  OVERRIDE_REASONS_SQL,
  SHADOW_SAMPLES_SQL,
  SHADOW_SQL,
  VOLUME_SQL,
} from './dashboard.sql';

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
    const p = [q.from, q.to, q.service];
    const bucket = q.to.getTime() - q.from.getTime() <= 3 * 86_400_000 ? 'hour' : 'day';
    const [totals, volume, clients, shadow, samples, cards, feedback, reasons, runs] = await Promise.all([
      this.one(HOOK_TOTALS_SQL, p),
      this.ds.query<Row[]>(VOLUME_SQL, [...p, bucket]),
      this.ds.query<Row[]>(CLIENTS_SQL, p),
      this.ds.query<Row[]>(SHADOW_SQL, p),
      this.ds.query<Row[]>(SHADOW_SAMPLES_SQL, p),
      this.ds.query<Row[]>(CARDS_SQL, p),
      this.ds.query<Row[]>(FEEDBACK_SQL, p),
      this.ds.query<Row[]>(OVERRIDE_REASONS_SQL, p),
      this.one(MODEL_RUNS_SQL, p),
    ]);
    const withInference = num(totals['with_inference']);
    const reused = withInference - num(totals['distinct_inferences']);
    return {
      period: { from: q.from.toISOString(), to: q.to.toISOString(), service: q.service },
      panels: {
        cards: table('Cards shown, by indicator', 'bar', ['indicator', 'cards'], cards, ['indicator', 'cards']),
        feedback: table('Feedback outcomes', 'bar', ['outcome', 'cards'], feedback, ['outcome', 'n']),
        'override-reasons': table('Override reasons', 'bar', ['reason', 'overrides'], reasons, ['reason', 'n']),
        answers: {
          title: 'Answers by outcome',
          chart: 'bar',
          columns: ['outcome', 'count', 'unit'],
          rows: [
            ['valid', num(totals['valid']), 'calls'],
            ['repaired', num(totals['repaired']), 'calls'],
            ['invalid', num(totals['invalid']), 'calls'],
            ['expired', num(totals['expired']), 'calls'],
            ['backend error', num(totals['backend_error']), 'calls'],
            ['no answer in time', num(totals['pending']), 'calls'],
            ['finding dropped: no evidence cited', num(totals['dropped_uncited']), 'findings'],
            ['finding dropped: evidence not in prompt', num(totals['dropped_unknown_ref']), 'findings'],
            ['critical lowered to warning', num(totals['critical_lowered']), 'findings'],
          ],
        },
        latency: {
          title: 'Latency (ms)',
          chart: 'bar',
          columns: ['measure', 'p50_ms', 'p95_ms', 'p99_ms', 'count'],
          rows: [
            ['hook answer', ...percentiles(totals['latency']), num(totals['calls'])],
            ['model run', ...percentiles(runs['latency']), num(runs['runs'])],
          ],
        },
        reuse: {
          title: 'Result reuse',
          chart: 'table',
          columns: ['measure', 'value'],
          rows: [
            ['hook calls answered from a model run', withInference],
            ['model runs behind them', num(totals['distinct_inferences'])],
            ['calls answered by a run started for an earlier call', reused],
            ['reuse rate (%)', withInference === 0 ? 0 : round1((100 * reused) / withInference)],
            ['model runs served by a backend', num(runs['from_backend'])],
            ['model runs served from the result cache', num(runs['from_cache'])],
            ['model runs coalesced with an identical one', num(runs['coalesced'])],
          ],
        },
        shadow: table(
          'Shadow-mode services: cards they would have shown',
          'bar',
          ['service', 'calls', 'would_have_shown'],
          shadow,
          ['service', 'calls', 'would_have_shown'],
        ),
        clients: table('Volume per EHR client', 'bar', ['client', 'calls', 'with_cards', 'failed'], clients, [
          'client',
          'calls',
          'with_cards',
          'failed',
        ]),
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

  private async one(sql: string, params: unknown[]): Promise<Row> {
    const rows = await this.ds.query<Row[]>(sql, params);
    return rows[0] ?? {};
  }
}

function table(
  title: string,
  chart: DashboardTable['chart'],
  columns: string[],
  rows: Row[],
  keys: string[],
): DashboardTable {
  return { title, chart, columns, rows: rows.map((r) => keys.map((k) => cell(r[k]))) };
}

function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : String(v);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0) || 0;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function percentiles(v: unknown): [Cell, Cell, Cell] {
  const a = Array.isArray(v) ? v.map((x) => (x === null ? null : round1(Number(x)))) : [];
  return [a[0] ?? null, a[1] ?? null, a[2] ?? null];
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
