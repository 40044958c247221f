import type { ClinicalSummary, CodedFact } from './clinical-summary';
import { chatMlPrompt, promptHash } from './meditron-prompt';

export type PromptHook =
  | 'patient-view'
  | 'order-select'
  | 'order-sign'
  | 'encounter-start'
  | 'encounter-discharge'
  | 'appointment-book';

/** Bumped whenever a template's wording changes, so each inference records what the model was asked. */
const TEMPLATE_REVISION = '0.1.0';

const TASKS: Record<PromptHook, string> = {
  'patient-view': "Point out at most three findings worth the clinician's attention (care gaps, risky combinations, missing monitoring).",
  'order-select':
    'The clinician is selecting the draft orders (D handles). Point out at most three problems with them: interactions, contraindications, allergies, duplicate therapy, missing monitoring.',
  'order-sign':
    'The clinician is about to sign the draft orders (D handles). Point out at most three problems with them: interactions, contraindications, allergies, duplicate therapy, missing monitoring.',
  'encounter-start': 'An encounter is starting. Point out at most three care gaps worth addressing in it.',
  'encounter-discharge':
    'The patient is being discharged. Point out at most three gaps: follow-up, medication reconciliation, monitoring.',
  'appointment-book':
    'Appointments are being booked (D handles). Point out at most three things they should include or prepare for.',
};

const RULES = [
  'You are a clinical decision support assistant reviewing a de-identified patient summary for a clinician.',
  'Cite the handles (P1, M2, D1, ...) of the facts each finding rests on. Do not invent facts. If nothing stands out, return no findings.',
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

export function templateVersionFor(hook: PromptHook): string {
  return `${hook}@${TEMPLATE_REVISION}`;
}

/** Renders the Meditron prompt for a hook. For order hooks the draft orders come first. */
export function renderHookPrompt(hook: PromptHook, summary: ClinicalSummary): RenderedPrompt {
  const sections = [
    ...(summary.contextItems.length > 0 ? ['Draft orders / items in this request:', list(summary.contextItems)] : []),
    `Patient: ${summary.ageYears ?? 'unknown'}-year-old, sex ${summary.sex}.`,
    'Active problems:',
    list(summary.problems),
    'Active medications:',
    list(summary.medications),
  ];
  const text = chatMlPrompt(`${RULES} ${TASKS[hook]}`, sections.join('\n'));
  return { text, hash: promptHash(text), templateVersion: templateVersionFor(hook) };
}
