import type { WorkedExample } from './prompt-templates';

/**
 * The one-shot example shown to the base model before the real case: a synthetic patient (no real data)
 * and the answer we want, as the JSON object with evidence handles. A base model has no instruction tuning;
 * one worked exchange is how its authors teach it the answer's shape (epfLLM/meditron deployment/README.md).
 */
export const FINDINGS_EXAMPLE: WorkedExample = {
  user: [
    'Example case (synthetic).',
    'Patient: 58-year-old, sex male.',
    'Active problems:',
    '  P1: Chronic kidney disease stage 4',
    'Active medications:',
    '  M1: metformin 1000 mg twice daily',
    'Recent labs (latest first):',
    '  L1: eGFR 24 mL/min/1.73m2 (2024-03-02)',
  ].join('\n'),
  assistant: JSON.stringify({
    findings: [
      {
        summary: 'Metformin continued with eGFR below 30',
        indicator: 'warning',
        detail: 'Metformin is contraindicated when eGFR is below 30; review the dose or stop it.',
        evidence: ['M1', 'L1', 'P1'],
      },
    ],
  }),
};
