import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { batchInsert, type AuditWriter } from '@app/audit';
import type { InferenceRequestV1 } from '@app/contracts';
import { createDataSource, InferenceRepository, runMigrations, type InferenceResultEntity } from '@app/database';
import { InProcessBus, type ResultSignal } from '@app/messaging';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/postgres';
import type { ProxyMetrics } from '../metrics/proxy-metrics.service';
import { inferenceRequest } from '../testing/inference-request.fixture';
import type { AnswerSource } from './answer-source.service';
import { toStoredResult, type InferenceRecord } from './inference-record';
import { InferenceRunner } from './inference-runner.service';
import { PrioritySlots } from './priority-slots.service';
import { ResultBatchWriter } from './result-batch-writer.service';

/**
 * Who announces a stored result. Over Postgres NOTIFY the result store statement does it at commit (the
 * InferenceModule passes the signal's channel to the writer, and InferenceRepository's spec shows the statement
 * notifying only at commit), so the runner must not spend a second round trip on it; the in-process bus has no
 * channel, and the runner announces after the store.
 */
describe('InferenceRunner: the announcement of a stored result', () => {
  const request = (): InferenceRequestV1 => inferenceRequest();

  function runner(signal: ResultSignal, progress: 'open' | 'stored') {
    const order: string[] = [];
    const written: InferenceRecord[] = [];
    const inferences = { progress: async () => progress } as unknown as InferenceRepository;
    const answers = {
      answer: async () => ({
        completion: { text: '{"findings":[]}', tokensIn: 3, tokensOut: 2, backendId: 'vllm@a', attempts: 1 },
        servedFrom: 'backend',
      }),
    } as unknown as AnswerSource;
    const writer = {
      write: async (r: InferenceRecord) => {
        written.push(r);
        order.push('stored');
        return { ...toStoredResult(r), status: undefined, fromTheStore: true };
      },
    } as unknown as ResultBatchWriter;
    const audit = { record: async () => undefined } as unknown as AuditWriter;
    const metrics = { requestFinished: () => undefined, tokensUsed: () => undefined } as unknown as ProxyMetrics;
    const announce = jest.spyOn(signal, 'announce').mockImplementation(async () => {
      order.push('announced');
    });
    const run = new InferenceRunner(inferences, answers, new PrioritySlots(1), writer, audit, metrics, signal);
    return { run, announce, order, written };
  }

  const inProcess = (): ResultSignal => ({ announce: async () => undefined, subscribe: () => () => undefined });
  const overNotify = (): ResultSignal => ({ ...inProcess(), notifyChannel: 'meditron_results' });

  it('announces after the store when the signal has no channel (the in-process bus)', async () => {
    const { run, announce, order, written } = runner(inProcess(), 'open');
    const req = request();
    await run.handle({ request: req, headers: { correlationId: 'c', deadlineMs: Date.now() + 60_000, schema: 's' } });
    expect(written.map((r) => r.requestId)).toEqual([req.requestId]);
    // With what the writer's store returned, not the record it was handed.
    expect(announce).toHaveBeenCalledWith(req.requestId, expect.objectContaining({ fromTheStore: true }));
    expect(order).toEqual(['stored', 'announced']);
  });

  it('leaves the announcement to the store statement over Postgres NOTIFY: no second round trip', async () => {
    const { run, announce, order, written } = runner(overNotify(), 'open');
    const req = request();
    await run.handle({ request: req, headers: { correlationId: 'c', deadlineMs: Date.now() + 60_000, schema: 's' } });
    expect(written.map((r) => r.requestId)).toEqual([req.requestId]);
    expect(announce).not.toHaveBeenCalled();
    expect(order).toEqual(['stored']);
  });

  it('still announces a redelivered request whose result was stored before (no store statement runs)', async () => {
    const { run, announce, written } = runner(overNotify(), 'stored');
    const req = request();
    await run.handle({ request: req, headers: { correlationId: 'c', deadlineMs: Date.now() + 60_000, schema: 's' } });
    expect(written).toEqual([]);
    expect(announce).toHaveBeenCalledWith(req.requestId);
  });
});

