import { DATA_CLOSE, DATA_OPEN } from '../templates/hook-templates';
import type { WorkedExample } from './prompt-templates';

/**
 * The one-shot example shown to the base model before the real case: a synthetic patient (no real data)
 * and the answer we want, as the JSON object with evidence handles. A base model has no instruction tuning;
 * one worked exchange is how its authors teach it the answer's shape (epfLLM/meditron deployment/README.md).
 * Its case is delimited as data exactly like the real one, so the example teaches that shape too.
 */
export const FINDINGS_EXAMPLE: WorkedExample = {
  user: [
    'Example case (synthetic).',
    DATA_OPEN,
    'Patient: 58-year-old, sex male.',
    'Active problems:',
    '  P1: Chronic kidney disease stage 4',
    'Active medications:',
    '  M1: metformin 1000 mg twice daily',
    'Recent labs (latest first):',
    '  L1: eGFR 24 mL/min/1.73m2 (2024-03-02)',
    DATA_CLOSE,
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
