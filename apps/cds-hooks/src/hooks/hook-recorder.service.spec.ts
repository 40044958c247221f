import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AuditWriter, type AuditAdmission, type AuditRecord } from '@app/audit';
import { createDataSource, HookInvocationRepository, runMigrations } from '@app/database';
import type { BuiltPrompt } from '@app/prompts';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import type { Card } from '../cards/card';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import type { CardAnswer } from './card-answer.service';
import type { PreparedHook } from './hook-preparation.service';
import { HookRecorder } from './hook-recorder.service';

/** A call's record: its row (real Postgres), its answer and its two audit events (the writer's input). */
describe('HookRecorder', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let recorder: HookRecorder;
  const audited: AuditRecord[] = [];
  /** What the fake writer's admitted groups become durable with (a test may hold it), and a refusal to answer. */
  let durable: Promise<void> = Promise.resolve();
  let refuse: Error | undefined;

  /** Each admitted group's options (`linger`, `after`), beside `audited`. */
  const admitted: Array<{ linger?: boolean; after?: AuditAdmission }> = [];

  /** The writer's input: `record` and `admit` (a group admitted at once; `durable` as the test sets it). */
  function fakeAudit(): AuditWriter {
    return {
      record: async (e: AuditRecord) => void audited.push(e),
      admit: async (events: AuditRecord[], opts: { linger?: boolean; after?: AuditAdmission } = {}) => {
        if (refuse) throw refuse;
        audited.push(...events);
        admitted.push(opts);
        return { durable };
      },
    } as unknown as AuditWriter;
  }
  const service = ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE).find('meditron-patient-view')!;

  beforeAll(async () => {
    db = await createTestDatabase('hook_recorder');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    recorder = new HookRecorder(new HookInvocationRepository(ds), fakeAudit());
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

  it('stores the call, audits it invoked and answered, and keeps its cards with the answer', async () => {
    const p = prepared();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, patient_ref, received_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received')`,
      Object.values(recorder.invocationOf(p)),
    );
    const invoked = await recorder.invoked(p, {
      requestId: randomUUID(),
      reused: 'none',
      result: async () => undefined,
    });
    const card = { uuid: randomUUID(), indicator: 'info', summary: 'Consider an eGFR' } as unknown as Card;
    const answer: CardAnswer = {
      requestId: randomUUID(),
      result: undefined,
      cards: [card],
      detail: { result: 'pending', output: 'valid' },
      suggestions: [],
    };
    // The answering inference is on record (cards name it).
    await ds.query(
      `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority, status, deadline_at, created_at)
       VALUES ($1, $2, 'm', 't9', $3, 1, 'queued', now(), now())`,
      [answer.requestId, p.call.invocationId, 'f'.repeat(64)],
    );
    await recorder.answered(p, answer, invoked);

    const rows = await queryRows(db.url, `SELECT status, patient_ref, client_id FROM hook_invocations WHERE id = $1`, [
      p.call.invocationId,
    ]);
    expect(rows).toEqual([{ status: 'answered', patient_ref: 'Patient/p9', client_id: 'ehr-1' }]);
    expect(audited.map((e) => e.action)).toEqual(['hook.invoked', 'hook.answered']);
    // hook.invoked lingers for company; hook.answered is admitted after it.
    expect(admitted.slice(-2)).toEqual([{ linger: true }, { after: invoked }]);
    expect(audited[0]).toMatchObject({
      outcome: 'success',
      service: 'cds-hooks',
      clientId: 'ehr-1',
      patientRef: 'Patient/p9',
      requestId: 'req-7',
      hookInstance: p.call.hook.hookInstance,
      detail: { serviceId: service.id, reused: 'none', promptTokens: 321, factsLeftOut: 3, templateVersion: 't9' },
    });
    expect(audited[1]).toMatchObject({
      detail: { inferenceRequestId: answer.requestId, resultOutcome: 'pending', cards: 1, cardIds: card.uuid },
    });
  });

  async function storedCall(): Promise<{ p: PreparedHook; answer: CardAnswer }> {
    const p = prepared();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, client_id, patient_ref, received_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received')`,
      Object.values(recorder.invocationOf(p)),
    );
    const answer: CardAnswer = {
      requestId: randomUUID(),
      result: undefined,
      cards: [],
      detail: { result: 'pending' },
      suggestions: [],
    };
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

  /** A real writer on the test database: one INSERT or two, and what the trail holds. */
  function realAudit(lingerMs: number): AuditWriter {
    const spoolDir = mkdtempSync(path.join(tmpdir(), 'hook-recorder-spool-'));
    return new AuditWriter(ds, { lingerMs, maxDelayMs: 0, maxWaitMs: 0, spoolDir });
  }
  const trail = async (p: PreparedHook): Promise<string[]> =>
    (
      await queryRows<{ action: string }>(
        db.url,
        `SELECT action FROM audit_events WHERE hook_instance = $1 ORDER BY id`,
        [p.call.hook.hookInstance],
      )
    ).map((r) => r.action);
  const started = (requestId: string) => ({ requestId, reused: 'none' as const, result: async () => undefined });
  /** A NUL in hook.invoked's detail: jsonb refuses that row (22P05), and only that row. */
  const withBadTemplate = (p: PreparedHook): PreparedHook =>
    ({ ...p, prompt: { ...p.prompt, templateVersion: 'v\u0000' } }) as PreparedHook;

  it("writes a quick answer's hook.answered in the INSERT of its hook.invoked, after it, beside the cards row", async () => {
    const audit = realAudit(60_000);
    const r = new HookRecorder(new HookInvocationRepository(ds), audit);
    const { p, answer } = await storedCall();
    const invoked = await r.invoked(p, started(answer.requestId));
    expect(await trail(p)).toEqual([]);
    await r.answered(p, answer, invoked);
    expect(audit.stats).toMatchObject({ batches: 1, rows: 2 });
    expect(await trail(p)).toEqual(['hook.invoked', 'hook.answered']);
    expect(await status(p)).toBe('answered_empty');
    await audit.close();
  });

  it('has a slow answer find hook.invoked written alone when its linger ended, and writes hook.answered after it', async () => {
    const audit = realAudit(5);
    const r = new HookRecorder(new HookInvocationRepository(ds), audit);
    const { p, answer } = await storedCall();
    const invoked = await r.invoked(p, started(answer.requestId));
    await invoked.durable; // the model is slow: the linger ends first
    expect(await trail(p)).toEqual(['hook.invoked']);
    await r.answered(p, answer, invoked);
    expect(audit.stats).toMatchObject({ batches: 2, rows: 2 });
    expect(await trail(p)).toEqual(['hook.invoked', 'hook.answered']);
    await audit.close();
  });

  it("stores nothing and records no hook.answered, failing, when the call's hook.invoked was refused before", async () => {
    const audit = realAudit(60_000);
    const r = new HookRecorder(new HookInvocationRepository(ds), audit);
    const { p, answer } = await storedCall();
    const invoked = await r.invoked(withBadTemplate(p), started(answer.requestId));
    await expect(r.invokedNow(invoked)).rejects.toMatchObject({ code: '22P05' });
    await expect(r.answered(p, answer, invoked)).rejects.toMatchObject({ code: '22P05' });
    expect(await status(p)).toBe('received');
    expect(await trail(p)).toEqual([]);
    await audit.close();
  });

  it('refuses hook.answered with its hook.invoked when the database refuses hook.invoked in their INSERT', async () => {
    const audit = realAudit(60_000);
    const r = new HookRecorder(new HookInvocationRepository(ds), audit);
    const { p, answer } = await storedCall();
    const invoked = await r.invoked(withBadTemplate(p), started(answer.requestId));
    await expect(r.answered(p, answer, invoked)).rejects.toMatchObject({ code: '22P05' });
    // Neither event is on the trail (the cards row, written beside them, may be: the call failed all the same).
    expect(await trail(p)).toEqual([]);
    await audit.close();
  });

  it('records hook.invoked with hook.answered, as one group, for an answer at hand at once (a stored result)', async () => {
    const { p, answer } = await storedCall();
    audited.length = 0;
    const first = { requestId: answer.requestId, reused: 'result' as const, result: async () => undefined };
    await recorder.answered(p, answer, { withAnswer: first });
    expect(await status(p)).toBe('answered_empty');
    expect(audited.map((e) => e.action)).toEqual(['hook.invoked', 'hook.answered']);
    expect(audited[0]).toMatchObject({ detail: { reused: 'result', inferenceRequestId: answer.requestId } });
  });

  it('stores nothing and fails when the audit queue refuses the answer (no call on record as answered)', async () => {
    const { p, answer } = await storedCall();
    audited.length = 0;
    refuse = new Error('audit queue full');
    try {
      await expect(recorder.answered(p, answer)).rejects.toThrow('audit queue full');
    } finally {
      refuse = undefined;
    }
    expect(await status(p)).toBe('received');
    expect(audited).toEqual([]);
  });

  it('writes the row while the events are being made durable, and resolves only once both are', async () => {
    const { p, answer } = await storedCall();
    audited.length = 0;
    let commit!: () => void;
    durable = new Promise<void>((r) => (commit = r));
    try {
      let done = false;
      const storing = recorder.answered(p, answer).then(() => (done = true));
      const deadline = Date.now() + 5000;
      while ((await status(p)) !== 'answered_empty' && Date.now() < deadline) await new Promise(setImmediate);
      // The row committed without waiting for the audit commit; the call is not answered before both are durable.
      expect(await status(p)).toBe('answered_empty');
      expect(audited.map((e) => e.action)).toEqual(['hook.answered']);
      for (let i = 0; i < 10; i++) await new Promise(setImmediate);
      expect(done).toBe(false);
      commit();
      await storing;
      expect(done).toBe(true);
    } finally {
      durable = Promise.resolve();
    }
  });

  it('records hook.failed after hook.answered, and fails, when the answer cannot be stored', async () => {
    const failing = { answered: async () => Promise.reject(new Error('connection terminated')) };
    const events: AuditRecord[] = [];
    const audit = {
      record: async (e: AuditRecord) => void events.push(e),
      admit: async (group: AuditRecord[]) => {
        events.push(...group);
        return { durable: Promise.resolve() };
      },
    } as unknown as AuditWriter;
    const r = new HookRecorder(failing as unknown as HookInvocationRepository, audit);
    const { p, answer } = await storedCall();
    await expect(r.answered(p, answer)).rejects.toThrow('connection terminated');
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['hook.answered', 'success'],
      ['hook.failed', 'failure'],
    ]);
    expect(events[1]).toMatchObject({ detail: { stage: 'store_answer', error: 'Error' } });
  });
});
