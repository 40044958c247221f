import { readResultNotification } from './result-notification';

/** The listener's side of the payload; the SQL side is covered on a real Postgres in inference-result-insert.spec. */
describe('readResultNotification', () => {
  const id = '0b8e2f7c-3a44-4d0e-9a51-2f1f4c8b9d10';
  const row = {
    requestId: id,
    outcome: 'ok',
    backend: 'vllm@a',
    outputText: '{"findings":[]}',
    errorCode: null,
    tokensIn: 10,
    tokensOut: 2,
    latencyMs: 5,
    completedAt: '2026-11-30T13:45:06.934+05:45',
    hookInstance: null,
    model: 'meditron-70b',
    templateVersion: 't1',
    promptHash: 'c'.repeat(64),
    attempts: 1,
    servedFrom: 'backend',
  };

  it('reads a bare id (an older proxy, a redelivery, a row over the size limit) as the id alone', () => {
    expect(readResultNotification(id)).toEqual({ requestId: id });
    expect(readResultNotification('')).toBeUndefined();
  });

  it('reads a carried row into the entity, its time as a Date of the same instant', () => {
    expect(readResultNotification(JSON.stringify(row))).toEqual({
      requestId: id,
      result: { ...row, completedAt: new Date('2026-11-30T08:00:06.934Z') },
    });
  });

  it('falls back to the id alone when the row does not parse, so the waiter reads it', () => {
    expect(readResultNotification(JSON.stringify({ ...row, outcome: 'something-new' }))).toEqual({ requestId: id });
    expect(readResultNotification(JSON.stringify({ ...row, latencyMs: '5' }))).toEqual({ requestId: id });
    const { completedAt: _missing, ...partial } = row;
    expect(readResultNotification(JSON.stringify(partial))).toEqual({ requestId: id });
    // Not JSON at all, but with Postgres' json_build_object head: the id is still read.
    expect(readResultNotification(`{"requestId" : "${id}", "outcome" : "ok", "backe`)).toEqual({ requestId: id });
  });

  it('gives nothing for a payload with no id to act on (the poll finds the row)', () => {
    expect(readResultNotification('{"outcome":"ok"}')).toBeUndefined();
    expect(readResultNotification('{not json')).toBeUndefined();
  });
});
