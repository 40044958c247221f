import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { InferenceOutboxRepository } from './inference-outbox.repository';

/**
 * The dispatch's look-ups of recent requests for a prompt (`hook_start`, and `inference_queue` under its lock) must
 * seek the reuse index (prompt_hash, model, created_at) on the prompt's hash. Compared as text instead of char(64),
 * the hash cannot use the index: every request of the model in the window was scanned, 80-90 ms a call after ten
 * minutes at 50 hooks/s (issue 17's soak). Counted with Postgres's own per-transaction scan statistics, on a table
 * big enough (20,000 requests, analysed) that the planner would not pick the index for any other reason.
 */
describe('dispatch look-ups use the reuse index', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('reuse_index');
    await runMigrations(db.url);
    // One connection: BEGIN, the dispatch and the statistics read run in one transaction.
    ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    const invocation = randomUUID();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, received_at, status)
       VALUES ($1, $2, 'patient-view', 'meditron-patient-view', 'r', 'ehr-1', now(), 'answered')`,
      [invocation, randomUUID()],
    );
    await ds.query(
      `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority,
                                       status, deadline_at, created_at)
       SELECT gen_random_uuid(), $1, 'meditron-70b', 't1', md5(i::text) || md5((i + 1)::text), 1, 'completed',
              now() - make_interval(secs => i), now() - make_interval(secs => i)
         FROM generate_series(1, 20000) AS i`,
      [invocation],
    );
    await ds.query('ANALYZE inference_requests');
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('seeks the reuse index, and never scans inference_requests, for a fresh prompt', async () => {
    const outbox = new InferenceOutboxRepository(ds);
    const call = randomUUID();
    const since = new Date(Date.now() - 3_600_000);
    await ds.query('BEGIN');
    try {
      const dispatched = await outbox.start(
        {
          call: {
            id: call,
            hookInstance: randomUUID(),
            hook: 'patient-view',
            serviceId: 'meditron-patient-view',
            requestId: randomUUID(),
            clientId: 'ehr-1',
            patientRef: 'Patient/p1',
            receivedAt: new Date(),
          },
          reuseSince: since,
          reuseTake: 3,
          now: new Date(),
          request: {
            requestId: randomUUID(),
            hookInvocationId: call,
            model: 'meditron-70b',
            templateVersion: 't1',
            promptHash: 'f'.repeat(64),
            priority: 1,
            deadlineAt: new Date(Date.now() + 60_000),
            contextManifest: null,
            createdAt: new Date(),
          },
          message: { m: 1 },
          firstRelayAt: new Date(),
          joinSince: since,
        },
        Date.now() + 2_000,
      );
      expect(dispatched).toEqual({ kind: 'created' });
      const [scans] = (await ds.query(
        `SELECT pg_stat_get_xact_numscans('inference_requests'::regclass)::int AS table_scans,
                pg_stat_get_xact_numscans('ix_inference_requests_reuse'::regclass)::int AS reuse_index_scans`,
      )) as Array<{ table_scans: number; reuse_index_scans: number }>;
      // hook_start's candidates, then inference_queue's look-up under the lock: both on the index, no table scan.
      expect(scans).toEqual({ table_scans: 0, reuse_index_scans: 2 });
    } finally {
      await ds.query('ROLLBACK');
    }
  });
});
