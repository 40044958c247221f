import { createHash } from 'node:crypto';
import type { InferenceRequestV1 } from '@app/contracts';

/**
 * Identity of an answer: model, API, the prompt itself and every decoding parameter. Hashed from the
 * actual prompt rather than the caller's `promptHash`, so a wrong hash can never hand one patient's
 * answer to another. Only greedy decoding (temperature 0) is deterministic enough to share.
 */
export function answerKey(req: InferenceRequestV1): string | null {
  if (req.temperature !== 0) return null;
  return createHash('sha256')
    .update(
      JSON.stringify([
        req.model,
        req.api,
        req.prompt ?? null,
        req.messages ?? null,
        req.maxTokens,
        req.temperature,
        req.outputSchema,
        // Stop strings change where the answer ends: a base model without them runs on.
        req.stop ?? null,
      ]),
    )
    .digest('hex');
}