/**
 * The in-process reply path on a real Postgres: the runner hands the bus the row its own store returned (RETURNING),
 * so cds-hooks' waiter needs no read; when its store lost to an earlier one, the id alone.
 */
describe('InferenceRunner: the stored row with its announcement (in-process bus, real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: InferenceRepository;

  beforeAll(async () => {
    db = await createTestDatabase('runner_signal');
    await runMigrations(db.url);
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    repo = new InferenceRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** An open request on record, as cds-hooks leaves it. */
  async function openRequest(req: InferenceRequestV1): Promise<void> {
    const invocation = randomUUID();
    await ds.query(
      `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, status, received_at)
       VALUES ($1, $2, 'patient-view', 's', $3, 'received', now())`,
      [invocation, req.hookInstance, randomUUID()],
    );
    await ds.query(
      `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority,
         status, deadline_at, created_at)
       VALUES ($1, $2, $3, $4, $5, 4, 'queued', now() + interval '1 minute', now())`,
      [req.requestId, invocation, req.model, req.templateVersion, req.promptHash],
    );
  }

  function runner(bus: InProcessBus) {
    const writer = new ResultBatchWriter(
      { capacity: 10, batchSize: 10, flushMs: 0, concurrency: 1 },
      { store: (batch, events) => repo.storeResults(batch.map(toStoredResult), (n) => batchInsert(events, n)) },
    );
    const answers = {
      answer: async () => ({
        completion: { text: '{"findings":[]}', tokensIn: 3, tokensOut: 2, backendId: 'vllm@a', attempts: 1 },
        servedFrom: 'backend',
      }),
    } as unknown as AnswerSource;
    const audit = { record: async () => undefined } as unknown as AuditWriter;
    const metrics = { requestFinished: () => undefined, tokensUsed: () => undefined } as unknown as ProxyMetrics;
    return new InferenceRunner(repo, answers, new PrioritySlots(1), writer, audit, metrics, bus);
  }

  function listen(bus: InProcessBus): Array<[string, InferenceResultEntity | undefined]> {
    const heard: Array<[string, InferenceResultEntity | undefined]> = [];
    bus.subscribe((id, stored) => heard.push([id, stored]));
    return heard;
  }

  const headers = () => ({ correlationId: 'c', deadlineMs: Date.now() + 60_000, schema: 's' });

  it('announces a fresh result with its row exactly as stored', async () => {
    const bus = new InProcessBus();
    const heard = listen(bus);
    const req = inferenceRequest();
    await openRequest(req);
    await runner(bus).handle({ request: req, headers: headers() });
    const [stored] = await repo.resultsOf([req.requestId]);
    expect(stored).toBeDefined();
    expect(heard).toEqual([[req.requestId, stored]]);
  });

  it('announces the id alone when a row for the request was stored first (the first write wins)', async () => {
    const bus = new InProcessBus();
    const heard = listen(bus);
    const req = inferenceRequest();
    await openRequest(req);
    // Another replica stored its answer between this one's progress check and its store.
    await repo.storeResults([
      {
        requestId: req.requestId,
        status: 'completed',
        outcome: 'ok',
        backend: 'vllm@b',
        outputText: 'the first answer',
        errorCode: null,
        tokensIn: 1,
        tokensOut: 1,
        latencyMs: 1,
        completedAt: new Date(),
        hookInstance: req.hookInstance,
        model: req.model,
        templateVersion: req.templateVersion,
        promptHash: req.promptHash,
        attempts: 1,
        servedFrom: 'backend',
      },
    ]);
    jest.spyOn(repo, 'progress').mockResolvedValueOnce('open');
    await runner(bus).handle({ request: req, headers: headers() });
    expect(heard).toEqual([[req.requestId, undefined]]);
    expect((await repo.resultsOf([req.requestId]))[0]?.outputText).toBe('the first answer');
  });
});
