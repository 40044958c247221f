import { Writable } from 'node:stream';
import type { AuditRecord, AuditWriter } from '@app/audit';
import type { Response } from 'express';
import type { BackendForwarder, Forwarded } from '../backends/backend-forwarder';
import type { BackendReply } from '../backends/backend-http';
import { loadInferenceProxyConfig } from '../inference-proxy.config';
import type { FacadeRequest } from './facade-auth.guard';
import { FacadeGovernance } from './facade-governance';
import { facadePolicyOf } from './facade-policy';
import { FacadeRelay } from './facade-relay.service';

/** A caller's response: a writable whose `write` says "full" until the test drains it, as a slow reader's socket does. */
class CallerResponse extends Writable {
  statusCode = 200;
  readonly headers = new Map<string, string>();
  readonly chunks: string[] = [];
  full = false;

  constructor() {
    super({ write: (_chunk, _enc, cb) => cb() });
  }

  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  flushHeaders(): void {}
  override write(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString('utf8'));
    return !this.full;
  }
  /** The caller read what was buffered. */
  drained(): void {
    this.full = false;
    this.emit('drain');
  }
  /** The caller went away mid-answer. */
  leave(): void {
    this.emit('close');
  }
}

/** A backend body that hands out one chunk per pull and counts the pulls (no read-ahead, unlike a Readable). */
function countedBody(chunks: string[]): { body: BackendReply['body']; pulls: () => number } {
  let pulls = 0;
  const iterable: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) {
        pulls += 1;
        yield Buffer.from(c);
      }
    },
  };
  return { body: iterable as unknown as BackendReply['body'], pulls: () => pulls };
}

const ticks = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('FacadeRelay: a streamed answer', () => {
  const config = loadInferenceProxyConfig({ FACADE_API_KEYS: 'k', INFERENCE_MODEL: 'meditron-70b' });
  const audited: AuditRecord[] = [];
  const audit = { record: async (e: AuditRecord) => void audited.push(e) } as unknown as AuditWriter;

  function relayWith(body: BackendReply['body']) {
    const outcome: { signal?: AbortSignal; done?: boolean } = {};
    const forwarder = {
      forward: async (_path: string, _bodyFor: unknown, signal: AbortSignal): Promise<Forwarded> => {
        outcome.signal = signal;
        return {
          response: { status: 200, contentType: 'text/event-stream', body },
          backendId: 'vllm@a',
          attempts: 1,
          sentAt: performance.now(),
          done: (ok) => (outcome.done = ok),
        };
      },
    } as unknown as BackendForwarder;
    const relay = new FacadeRelay(
      forwarder,
      audit,
      'meditron-70b',
      new Set(['vllm']),
      new FacadeGovernance(facadePolicyOf(config)),
    );
    return { relay, outcome };
  }

  const request = {
    body: { model: 'meditron-70b', prompt: 'p', max_tokens: 8, stream: true },
    facadeCaller: 'key:0123456789ab',
  } as unknown as FacadeRequest;

  beforeEach(() => (audited.length = 0));

  it('reads the next backend chunk only once the caller has taken the last (backpressure)', async () => {
    const { body, pulls } = countedBody(['data: 1\n\n', 'data: 2\n\n', 'data: [DONE]\n\n']);
    const { relay, outcome } = relayWith(body);
    const res = new CallerResponse();
    res.full = true;
    const relaying = relay.relay('/completions', request, res as unknown as Response);
    await ticks();
    expect(res.chunks).toEqual(['data: 1\n\n']);
    expect(pulls()).toBe(1);
    res.drained();
    await relaying;
    expect(res.chunks.join('')).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
    expect(outcome.done).toBe(true);
    expect(audited.map((e) => e.detail)).toEqual([expect.objectContaining({ status: 200, errorCode: null })]);
  });

  it('a caller leaving while the relay waits for it aborts the backend call and records the stream as cut', async () => {
    const { body, pulls } = countedBody(['data: 1\n\n', 'data: 2\n\n']);
    const { relay, outcome } = relayWith(body);
    const res = new CallerResponse();
    res.full = true;
    const relaying = relay.relay('/completions', request, res as unknown as Response);
    await ticks();
    expect(outcome.signal?.aborted).toBe(false);
    res.leave();
    await relaying;
    expect(outcome.signal?.aborted).toBe(true);
    expect(pulls()).toBe(1);
    expect(outcome.done).toBe(false);
    expect(audited.map((e) => e.detail)).toEqual([expect.objectContaining({ status: 502, errorCode: 'stream_cut' })]);
  });
});
