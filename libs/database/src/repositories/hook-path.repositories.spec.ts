import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { HookInvocationRepository, type NewHookInvocation } from './hook-invocation.repository';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import { InferenceOutboxRepository } from './inference-outbox.repository';
import { InferenceRepository, type NewInferenceRequest, type StoredResult } from './inference.repository';

/** The hook path's writes (issue 17: one statement where there were several) against Postgres and its constraints. */
describe('hook path repositories on Postgres', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let invocations: HookInvocationRepository;
  let outbox: InferenceOutboxRepository;
  let inferences: InferenceRepository;
  const until = () => Date.now() + 2000;

  beforeAll(async () => {
    db = await createTestDatabase('hook_path_repos');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    invocations = new HookInvocationRepository(ds);
    outbox = new InferenceOutboxRepository(ds);
    inferences = new InferenceRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  function invocation(): NewHookInvocation {
    return {
      id: randomUUID(),
      hookInstance: randomUUID(),
      hook: 'patient-view',
      serviceId: 'meditron-patient-view',
      requestId: randomUUID(),
      clientId: 'ehr-1',
      patientRef: 'Patient/p1',
      receivedAt: new Date(),
    };
  }

  function request(invocationId: string, promptHash: string): NewInferenceRequest {
    return {
      requestId: randomUUID(),
      hookInvocationId: invocationId,
      model: 'meditron-70b',
      templateVersion: 't1',
      promptHash,
      priority: 1,
      deadlineAt: new Date(Date.now() + 60_000),
      contextManifest: { promptTokens: 12 },
      createdAt: new Date(),
    };
  }

  function result(requestId: string, outcome: 'ok' | 'error'): StoredResult {
    return {
      requestId,
      status: outcome === 'ok' ? 'completed' : 'failed',
      outcome,
      backend: 'vllm@a',
      outputText: outcome === 'ok' ? '{"findings":[]}' : null,
      errorCode: outcome === 'ok' ? null : 'backend_error',
      tokensIn: 12,
      tokensOut: 3,
      latencyMs: 7,
      completedAt: new Date(),
      hookInstance: randomUUID(),
      model: 'meditron-70b',
      templateVersion: 't1',
      promptHash: 'h',
      attempts: 1,
      servedFrom: null,
    };
  }

  const lookup = (promptHash: string) => ({
    model: 'meditron-70b',
    promptHash,
    templateVersion: 't1',
    since: new Date(Date.now() - 60_000),
    take: 3,
  });

  it('stores the call and reads the candidates for its prompt in one statement, a good result joined', async () => {
    const hash = 'a'.repeat(64);
    const first = invocation();
    expect(await invocations.receivedWithCandidates(first, lookup(hash), until())).toEqual([]);
    const [row] = await queryRows<{ status: string; patient_ref: string }>(
      db.url,
      `SELECT status, patient_ref FROM hook_invocations WHERE id = $1`,
      [first.id],
    );
    expect(row).toEqual({ status: 'received', patient_ref: 'Patient/p1' });
    // A retry after a commit whose answer was lost stores nothing twice and does not fail.
    await expect(invocations.receivedWithCandidates(first, lookup(hash), until())).resolves.toEqual([]);
    await expect(invocations.received(first, until())).resolves.toBeUndefined();

    const failed = request(first.id, hash);
    await outbox.queue(failed, { m: 1 }, new Date(), null, until());
    await inferences.storeResults([result(failed.requestId, 'error')]);
    const good = request(first.id, hash);
    await outbox.queue(good, { m: 2 }, new Date(), null, until());
    await inferences.storeResults([result(good.requestId, 'ok')]);

    const candidates = await invocations.receivedWithCandidates(invocation(), lookup(hash), until());
    expect(candidates.map((c) => [c.requestId, c.status, c.result?.outcome ?? null])).toEqual([
      [good.requestId, 'completed', 'ok'],
    ]);
    expect(candidates[0]!.result).toMatchObject({ outputText: '{"findings":[]}', tokensIn: 12, latencyMs: 7 });
    expect(candidates[0]!.result!.completedAt).toBeInstanceOf(Date);
    // Without a call to store (prewarm, repair), the same read.
    expect((await inferences.reuseCandidates(lookup(hash), until())).map((c) => c.requestId)).toEqual([good.requestId]);
  });

  it('stores a result batch and its request statuses in one statement; a redelivered result is left as it was', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, 'b'.repeat(64));
    expect(await outbox.queue(req, { m: 1 }, new Date(), null, until())).toEqual({ created: true });
    await inferences.storeResults([result(req.requestId, 'ok')]);
    await inferences.storeResults([{ ...result(req.requestId, 'error'), status: 'completed' }]);
    const rows = await queryRows<{ outcome: string; status: string; outbox: string }>(
      db.url,
      `SELECT res.outcome, req.status, (SELECT count(*) FROM inference_outbox o WHERE o.request_id = req.request_id) AS outbox
         FROM inference_results res JOIN inference_requests req USING (request_id) WHERE request_id = $1`,
      [req.requestId],
    );
    expect(rows).toEqual([{ outcome: 'ok', status: 'completed', outbox: '1' }]);
    const backlog = await outbox.backlog();
    await outbox.removeAll([req.requestId]);
    expect(await outbox.backlog()).toBe(backlog - 1);
  });

  it('reads stored results by request id as the entity reads them (plain SQL, every column)', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, '7'.repeat(64));
    await outbox.queue(req, { m: 1 }, new Date(), null, until());
    await inferences.storeResults([{ ...result(req.requestId, 'ok'), promptHash: '7'.repeat(64) }]);
    const read = await inferences.resultsOf([req.requestId, randomUUID()]);
    const viaEntity = await ds.getRepository(InferenceResultEntity).findBy({ requestId: req.requestId });
    expect(read).toEqual(viaEntity.map((e) => ({ ...e })));
    expect(read[0]!.completedAt).toBeInstanceOf(Date);
    expect(await inferences.resultsOf([])).toEqual([]);
  });

  it('joins a live request for the same prompt instead of queueing a second', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const hash = 'c'.repeat(64);
    const first = request(inv.id, hash);
    const since = new Date(Date.now() - 60_000);
    expect(await outbox.queue(first, { m: 1 }, new Date(), since, until())).toEqual({ created: true });
    const second = await outbox.queue(request(inv.id, hash), { m: 2 }, new Date(), since, until());
    expect(second).toMatchObject({ created: false, requestId: first.requestId });
  });

  it('lets exactly one of several identical concurrent calls queue the request; the others join it', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const hash = 'e'.repeat(64);
    const since = new Date(Date.now() - 60_000);
    // Separate connections (the spec's pool has two), so the calls really race for the per-prompt lock.
    const racers = createDataSource({ url: db.url, poolSize: 6 });
    await racers.initialize();
    try {
      const racing = new InferenceOutboxRepository(racers);
      const reqs = Array.from({ length: 6 }, () => request(inv.id, hash));
      const outcomes = await Promise.all(reqs.map((r) => racing.queue(r, { m: 1 }, new Date(), since, until())));
      const created = reqs.filter((_, i) => outcomes[i]!.created);
      expect(created).toHaveLength(1);
      for (const o of outcomes) if (!o.created) expect(o.requestId).toBe(created[0]!.requestId);
      const stored = await ds.query(`SELECT count(*)::int AS n FROM inference_requests WHERE prompt_hash = $1`, [hash]);
      expect(stored).toEqual([{ n: 1 }]);
    } finally {
      await racers.destroy();
    }
  });

  it('counts its own request as created when the same queue() statement is run again', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, '9'.repeat(64));
    const since = new Date(Date.now() - 60_000);
    expect(await outbox.queue(req, { m: 1 }, new Date(), since, until())).toEqual({ created: true });
    // As after a commit whose acknowledgement was lost: the retry finds the request it stored itself.
    expect(await outbox.queue(req, { m: 1 }, new Date(), since, until())).toEqual({ created: true });
  });

  it('stores the answer (cards, suggestions, outcome) in one statement', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, 'd'.repeat(64));
    await outbox.queue(req, { m: 1 }, new Date(), null, until());
    const cardUuid = randomUUID();
    await invocations.answered({
      invocationId: inv.id,
      inferenceRequestId: req.requestId,
      serviceId: inv.serviceId,
      cards: [{ uuid: cardUuid, indicator: 'warning', content: { uuid: cardUuid, summary: 'Check renal function' } }],
      suggestions: [{ uuid: randomUUID(), cardUuid, kind: 'order-lab', code: 'http://loinc.org|33914-3' }],
      detail: { output: 'valid' },
    });
    const [call] = await queryRows<Record<string, unknown>>(
      db.url,
      `SELECT status, cards_returned, inference_request_id, answer_detail, answered_at IS NOT NULL AS answered
         FROM hook_invocations WHERE id = $1`,
      [inv.id],
    );
    expect(call).toEqual({
      status: 'answered',
      cards_returned: 1,
      inference_request_id: req.requestId,
      answer_detail: { output: 'valid' },
      answered: true,
    });
    const cards = await queryRows(db.url, `SELECT indicator, content, service_id FROM cds_cards WHERE uuid = $1`, [
      cardUuid,
    ]);
    expect(cards).toEqual([
      {
        indicator: 'warning',
        content: { uuid: cardUuid, summary: 'Check renal function' },
        service_id: 'meditron-patient-view',
      },
    ]);
    const suggestions = await queryRows(db.url, `SELECT kind, code FROM cds_card_suggestions WHERE card_uuid = $1`, [
      cardUuid,
    ]);
    expect(suggestions).toEqual([{ kind: 'order-lab', code: 'http://loinc.org|33914-3' }]);
  });

  it('stores an empty answer as answered_empty, and a suggestion naming no stored card is refused whole', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, 'e'.repeat(64));
    await outbox.queue(req, { m: 1 }, new Date(), null, until());
    await expect(
      invocations.answered({
        invocationId: inv.id,
        inferenceRequestId: req.requestId,
        serviceId: inv.serviceId,
        cards: [],
        suggestions: [{ uuid: randomUUID(), cardUuid: randomUUID(), kind: 'remove-draft', code: null }],
        detail: {},
      }),
    ).rejects.toThrow(/foreign key/);
    const before = await queryRows(db.url, `SELECT status FROM hook_invocations WHERE id = $1`, [inv.id]);
    expect(before).toEqual([{ status: 'received' }]);
    await invocations.answered({
      invocationId: inv.id,
      inferenceRequestId: req.requestId,
      serviceId: inv.serviceId,
      cards: [],
      detail: {},
    });
    const after = await queryRows(db.url, `SELECT status, cards_returned FROM hook_invocations WHERE id = $1`, [
      inv.id,
    ]);
    expect(after).toEqual([{ status: 'answered_empty', cards_returned: 0 }]);
  });
});
