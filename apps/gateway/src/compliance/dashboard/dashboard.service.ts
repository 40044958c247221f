import { Injectable } from '@nestjs/common';
import { GovernanceDashboardRepository } from '@app/database';
import type { DashboardPanel, DashboardQuery } from './dashboard.query';
import { factSegments } from './fact-segments';
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

/** Governance figures for a period, all aggregated in SQL over the hook, card, feedback and inference tables. */
@Injectable()
export class GovernanceDashboard {
  constructor(private readonly repo: GovernanceDashboardRepository) {}

  async read(q: DashboardQuery): Promise<Dashboard> {
    const state = await this.repo.rollupState();
    const bucket = q.to.getTime() - q.from.getTime() <= 3 * 86_400_000 ? 'hour' : 'day';
    // Charted by the hour, the period cannot take whole days from the daily rollup.
    const days = bucket === 'day' ? state.daysThrough : null;
    const segments = factSegments(q.from, q.to, state.hoursThrough, days);
    const [rows, samples] = await Promise.all([
      this.repo.facts(segments, q.service, bucket),
      this.repo.shadowSamples(q.from, q.to, q.service),
    ]);
    const of = (kind: string) => rows.filter((r) => r['kind'] === kind);
    const f = new Facts(
      of('fact').map((r) => ({ metric: String(r['metric']), label: String(r['label']), n: num(r['n']) })),
    );
    const volume = new Map<string, { calls: number; withCards: number }>();
    for (const r of of('volume')) {
      const key = iso(r['bucket']);
      const v = volume.get(key) ?? { calls: 0, withCards: 0 };
      if (r['metric'] === 'calls') v.calls += num(r['n']);
      else v.withCards += num(r['n']);
      volume.set(key, v);
    }
    const shadow = new Map<string, { calls: number; cards: number }>();
    for (const r of of('shadow')) {
      const key = String(r['label']);
      const v = shadow.get(key) ?? { calls: 0, cards: 0 };
      if (r['metric'] === 'shadow_calls') v.calls += num(r['n']);
      else v.cards += num(r['n']);
      shadow.set(key, v);
    }
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
          rows: [...shadow]
            .filter(([, v]) => v.calls > 0)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([service, v]) => [service, v.calls, v.cards]),
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
          rows: [...volume].sort(([a], [b]) => a.localeCompare(b)).map(([t, v]) => [t, v.calls, v.withCards]),
        },
      },
      shadowSamples: samples.map((r) => ({
        service: String(r['service']),
        receivedAt: iso(r['received_at']),
        cards: previews(r['preview']),
      })),
    };
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
