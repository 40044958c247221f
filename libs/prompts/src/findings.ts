import { z } from 'zod';

/** What the model must answer: findings the card builder turns into CDS Hooks cards. */
export const findingsSchema = z.object({
  findings: z
    .array(
      z.object({
        summary: z.string().min(1),
        indicator: z.enum(['info', 'warning', 'critical']),
        detail: z.string().optional(),
        evidence: z.array(z.string()).optional(),
      }),
    )
    .max(10),
});

export type Findings = z.infer<typeof findingsSchema>;

/** The same shape as JSON Schema, sent to vLLM / TGI for structured output. */
export const findingsJsonSchema: Record<string, unknown> = z.toJSONSchema(findingsSchema);

export type FindingsParse = { ok: true; findings: Findings } | { ok: false; reason: 'not_json' | 'schema_mismatch' };

export function parseFindings(text: string): FindingsParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  const parsed = findingsSchema.safeParse(json);
  return parsed.success ? { ok: true, findings: parsed.data } : { ok: false, reason: 'schema_mismatch' };
}
