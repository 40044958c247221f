import type { InferenceResultEntity, ReuseCandidate } from '@app/database';
import { pickReusable } from './inference-reuse.service';

const now = new Date('2026-11-29T20:00:00Z');
const later = new Date(now.getTime() + 60_000);
const earlier = new Date(now.getTime() - 1);
const ok = { outcome: 'ok' } as InferenceResultEntity;

function candidate(
  requestId: string,
  status: ReuseCandidate['status'],
  o: Partial<ReuseCandidate> = {},
): ReuseCandidate {
  return { requestId, status, deadlineAt: later, result: null, ...o };
}

describe('pickReusable', () => {
  it('serves the newest good result, or waits for the newest request still within its deadline', () => {
    expect(pickReusable([candidate('a', 'completed', { result: ok }), candidate('b', 'running')], now)).toEqual({
      kind: 'result',
      requestId: 'a',
      result: ok,
    });
    expect(pickReusable([candidate('b', 'running'), candidate('a', 'completed', { result: ok })], now)).toEqual({
      kind: 'pending',
      requestId: 'b',
      deadlineAt: later,
    });
  });

  it('passes over a completed request without a good result and one past its deadline', () => {
    const candidates = [
      candidate('bad', 'completed'),
      candidate('late', 'queued', { deadlineAt: earlier }),
      candidate('good', 'completed', { result: ok }),
    ];
    expect(pickReusable(candidates, now)).toMatchObject({ kind: 'result', requestId: 'good' });
    expect(pickReusable(candidates.slice(0, 2), now)).toEqual({ kind: 'none' });
    expect(pickReusable([], now)).toEqual({ kind: 'none' });
  });
});
