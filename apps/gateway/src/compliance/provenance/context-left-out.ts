import { z } from 'zod';

const REASONS = [
  'entered-in-error',
  'refuted',
  'resolved',
  'inactive',
  'duplicate',
  'older-value',
  'older-event',
  'over-cap',
  'over-budget',
  'not-in-template',
  'unsupported-type',
  'no-code',
] as const;

/** The part of the stored prompt manifest that says what the model was not shown (see @app/prompts PromptManifest). */
const manifestSchema = z.object({
  sections: z.record(z.string(), z.enum(['answered', 'partial', 'not-requested', 'unavailable'])).default({}),
  omitted: z.record(z.string(), z.number()).default({}),
  leftOut: z.array(z.object({ ref: z.string(), section: z.string().nullable(), reason: z.enum(REASONS) })).default([]),
  leftOutCounts: z.record(z.string(), z.number()).default({}),
  leftOutUnlisted: z.number().default(0),
});

/** What the card's prompt left out of the patient's record, and why. */
export interface ContextLeftOut {
  /** Per section: answered by the EHR, partly answered, not requested by the service, or requested and unavailable. */
  readonly sections: Record<string, string>;
  /** Lines left out for length (section caps and token budget), per section. */
  readonly leftOutForLength: Record<string, number>;
  /** Count of resources not shown, per reason. */
  readonly counts: Record<string, number>;
  /** The resources not shown, each with its section and reason (FHIR references, as the EHR sent them). */
  readonly resources: ReadonlyArray<{ ref: string; section: string | null; reason: string }>;
  /** Resources counted but not listed (the manifest lists the first ones only). */
  readonly unlisted: number;
}

/**
 * Reads the left-out record of a stored context manifest; null for requests stored before manifests carried it
 * (or a manifest that does not parse: the raw manifest is still in the provenance).
 */
export function contextLeftOut(manifest: unknown): ContextLeftOut | null {
  if (typeof manifest !== 'object' || manifest === null || !('leftOut' in manifest)) return null;
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) return null;
  const m = parsed.data;
  return {
    sections: m.sections,
    leftOutForLength: m.omitted,
    counts: m.leftOutCounts,
    resources: m.leftOut,
    unlisted: m.leftOutUnlisted,
  };
}
