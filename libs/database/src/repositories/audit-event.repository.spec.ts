import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { AuditEventRepository } from './audit-event.repository';

/** A hook call's trail as the card provenance view reads it, on Postgres with the chain trigger. */
describe('AuditEventRepository.byHookInstance', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let events: AuditEventRepository;

  beforeAll(async () => {
    db = await createTestDatabase('audit_event_repo');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    events = new AuditEventRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** One INSERT (one chain position per row, in VALUES order), as the audit writer's batch. */
  async function insert(hookInstance: string, rows: ReadonlyArray<{ action: string; at: Date }>): Promise<void> {
    const params: unknown[] = [];
    const tuples = rows.map((r) => {
      params.push(randomUUID(), r.at, r.action, hookInstance);
      const n = params.length;
      return `($${n - 3}::uuid, $${n - 2}, $${n - 1}, 'success', 'cds-hooks', $${n}::uuid, '{}'::jsonb)`;
    });
    await ds.query(
      `INSERT INTO audit_events (event_id, recorded_at, action, outcome, service, hook_instance, detail)
       VALUES ${tuples.join(', ')}`,
      params,
    );
  }

  it('lists a call in the order its events happened, though hook.invoked committed after inference.completed', async () => {
    const hookInstance = randomUUID();
    const t0 = Date.now();
    // The proxy's event commits first; cds-hooks' invoked and answered commit together after it (audit linger).
    await insert(hookInstance, [{ action: 'inference.completed', at: new Date(t0 + 5) }]);
    await insert(hookInstance, [
      { action: 'hook.invoked', at: new Date(t0) },
      { action: 'hook.answered', at: new Date(t0 + 9) },
    ]);
    await insert(randomUUID(), [{ action: 'hook.invoked', at: new Date(t0 + 1) }]);
    const trail = await events.byHookInstance(hookInstance, 10);
    expect(trail.map((e) => e.action)).toEqual(['hook.invoked', 'inference.completed', 'hook.answered']);
    // Chain positions say the commit order, which the view does not follow.
    expect(trail.map((e) => Number(e.id))).toEqual([2, 1, 3]);
  });

  it('keeps chain order between events of the same time, and stops at max', async () => {
    const hookInstance = randomUUID();
    const at = new Date();
    await insert(hookInstance, [
      { action: 'hook.invoked', at },
      { action: 'fhir.search', at },
      { action: 'hook.answered', at },
    ]);
    expect((await events.byHookInstance(hookInstance, 10)).map((e) => e.action)).toEqual([
      'hook.invoked',
      'fhir.search',
      'hook.answered',
    ]);
    expect((await events.byHookInstance(hookInstance, 2)).map((e) => e.action)).toEqual([
      'hook.invoked',
      'fhir.search',
    ]);
  });
});
