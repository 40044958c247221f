import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { of, throwError } from 'rxjs';
import type { AuditRecord, AuditWriter } from '@app/audit';
import { INFERENCE_REQUEST_SCHEMA } from '@app/contracts';
import type { DueMessage, InferenceOutboxRepository, InferenceRepository, StoredResult } from '@app/database';
import type { InferenceClient } from '@app/messaging';
import type { CdsHooksConfig } from '../cds-hooks.config';
import { InferenceOutboxRelay } from './inference-outbox.relay';

function message(requestId: string, deadlineMs: number) {
  return {
    request: {
      schema: INFERENCE_REQUEST_SCHEMA,
      requestId,
      hookInstance: randomUUID(),
      hook: 'patient-view',
      serviceId: 'meditron-patient-view',
      model: 'meditron-70b',
      api: 'completion',
      prompt: 'p',
      maxTokens: 10,
      temperature: 0,
      outputSchema: null,
      templateVersion: 't1',
      promptHash: 'a'.repeat(64),
      priority: 1,
      deadline: new Date(deadlineMs).toISOString(),
    },
    headers: { correlationId: requestId, deadlineMs, schema: INFERENCE_REQUEST_SCHEMA },
  };
}

function relayWith(due: DueMessage[], publish: 'ok' | 'fail') {
  const removed: string[] = [];
  const retried: Array<{ id: string; at: Date }> = [];
  const stored: StoredResult[] = [];
  const audited: AuditRecord[] = [];
  const emitted: unknown[] = [];
  const outbox = {
    claimDue: jest.fn(async () => due),
    remove: jest.fn(async (id: string) => void removed.push(id)),
    retryAt: jest.fn(async (id: string, at: Date) => void retried.push({ id, at })),
  } as unknown as InferenceOutboxRepository;
  const inferences = {
    storeResults: jest.fn(async (rows: StoredResult[]) => void stored.push(...rows)),
  } as unknown as InferenceRepository;
  const client = {
    emit: jest.fn((_p: string, data: unknown) => {
      emitted.push(data);
      return publish === 'ok' ? of(undefined) : throwError(() => new Error('KafkaJSConnectionError'));
    }),
  } as unknown as InferenceClient;
  const audit = { record: jest.fn(async (e: AuditRecord) => void audited.push(e)) } as unknown as AuditWriter;
  const relay = new InferenceOutboxRelay(outbox, inferences, client, audit, {
    OUTBOX_RELAY_MS: 1000,
  } as CdsHooksConfig);
  return { relay, removed, retried, stored, audited, emitted };
}

describe('InferenceOutboxRelay', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('publishes a due message and removes it from the outbox', async () => {
    const id = randomUUID();
    const deadline = Date.now() + 60_000;
    const stored = message(id, deadline);
    const t = relayWith([{ requestId: id, message: stored, attempts: 1, deadlineAt: new Date(deadline) }], 'ok');
    await t.relay.relay();
    expect(t.emitted).toEqual([stored]);
    expect(t.removed).toEqual([id]);
    expect(t.stored).toEqual([]);
  });

  it('keeps a message whose publish failed, for a later attempt with backoff', async () => {
    const id = randomUUID();
    const deadline = Date.now() + 60_000;
    const t = relayWith(
      [{ requestId: id, message: message(id, deadline), attempts: 3, deadlineAt: new Date(deadline) }],
      'fail',
    );
    const before = Date.now();
    await t.relay.relay();
    expect(t.removed).toEqual([]);
    expect(t.retried).toHaveLength(1);
    expect(t.retried[0]!.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('records a request expired once its deadline passed unpublished: its event (same id as the proxy would use), then its result', async () => {
    const id = randomUUID();
    const deadline = Date.now() - 1;
    const t = relayWith(
      [{ requestId: id, message: message(id, deadline), attempts: 7, deadlineAt: new Date(deadline) }],
      'ok',
    );
    await t.relay.relay();
    expect(t.emitted).toEqual([]);
    expect(t.audited).toEqual([
      expect.objectContaining({
        action: 'inference.completed',
        outcome: 'failure',
        requestId: id,
        detail: expect.objectContaining({ resultOutcome: 'expired', errorCode: 'never_published' }),
      }),
    ]);
    expect(t.audited[0]!.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
    expect(t.stored).toEqual([expect.objectContaining({ requestId: id, outcome: 'expired', status: 'expired' })]);
    expect(t.removed).toEqual([id]);
  });
});
