import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { StoredResult } from '@app/database';

/** A request on record for a result to reference: its hook call's row and the request's own (status `queued`). */
export async function openRequestOnRecord(
  ds: DataSource,
  o: { model?: string; templateVersion?: string; promptHash?: string } = {},
): Promise<string> {
  const requestId = randomUUID();
  const invocation = randomUUID();
  await ds.query(
    `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, status, received_at)
     VALUES ($1, $2, 'patient-view', 's', $3, 'received', now())`,
    [invocation, randomUUID(), randomUUID()],
  );
  await ds.query(
    `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority,
       status, deadline_at, created_at)
     VALUES ($1, $2, $3, $4, $5, 4, 'queued', now() + interval '1 minute', now())`,
    [requestId, invocation, o.model ?? 'meditron-70b', o.templateVersion ?? 't1', o.promptHash ?? 'c'.repeat(64)],
  );
  return requestId;
}

/** A good result for `requestId` as the proxy's batch writer stores it (fields overridable). */
export function storedResult(requestId: string, over: Partial<StoredResult> = {}): StoredResult {
  return {
    requestId,
    status: 'completed',
    outcome: 'ok',
    backend: 'vllm@a',
    outputText: '{"findings":[]}',
    errorCode: null,
    tokensIn: 10,
    tokensOut: 2,
    latencyMs: 5,
    completedAt: new Date(),
    hookInstance: null,
    model: 'meditron-70b',
    templateVersion: 't1',
    promptHash: 'c'.repeat(64),
    attempts: 1,
    servedFrom: 'backend',
    ...over,
  };
}
