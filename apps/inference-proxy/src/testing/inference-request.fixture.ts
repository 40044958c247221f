import { createHash, randomUUID } from 'node:crypto';
import { INFERENCE_REQUEST_SCHEMA, type InferenceRequestV1 } from '@app/contracts';

/** A valid request for specs; the prompt is synthetic, never patient data. */
export function inferenceRequest(overrides: Partial<InferenceRequestV1> = {}): InferenceRequestV1 {
  const prompt =
    overrides.prompt ?? `Synthetic system message.\n### User: synthetic case ${randomUUID()}\n### Assistant:`;
  return {
    schema: INFERENCE_REQUEST_SCHEMA,
    requestId: randomUUID(),
    hookInstance: randomUUID(),
    hook: 'patient-view',
    serviceId: 'meditron-patient-view',
    model: 'meditron-70b',
    api: 'completion',
    maxTokens: 32,
    temperature: 0,
    outputSchema: null,
    templateVersion: 'patient-view@test',
    promptHash: createHash('sha256').update(prompt).digest('hex'),
    priority: 4,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    ...overrides,
    prompt,
  };
}
