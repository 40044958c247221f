import type { ClinicalSummary, CodedFact } from './clinical-summary';
import { chatMlPrompt, promptHash } from './meditron-prompt';

export const PATIENT_VIEW_TEMPLATE_VERSION = 'patient-view@0.1.0';

const SYSTEM = [
  'You are a clinical decision support assistant reviewing a de-identified patient summary for a clinician.',
  "Point out at most three findings worth the clinician's attention (care gaps, risky combinations, missing monitoring).",
  'Cite the handles (P1, M2, ...) of the facts each finding rests on. Do not invent facts. If nothing stands out, return no findings.',
  'Answer only with JSON: {"findings":[{"summary":"<140 chars","indicator":"info|warning|critical","detail":"markdown","evidence":["P1"]}]}',
].join(' ');

function list(facts: ReadonlyArray<CodedFact>): string {
  if (facts.length === 0) return '  (none recorded)';
  return facts.map((f) => `  ${f.handle}: ${f.text}${f.code ? ` [${f.code}]` : ''}`).join('\n');
}

export interface RenderedPrompt {
  readonly text: string;
  readonly hash: string;
  readonly templateVersion: string;
}

export function renderPatientView(summary: ClinicalSummary): RenderedPrompt {
  const user = [
    `Patient: ${summary.ageYears ?? 'unknown'}-year-old, sex ${summary.sex}.`,
    'Active problems:',
    list(summary.problems),
    'Active medications:',
    list(summary.medications),
  ].join('\n');
  const text = chatMlPrompt(SYSTEM, user);
  return { text, hash: promptHash(text), templateVersion: PATIENT_VIEW_TEMPLATE_VERSION };
}
