import { GovernanceRollupRepository } from '@app/database';
import { GovernanceRollup } from '../../apps/gateway/src/compliance/dashboard/governance-rollup.service';
import type { Dashboard } from '../../apps/gateway/src/compliance/dashboard/dashboard.service';
import { startComplianceHarness, type ComplianceHarness } from '../support/compliance-harness';
import { queryRows } from '../support/postgres';

const HOUR = 3_600_000;

/** The dashboard API over a real database: the same figures whether hours are rolled up or computed live. */
describe('governance dashboard API', () => {
  let h: ComplianceHarness;
  let token: string;
  const now = new Date();
  // Not on hour boundaries: the edges are computed live, the whole hours between from the rollup.
  const from = new Date(now.getTime() - 50 * HOUR - 17 * 60_000);
  const to = new Date(now.getTime() - 20 * 60_000);

  // Over three days: charted by the day, whole days read from the daily rollup.
  const longFrom = new Date(now.getTime() - 4 * 24 * HOUR - 17 * 60_000);

  const dashboard = async (query = '', since = from): Promise<Dashboard> => {
    const period = `from=${since.toISOString()}&to=${to.toISOString()}`;
    const res = await fetch(`${h.url}/compliance/dashboard?${period}${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Dashboard;
  };

  beforeAll(async () => {
    h = await startComplianceHarness();
    token = await h.staffToken('dash', ['compliance']);
    await h.cdsHooksDataSource.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, status, cards_returned,
         received_at, answered_at, inference_request_id, answer_detail)
       SELECT gen_random_uuid(), gen_random_uuid(), 'patient-view', CASE WHEN g % 4 = 0 THEN 'svc-b' ELSE 'svc-a' END,
              'r' || g, 'ehr-' || (g % 3), CASE WHEN g % 5 = 0 THEN 'answered_empty' ELSE 'answered' END, 1,
              now() - (g * 97 % 180000 || ' seconds')::interval,
              now() - (g * 97 % 180000 || ' seconds')::interval + ((20 + g * 13 % 900) || ' milliseconds')::interval,
              md5('run' || (g / 2))::uuid,
              CASE g % 5 WHEN 0 THEN '{"result":"ok","output":"not_json"}'
                         WHEN 1 THEN '{"result":"ok","output":"valid","dropped":[{"index":1,"reason":"no_citation"}]}'
                         WHEN 2 THEN '{"result":"ok","output":"valid","shadow":true,"shadowCards":2}'
                         ELSE '{"result":"ok","output":"valid"}' END::jsonb
         FROM generate_series(1, 3000) g`,
    );
    await h.cdsHooksDataSource.query(
      `INSERT INTO cds_cards (uuid, hook_invocation_id, service_id, created_at, indicator)
       SELECT gen_random_uuid(), id, service_id, answered_at, CASE WHEN request_id LIKE '%7' THEN 'critical' ELSE 'info' END
         FROM hook_invocations WHERE status = 'answered'`,
    );
  });
  afterAll(() => h?.stop());

  it('gives the same figures from the rollups as computed live, and reads the rollups once rolled', async () => {
    const live = await dashboard();
    const liveLong = await dashboard('', longFrom);
    expect(live.panels.clients.rows.reduce((a, r) => a + Number(r[1]), 0)).toBeGreaterThan(1000);
    const rolledHours = await new GovernanceRollup(new GovernanceRollupRepository(h.dataSource), 60_000).run();
    expect(rolledHours).toBeGreaterThanOrEqual(48);
    expect(await dashboard()).toEqual(live);
    expect(await dashboard('', longFrom)).toEqual(liveLong);
    expect(await dashboard('&service=svc-b')).not.toEqual(live);

    // Counts planted in the rollups show: whole days of a long period come from the daily rollup, whole hours from the
    // hourly one. The hour before `to` is a whole hour of the short period; of the long one only when `to` is past
    // the first hour of its day (else that hour is in the last whole day, and the long period's first whole hour,
    // before its first whole day, carries the planted hour instead).
    const DAY = 24 * HOUR;
    const day = new Date(Math.ceil(longFrom.getTime() / DAY) * DAY);
    const hour = new Date(Math.floor(to.getTime() / HOUR) * HOUR - HOUR);
    const plantHour = (at: Date) =>
      h.dataSource.query(
        `INSERT INTO governance_hourly (hour, service_id, metric, label, n) VALUES ($1, 'svc-a', 'card', 'warning', 7)`,
        [at],
      );
    await h.dataSource.query(
      `INSERT INTO governance_daily (day, service_id, metric, label, n) VALUES ($1, 'svc-a', 'card', 'warning', 1000)`,
      [day],
    );
    await plantHour(hour);
    if (hour.getTime() < Math.floor(to.getTime() / DAY) * DAY) {
      await plantHour(new Date(Math.ceil(longFrom.getTime() / HOUR) * HOUR));
    }
    expect((await dashboard()).panels.cards.rows).toContainEqual(['warning', 7]);
    expect((await dashboard('', longFrom)).panels.cards.rows).toContainEqual(['warning', 1007]);
  });

  it('matches the database: counts exactly, latency percentiles within the 5% buckets', async () => {
    const d = await dashboard('&service=svc-a');
    const exact = await queryRows<{ calls: number; invalid: number; p50: number; p95: number; p99: number }>(
      h.db.url,
      `SELECT count(*)::int AS calls,
              count(*) FILTER (WHERE answer_detail->>'output' = 'not_json')::int AS invalid,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - received_at) * 1000) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - received_at) * 1000) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - received_at) * 1000) AS p99
         FROM hook_invocations WHERE service_id = 'svc-a' AND received_at >= $1 AND received_at < $2`,
      [from, to],
    );
    const e = exact[0]!;
    const latency = d.panels.latency.rows.find((r) => r[0] === 'hook answer')!;
    expect(latency[4]).toBe(e.calls);
    expect(d.panels.answers.rows.find((r) => r[0] === 'invalid')![1]).toBe(e.invalid);
    [e.p50, e.p95, e.p99].forEach((v, i) => expect(Math.abs(Number(latency[1 + i]) - v) / v).toBeLessThan(0.05));
    const shadow = d.panels.shadow.rows;
    const shadowDb = await queryRows<{ calls: number }>(
      h.db.url,
      `SELECT count(*)::int AS calls FROM hook_invocations
        WHERE service_id = 'svc-a' AND answer_detail->>'shadow' = 'true' AND received_at >= $1 AND received_at < $2`,
      [from, to],
    );
    expect(shadow).toEqual([['svc-a', shadowDb[0]!.calls, 2 * shadowDb[0]!.calls]]);

    const csv = await fetch(
      `${h.url}/compliance/dashboard/answers.csv?from=${from.toISOString()}&to=${to.toISOString()}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\r\n')[0]).toBe('outcome,count,unit');
    const bad = await fetch(`${h.url}/compliance/dashboard?from=yesterday`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
  });
});
