import { randomUUID } from 'node:crypto';
import { countTokens } from '@app/model-double';
import { prefetchFromSynthea, specExample } from '@app/testing/synthea';

/** The three Synthea patients shipped as fixtures (shared/fhir-fixtures). */
export const SYNTHEA_FILES = [
  'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json',
  'Daisey_Johns_e916a083-8ee6-4df8-acbe-b711fa791253.json',
  'Christin_Stiedemann_fc6aaaa5-0461-420d-b96c-ebeacc303b51.json',
] as const;

/** Common problems added one or two at a time so that every request's de-identified prompt differs. */
const EXTRA_CONDITIONS = [
  'Essential hypertension',
  'Hyperlipidemia',
  'Chronic kidney disease stage 3',
  'Atrial fibrillation',
  'Heart failure',
  'Asthma',
  'Chronic obstructive pulmonary disease',
  'Osteoarthritis of knee',
  'Major depressive disorder',
  'Hypothyroidism',
  'Gout',
  'Migraine',
  'Obesity',
  'Anemia',
  'Osteoporosis',
  'Gastroesophageal reflux disease',
  'Sleep apnea',
  'Peripheral neuropathy',
  'Psoriasis',
  'Benign prostatic hyperplasia',
  'Coronary artery disease',
  'Chronic low back pain',
  'Generalized anxiety disorder',
  'Iron deficiency',
  'Vitamin D deficiency',
  'Allergic rhinitis',
  'Glaucoma',
  'Cataract',
  'Hepatic steatosis',
  'Diverticulosis',
  'Rheumatoid arthritis',
  'Epilepsy',
  'Parkinson disease',
  'Macular degeneration',
  'Urinary incontinence',
  'Venous insufficiency',
  'Pulmonary embolism history',
  'Deep vein thrombosis history',
  'Stroke history',
  'Type 2 diabetes with nephropathy',
] as const;

const SPEC_ORDER_SIGN = 'library1.0.1_order-sign_context-R4.json';

type Json = Record<string, unknown>;

/** Builds request bodies for one hook: the i-th body is a fresh hookInstance and, when varying, a distinct prompt. */
export function hookBodies(hook: 'patient-view' | 'order-sign', vary: boolean, seed: number): (i: number) => string {
  const templates = SYNTHEA_FILES.map((file) => template(hook, file));
  return (i: number): string => {
    const n = vary ? seed * 1_000_003 + i : 0;
    const t = templates[vary ? n % templates.length : 0]!;
    const k = Math.floor(n / templates.length);
    const a = EXTRA_CONDITIONS[k % EXTRA_CONDITIONS.length]!;
    const b = EXTRA_CONDITIONS[Math.floor(k / EXTRA_CONDITIONS.length) % EXTRA_CONDITIONS.length]!;
    // Birth year moves with the higher digits: ages from 20 to 89.
    const year = 1936 + (Math.floor(k / (EXTRA_CONDITIONS.length * EXTRA_CONDITIONS.length)) % 70);
    return t
      .replace('__HOOK_INSTANCE__', randomUUID())
      .replace('__BIRTH_YEAR__', vary ? String(year) : '1971')
      .replace('__EXTRA_A__', vary ? a : 'Essential hypertension')
      .replace('__EXTRA_B__', vary ? b : 'Hyperlipidemia');
  };
}

function template(hook: 'patient-view' | 'order-sign', file: string): string {
  const { patientId, prefetch } = prefetchFromSynthea(file);
  const patient = { ...(prefetch.patient as Json), birthDate: '__BIRTH_YEAR__-06-15' };
  const conditions = prefetch.conditions as { entry: Array<{ resource: Json }>; total: number };
  const extra = (id: string, text: string): { resource: Json } => ({
    resource: {
      resourceType: 'Condition',
      id,
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
      },
      code: { text },
      subject: { reference: `Patient/${patientId}` },
    },
  });
  const entry = [...conditions.entry, extra('bench-extra-a', '__EXTRA_A__'), extra('bench-extra-b', '__EXTRA_B__')];
  const withExtras = { ...prefetch, patient, conditions: { ...conditions, entry, total: entry.length } };
  const context =
    hook === 'patient-view'
      ? { userId: 'Practitioner/example', patientId }
      : { ...(specExample(SPEC_ORDER_SIGN).context as Json), patientId };
  return JSON.stringify({ hookInstance: '__HOOK_INSTANCE__', hook, context, prefetch: withExtras });
}

/** A findings answer of about `tokens` tokens (the model double's tokenizer), valid against the findings schema. */
export function findingsAnswer(tokens: number): { text: string; tokens: number } {
  const words = [
    'Review',
    'renal',
    'function',
    'before',
    'continuing',
    'metformin;',
    'consider',
    'dose',
    'adjustment',
    'and',
    'repeat',
    'eGFR',
    'within',
    'three',
    'months.',
  ];
  let detail = '';
  let text = '';
  for (let i = 0; ; i++) {
    const next = `${detail}${detail ? ' ' : ''}${words[i % words.length]!}`;
    const candidate = JSON.stringify({
      findings: [
        { summary: 'Renal dosing review (benchmark answer)', indicator: 'warning', detail: next, evidence: ['P1'] },
      ],
    });
    if (countTokens(candidate) > tokens && text) break;
    detail = next;
    text = candidate;
    if (i > 10_000) break;
  }
  return { text, tokens: countTokens(text) };
}
