import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditWriter, type AuditRecord } from '@app/audit';

export interface SeededCard {
  readonly cardUuid: string;
  readonly hookInstance: string;
  readonly inferenceRequestId: string;
  readonly patientRef: string;
}

/** A prompt manifest as cds-hooks stores it: what the model saw and what it was not shown, and why. */
export const SEEDED_MANIFEST = {
  profile: 'meditron-70b',
  references: { P1: 'Condition/c1', L1: 'Observation/o1' },
  included: { problems: 1, labs: 1 },
  omitted: { labs: 1 },
  sections: { problems: 'answered', labs: 'answered', allergies: 'unavailable', immunizations: 'not-requested' },
  leftOut: [
    { ref: 'Condition/c2', section: 'problems', reason: 'entered-in-error' },
    { ref: 'Observation/o2', section: 'labs', reason: 'duplicate' },
    { ref: 'Observation/o3', section: 'labs', reason: 'over-budget' },
  ],
  leftOutCounts: { 'entered-in-error': 1, duplicate: 1, 'over-budget': 1 },
  leftOutUnlisted: 0,
  promptTokens: 812,
  budgetTokens: 3536,
};

/** A hook call that produced one card, with its inference request, result and audit events, as cds-hooks writes them. */
export async function seedCardWithProvenance(
  ds: DataSource,
  audit: AuditWriter,
  patientRef: string,
): Promise<SeededCard> {
  const invocationId = randomUUID();
  const hookInstance = randomUUID();
  const requestId = randomUUID();
  const cardUuid = randomUUID();
  const now = new Date();
  await ds.query(
    `INSERT INTO hook_invocations (id, hook_instance, hook, service_id, request_id, patient_ref, status, cards_returned,
       received_at, answered_at, inference_request_id, client_id)
     VALUES ($1, $2, 'patient-view', 'meditron-patient-view', 'req-prov', $3, 'answered', 1, $4, $4, NULL, 'ehr-a')`,
    [invocationId, hookInstance, patientRef, now],
  );
  await ds.query(
    `INSERT INTO inference_requests (request_id, hook_invocation_id, model, template_version, prompt_hash, priority, status,
       deadline_at, created_at, context_manifest)
     VALUES ($1, $2, 'meditron-70b', 'patient-view@3', $3, 1, 'completed', $4, $4, $5)`,
    [requestId, invocationId, 'a'.repeat(64), now, JSON.stringify(SEEDED_MANIFEST)],
  );
  await ds.query(
    `INSERT INTO inference_results (request_id, outcome, backend, output_text, tokens_in, tokens_out, latency_ms, completed_at,
       hook_instance, model, template_version, prompt_hash, attempts, served_from)
     VALUES ($1, 'success', 'vllm-0', $2, 812, 96, 1450, $3, $4, 'meditron-70b', 'patient-view@3', $5, 1, 'backend')`,
    [
      requestId,
      '{"findings":[{"summary":"Consider INR check","indicator":"warning"}]}',
      now,
      hookInstance,
      'a'.repeat(64),
    ],
  );
  await ds.query(`UPDATE hook_invocations SET inference_request_id = $1 WHERE id = $2`, [requestId, invocationId]);
  await ds.query(
    `INSERT INTO cds_cards (uuid, hook_invocation_id, inference_request_id, service_id, created_at)
     VALUES ($1, $2, $3, 'meditron-patient-view', $4)`,
    [cardUuid, invocationId, requestId, now],
  );
  const base: Omit<AuditRecord, 'action'> = {
    outcome: 'success',
    service: 'cds-hooks',
    clientId: 'ehr-a',
    tenant: 'hospital-a',
    patientRef,
    requestId: 'req-prov',
    hookInstance,
  };
  await audit.record({
    ...base,
    action: 'hook.invoked',
    detail: { inferenceRequestId: requestId, promptHash: 'a'.repeat(64) },
  });
  await audit.record({
    ...base,
    action: 'fhir.search',
    detail: { prefetchKey: 'conditions', resourceType: 'Condition' },
  });
  await audit.record({ ...base, action: 'hook.answered', detail: { cards: 1, cardIds: cardUuid } });
  return { cardUuid, hookInstance, inferenceRequestId: requestId, patientRef };
}
