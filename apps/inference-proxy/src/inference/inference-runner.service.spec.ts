import type { AuditWriter } from '@app/audit';
import type { InferenceRequestV1 } from '@app/contracts';
import type { InferenceRepository } from '@app/database';
import type { ResultSignal } from '@app/messaging';
import type { ProxyMetrics } from '../metrics/proxy-metrics.service';
import { inferenceRequest } from '../testing/inference-request.fixture';
import type { AnswerSource } from './answer-source.service';
import type { InferenceRecord } from './inference-record';
import { InferenceRunner } from './inference-runner.service';
import { PrioritySlots } from './priority-slots.service';
import type { ResultBatchWriter } from './result-batch-writer.service';

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
    expect(announce).toHaveBeenCalledWith(req.requestId);
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
