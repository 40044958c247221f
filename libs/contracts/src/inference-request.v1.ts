import { z } from 'zod';

export const INFERENCE_REQUEST_SCHEMA = 'inference-request.v1';

export const hookPriority = {
  'order-sign': 0,
  'order-select': 1,
  'encounter-discharge': 2,
  'encounter-start': 2,
  'appointment-book': 3,
  'patient-view': 4,
} as const;

const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});

/** What cds-hooks asks of the inference proxy. The prompt is already de-identified. */
export const inferenceRequestV1 = z
  .strictObject({
    schema: z.literal(INFERENCE_REQUEST_SCHEMA),
    requestId: z.uuid(),
    hookInstance: z.uuid(),
    hook: z.string().min(1).max(100),
    serviceId: z.string().min(1).max(100),
    model: z.string().min(1).max(200),
    /** `completion` for base models (Meditron-70B), `chat` for chat-tuned ones (Llama-3-Meditron). */
    api: z.enum(['completion', 'chat']),
    prompt: z.string().max(100_000).optional(),
    messages: z.array(chatMessage).max(50).optional(),
    maxTokens: z.number().int().positive().max(4096),
    temperature: z.number().min(0).max(2),
    /** JSON schema the answer must follow (structured output); null for free text. */
    outputSchema: z.record(z.string(), z.unknown()).nullable(),
    /** Stop strings of the prompt's template (TGI allows 4 by default: `--max-stop-sequences`). */
    stop: z.array(z.string().min(1).max(32)).max(4).optional(),
    templateVersion: z.string().min(1).max(100),
    promptHash: z.string().regex(/^[0-9a-f]{64}$/),
    priority: z.number().int().min(0).max(9),
    deadline: z.iso.datetime(),
  })
  .refine((r) => (r.api === 'completion' ? r.prompt !== undefined : r.messages !== undefined), {
    message: 'completion requests need prompt; chat requests need messages',
  });

export type InferenceRequestV1 = z.infer<typeof inferenceRequestV1>;
export type ChatMessage = z.infer<typeof chatMessage>;

export type ContractParse<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Parses a raw message value. The reason is safe to log: it names fields and issue codes, never values
 * (only our own refinement messages are quoted).
 */
export function parseInferenceRequest(raw: Buffer | string | null): ContractParse<InferenceRequestV1> {
  if (raw === null) return { ok: false, reason: 'empty message value' };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    return { ok: false, reason: 'message value is not JSON' };
  }
  const result = inferenceRequestV1.safeParse(json);
  if (!result.success) {
    return {
      ok: false,
      reason: result.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.code === 'custom' ? i.message : i.code}`)
        .join('; '),
    };
  }
  return { ok: true, value: result.data };
}
