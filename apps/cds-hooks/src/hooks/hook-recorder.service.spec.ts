import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AuditRecord, AuditWriter } from '@app/audit';
import { createDataSource, HookInvocationRepository, runMigrations } from '@app/database';
import type { BuiltPrompt } from '@app/prompts';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import type { Card } from '../cards/card';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import type { CardAnswer } from './card-answer.service';
import type { PreparedHook } from './hook-preparation.service';
import { HookRecorder } from './hook-recorder.service';

/**
 * A call's record on real Postgres: its row, its answer, and its two audit events (`hook.invoked` through the audit
 * writer, a fake here, or with the answer; `hook.answered` with the answer, in the same statement).
 */
describe('HookRecorder', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let recorder: HookRecorder;
  const audited: AuditRecord[] = [];
  const service = ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE).find('meditron-patient-view')!;

  beforeAll(async () => {
    db = await createTestDatabase('hook_recorder');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    const audit = { record: async (e: AuditRecord) => void audited.push(e) } as unknown as AuditWriter;
    recorder = new HookRecorder(new HookInvocationRepository(ds), audit);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  function prepared(): PreparedHook {
    const receivedAt = new Date();
    return {
      call: {
        invocationId: randomUUID(),
        service,
        hook: { hookInstance: randomUUID(), hook: 'patient-view', context: {} },
        meta: { requestId: 'req-7', traceparent: undefined, clientId: 'ehr-1' },
        receivedAt,
        answerBy: receivedAt.getTime() + 3900,
      },
      patientRef: 'Patient/p9',
      prompt: {
        hash: 'f'.repeat(64),
        templateVersion: 't9',
        manifest: { promptTokens: 321, omitted: { conditions: 2, observations: 1 } },
      } as unknown as BuiltPrompt,
    } as PreparedHook;
  }

  const first = { requestId: randomUUID(), reused: 'none', result: async () => undefined } as const;

  async function storedCall(cards: Card[] = []): Promise<{ p: PreparedHook; answer: CardAnswer }> {
    const p = prepared();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, patient_ref, received_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received')`,
      Object.values(recorder.invocationOf(p)),
    );
    const answer: CardAnswer = {
      requestId: randomUUID(),
      result: undefined,
      cards,
      detail: { result: 'pending', output: 'valid' },
      suggestions: [],
    };
    // The answering inference is on record (cards name it).
    await ds.query(
      `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority, status, deadline_at, created_at)
       VALUES ($1, $2, 'm', 't9', $3, 1, 'queued', now(), now())`,
      [answer.requestId, p.call.invocationId, 'f'.repeat(64)],
    );
    return { p, answer };
  }

  const status = async (p: PreparedHook): Promise<string | undefined> =>
    (
      await queryRows<{ status: string }>(db.url, `SELECT status FROM hook_invocations WHERE id = $1`, [
        p.call.invocationId,
      ])
    )[0]?.status;

  const storedEvents = (p: PreparedHook): Promise<Array<{ action: string; detail: Record<string, unknown> }>> =>
    queryRows(db.url, `SELECT action, detail FROM audit_events WHERE hook_instance = $1 ORDER BY id`, [
      p.call.hook.hookInstance,
    ]);

  it('stores the call, audits it invoked and answered, and keeps its cards with the answer', async () => {
    const card = { uuid: randomUUID(), indicator: 'info', summary: 'Consider an eGFR' } as unknown as Card;
    const { p, answer } = await storedCall([card]);
    audited.length = 0;
    const committing = recorder.invoked(p, first);
    await recorder.answered(p, answer, { committing });

    const rows = await queryRows(db.url, `SELECT status, patient_ref, client_id FROM hook_invocations WHERE id = $1`, [
      p.call.invocationId,
    ]);
    expect(rows).toEqual([{ status: 'answered', patient_ref: 'Patient/p9', client_id: 'ehr-1' }]);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      action: 'hook.invoked',
      outcome: 'success',
      service: 'cds-hooks',
      clientId: 'ehr-1',
      patientRef: 'Patient/p9',
      requestId: 'req-7',
      hookInstance: p.call.hook.hookInstance,
      detail: { serviceId: service.id, reused: 'none', promptTokens: 321, factsLeftOut: 3, templateVersion: 't9' },
    });
    const events = await queryRows(
      db.url,
      `SELECT action, outcome, service, client_id, patient_ref, request_id, detail FROM audit_events WHERE hook_instance = $1`,
      [p.call.hook.hookInstance],
    );
    expect(events).toEqual([
      expect.objectContaining({
        action: 'hook.answered',
        outcome: 'success',
        service: 'cds-hooks',
        client_id: 'ehr-1',
        patient_ref: 'Patient/p9',
        request_id: 'req-7',
        detail: expect.objectContaining({
          inferenceRequestId: answer.requestId,
          resultOutcome: 'pending',
          cards: 1,
          cardIds: card.uuid,
        }),
      }),
    ]);
  });

  it("stores the answer and hook.answered only once the call's hook.invoked event has committed", async () => {
    const { p, answer } = await storedCall();
    let commit!: () => void;
    const committing = new Promise<void>((r) => (commit = r));
    const done = recorder.answered(p, answer, { committing });
    for (let i = 0; i < 20; i++) await new Promise(setImmediate);
    expect(await status(p)).toBe('received');
    commit();
    await done;
    expect(await status(p)).toBe('answered_empty');
    expect((await storedEvents(p)).map((e) => e.action)).toEqual(['hook.answered']);
  });

  it("stores nothing, and fails, when the call's hook.invoked event failed", async () => {
    const { p, answer } = await storedCall();
    const committing = Promise.reject(new Error('audit queue full'));
    await expect(recorder.answered(p, answer, { committing })).rejects.toThrow('audit queue full');
    expect(await status(p)).toBe('received');
    expect(await storedEvents(p)).toEqual([]);
  });

  it('commits hook.invoked, then hook.answered, with an answer that was at hand at once', async () => {
    const { p, answer } = await storedCall();
    audited.length = 0;
    await recorder.answered(p, answer, { withAnswer: { ...first, reused: 'result' } });
    expect(audited).toEqual([]);
    const events = await storedEvents(p);
    expect(events.map((e) => e.action)).toEqual(['hook.invoked', 'hook.answered']);
    expect(events[0]!.detail).toMatchObject({
      reused: 'result',
      promptTokens: 321,
      inferenceRequestId: first.requestId,
    });
  });
});
