import type { DataSource } from 'typeorm';
import type { InferenceRecord } from './inference-record';

const COLUMNS = [
  'request_id',
  'outcome',
  'backend',
  'output_text',
  'error_code',
  'tokens_in',
  'tokens_out',
  'latency_ms',
  'completed_at',
  'hook_instance',
  'model',
  'template_version',
  'prompt_hash',
  'attempts',
  'served_from',
] as const;

function values(r: InferenceRecord): unknown[] {
  return [
    r.requestId,
    r.outcome,
    r.backend,
    r.outputText,
    r.errorCode,
    r.tokensIn,
    r.tokensOut,
    r.latencyMs,
    r.completedAt,
    r.hookInstance,
    r.model,
    r.templateVersion,
    r.promptHash,
    r.attempts,
    r.servedFrom,
  ];
}

/**
 * Writes a batch of results and their request statuses in one transaction: one multi-row INSERT and one
 * UPDATE, whatever the batch size. A row already stored (a redelivery) is left as it was.
 */
export async function storeResults(ds: DataSource, batch: ReadonlyArray<InferenceRecord>): Promise<void> {
  if (batch.length === 0) return;
  const params: unknown[] = [];
  const tuples = batch.map((r) => {
    const start = params.length;
    params.push(...values(r));
    return `(${COLUMNS.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  const statusParams: unknown[] = [];
  const statusTuples = batch.map((r) => {
    statusParams.push(r.requestId, r.status);
    return `($${statusParams.length - 1}::uuid, $${statusParams.length}::text)`;
  });
  await ds.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO inference_results (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
       ON CONFLICT (request_id) DO NOTHING`,
      params,
    );
    await tx.query(
      `UPDATE inference_requests r SET status = v.status FROM (VALUES ${statusTuples.join(', ')}) AS v(id, status)
       WHERE r.request_id = v.id`,
      statusParams,
    );
  });
}
