import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, queryRows, type TestDatabase } from '../../../../test/support/postgres';
import { createDataSource, runMigrations } from '../data-source';
import { HookInvocationRepository, type NewHookInvocation } from './hook-invocation.repository';
import { InferenceResultEntity } from '../entities/inference-result.entity';
import { InferenceOutboxRepository, type HookStart } from './inference-outbox.repository';
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

  /** A dispatch of `inv`'s prompt `hash` as the starter makes it: reuse and join windows of a minute. */
  function dispatch(
    inv: NewHookInvocation,
    hash: string,
    o: { store?: boolean; req?: NewInferenceRequest; fresh?: boolean } = {},
  ): HookStart {
    const since = o.fresh === false ? null : new Date(Date.now() - 60_000);
    return {
      call: o.store === false ? null : inv,
      reuseSince: since,
      reuseTake: 3,
      now: inv.receivedAt,
      request: o.req ?? request(inv.id, hash),
      message: { m: 1 },
      firstRelayAt: new Date(),
      joinSince: since,
    };
  }

  it('stores the call and queues its request in one statement; a retry after a lost acknowledgement is the same', async () => {
    const hash = 'a'.repeat(64);
    const first = invocation();
    const start = dispatch(first, hash);
    expect(await outbox.start(start, until())).toEqual({ kind: 'created' });
    const [row] = await queryRows<{ status: string; patient_ref: string; n: string }>(
      db.url,
      `SELECT status, patient_ref, (SELECT count(*) FROM inference_outbox WHERE request_id = $2) AS n
         FROM hook_invocations WHERE id = $1`,
      [first.id, start.request.requestId],
    );
    expect(row).toEqual({ status: 'received', patient_ref: 'Patient/p1', n: '1' });
    // The same statement again (its commit's answer lost): nothing stored twice, its own request counts as created.
    await expect(outbox.start(start, until())).resolves.toEqual({ kind: 'created' });
    await expect(invocations.received(first, until())).resolves.toBeUndefined();
  });

  it('serves the newest good result; waits for a running request; passes over a failed or expired one', async () => {
    const hash = '1'.repeat(64);
    const inv = invocation();
    const failed = dispatch(inv, hash);
    expect(await outbox.start(failed, until())).toEqual({ kind: 'created' });
    await inferences.storeResults([result(failed.request.requestId, 'error')]);
    // Only a failed request on record: a new one is queued.
    expect(await outbox.start(dispatch(invocation(), hash), until())).toEqual({ kind: 'created' });

    const hash2 = '2'.repeat(64);
    // Past its deadline for every call below, `inv`'s too (received first): a deadline of "now − 1 ms" was later than
    // inv.receivedAt, so when it and the next request shared a created_at millisecond (ORDER BY created_at ties in
    // any order) the call below with `inv` found it still running and waited for it.
    const expired = dispatch(invocation(), hash2, {
      req: { ...request(inv.id, hash2), deadlineAt: new Date(inv.receivedAt.getTime() - 1) },
    });
    expect(await outbox.start(expired, until())).toEqual({ kind: 'created' });
    const running = dispatch(invocation(), hash2);
    // Past its deadline: not waited for, a new request queued.
    expect(await outbox.start(running, until())).toEqual({ kind: 'created' });
    const waiting = await outbox.start(dispatch(invocation(), hash2), until());
    expect(waiting).toMatchObject({ kind: 'pending', requestId: running.request.requestId });
    await inferences.storeResults([result(running.request.requestId, 'ok')]);
    const served = await outbox.start(dispatch(invocation(), hash2), until());
    expect(served).toMatchObject({ kind: 'result', requestId: running.request.requestId });
    const stored = await inferences.resultsOf([running.request.requestId]);
    expect(served.kind === 'result' && served.result).toEqual(stored[0]);
    expect(served.kind === 'result' && served.result.completedAt).toBeInstanceOf(Date);

    // Without a call to store (a prewarm, a repair), the same answer; with reuse off, a new request.
    expect(await outbox.start(dispatch(inv, hash2, { store: false }), until())).toMatchObject({ kind: 'result' });
    expect(await outbox.start(dispatch(inv, hash2, { store: false, fresh: false }), until())).toEqual({
      kind: 'created',
    });
  });

  it('lets exactly one of several identical concurrent dispatches queue the request; the others share it', async () => {
    const hash = '3'.repeat(64);
    // Separate connections (the spec's pool has two), so the calls really race for the per-prompt lock.
    const racers = createDataSource({ url: db.url, poolSize: 6 });
    await racers.initialize();
    try {
      const racing = new InferenceOutboxRepository(racers);
      const starts = Array.from({ length: 6 }, () => dispatch(invocation(), hash));
      const outcomes = await Promise.all(starts.map((s) => racing.start(s, until())));
      const created = starts.filter((_, i) => outcomes[i]!.kind === 'created');
      expect(created).toHaveLength(1);
      for (const o of outcomes) {
        if (o.kind !== 'created') expect(o).toMatchObject({ requestId: created[0]!.request.requestId });
      }
      const stored = await ds.query(`SELECT count(*)::int AS n FROM inference_requests WHERE prompt_hash = $1`, [hash]);
      expect(stored).toEqual([{ n: 1 }]);
      const calls = await ds.query(`SELECT count(*)::int AS n FROM hook_invocations WHERE id = ANY($1::uuid[])`, [
        starts.map((s) => s.call!.id),
      ]);
      expect(calls).toEqual([{ n: 6 }]);
    } finally {
      await racers.destroy();
    }
  });

  it('interlocks with replicas still running the two-statement path (queue()): one request between them', async () => {
    const hash = '4'.repeat(64);
    const racers = createDataSource({ url: db.url, poolSize: 6 });
    await racers.initialize();
    try {
      const racing = new InferenceOutboxRepository(racers);
      const starts = Array.from({ length: 6 }, () => dispatch(invocation(), hash));
      // The old path stores its call's row in a statement of its own first.
      for (const s of starts.slice(3)) await invocations.received(s.call!, until());
      const outcomes = await Promise.all(
        starts.map(async (s, i) =>
          i < 3
            ? (await racing.start(s, until())).kind === 'created'
            : (await racing.queue(s.request, s.message, s.firstRelayAt, s.joinSince, until())).created,
        ),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const stored = await ds.query(`SELECT count(*)::int AS n FROM inference_requests WHERE prompt_hash = $1`, [hash]);
      expect(stored).toEqual([{ n: 1 }]);
    } finally {
      await racers.destroy();
    }
  });

  it('stores a result batch and its request statuses in one statement; a redelivered result and its status are left as they were', async () => {
    const inv = invocation();
    await invocations.received(inv, until());
    const req = request(inv.id, 'b'.repeat(64));
    expect(await outbox.queue(req, { m: 1 }, new Date(), null, until())).toEqual({ created: true });
    await inferences.storeResults([result(req.requestId, 'ok')]);
    // As the outbox relay records a request it could not publish in time, after the result was stored after all.
    await inferences.storeResults([{ ...result(req.requestId, 'error'), status: 'expired' }]);
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
