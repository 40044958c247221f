import { randomUUID } from 'node:crypto';
import type { Findings } from '@app/prompts';
import type { Card } from './card';

const SUMMARY_MAX = 139;

export const AI_GENERATED_TOPIC = {
  system: 'https://meditron-cds.org/codes/card-topic',
  code: 'ai-generated',
  display: 'AI-generated; not reviewed by a clinician',
} as const;

const REASONS = 'https://meditron-cds.org/codes/override-reason';

/** Offered on every card so feedback says why an AI suggestion was dismissed (input for evaluation). */
export const OVERRIDE_REASONS = [
  { system: REASONS, code: 'not-relevant', display: 'Not relevant to this patient' },
  { system: REASONS, code: 'already-addressed', display: 'Already addressed' },
  { system: REASONS, code: 'incorrect', display: 'Factually incorrect' },
] as const;

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** Every card names the model and says it is AI-generated (Meditron's authors advise against unaligned clinical use). */
export function buildCards(findings: Findings, modelLabel: string): Card[] {
  return findings.findings.map((f) => ({
    uuid: randomUUID(),
    summary: clip(f.summary, SUMMARY_MAX),
    indicator: f.indicator,
    ...(f.detail ? { detail: f.detail } : {}),
    source: { label: `${modelLabel} (AI-generated)`, topic: { ...AI_GENERATED_TOPIC } },
    overrideReasons: OVERRIDE_REASONS.map((r) => ({ ...r })),
  }));
}
