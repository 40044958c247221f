import { z } from 'zod';

/** What a finding may ask the service to do; the service, never the model, turns a choice into FHIR. */
export const ACTION_KINDS = ['remove-draft', 'replace-draft', 'order-lab'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

const finding = z.object({
  summary: z.string().min(1),
  indicator: z.enum(['info', 'warning', 'critical']),
  detail: z.string().optional(),
  evidence: z.array(z.string()).optional(),
});

/** What the model must answer when no action is offered: findings the card builder turns into cards. */
export const findingsSchema = z.object({ findings: z.array(finding).max(10) });

/**
 * An action choice as parsed: handles only (a draft order `D1`, a formulary item `F2`, a lab test `T3`).
 * Parsing is lenient on purpose: grounding (grounding/ground-actions.ts) checks each against what was offered.
 */
export const actionChoiceSchema = z.object({
  kind: z.string().min(1),
  draft: z.string().optional(),
  medication: z.string().optional(),
  test: z.string().optional(),
});
export type ActionChoice = z.infer<typeof actionChoiceSchema>;

const answerSchema = z.object({
  findings: z.array(finding.extend({ actions: z.array(actionChoiceSchema).max(5).optional() })).max(10),
});

export type Findings = z.infer<typeof answerSchema>;

/** The same shape as JSON Schema, sent to vLLM / TGI for structured output when no action is offered. */
export const findingsJsonSchema: Record<string, unknown> = z.toJSONSchema(findingsSchema);

export type FindingsParse = { ok: true; findings: Findings } | { ok: false; reason: 'not_json' | 'schema_mismatch' };

export function parseFindings(text: string): FindingsParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  const parsed = answerSchema.safeParse(json);
  return parsed.success ? { ok: true, findings: parsed.data } : { ok: false, reason: 'schema_mismatch' };
}
