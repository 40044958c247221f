import type { SectionId } from '../summary/clinical-summary';

export type PromptHook =
  'patient-view' | 'order-select' | 'order-sign' | 'encounter-start' | 'encounter-discharge' | 'appointment-book';

/** One versioned prompt template. Change the wording, bump the version: inferences record which one they used. */
export interface HookTemplate {
  readonly version: string;
  readonly task: string;
  /** Sections most relevant first; the token budget trims from the end. */
  readonly sections: ReadonlyArray<SectionId>;
}

const ORDER_SECTIONS: SectionId[] = [
  'orders',
  'allergies',
  'medications',
  'problems',
  'labs',
  'vitals',
  'procedures',
  'encounters',
  'immunizations',
];

export const HOOK_TEMPLATES: Readonly<Record<PromptHook, HookTemplate>> = {
  'patient-view': {
    version: 'patient-view@1',
    task: "Point out at most three findings worth the clinician's attention: care gaps, risky combinations, missing monitoring.",
    sections: ['problems', 'medications', 'allergies', 'labs', 'vitals', 'procedures', 'encounters', 'immunizations'],
  },
  'order-select': {
    version: 'order-select@1',
    task: 'The clinician is selecting the draft orders (D handles). Point out at most three problems with them: interactions, contraindications, allergies, duplicate therapy, missing monitoring.',
    sections: ORDER_SECTIONS,
  },
  'order-sign': {
    version: 'order-sign@1',
    task: 'The clinician is about to sign the draft orders (D handles). Point out at most three problems with them: interactions, contraindications, allergies, duplicate therapy, missing monitoring.',
    sections: ORDER_SECTIONS,
  },
  'encounter-start': {
    version: 'encounter-start@1',
    task: 'An encounter is starting. Point out at most three care gaps worth addressing in it.',
    sections: ['problems', 'medications', 'labs', 'allergies', 'vitals', 'immunizations', 'encounters', 'procedures'],
  },
  'encounter-discharge': {
    version: 'encounter-discharge@1',
    task: 'The patient is being discharged. Point out at most three gaps: follow-up, medication reconciliation, monitoring.',
    sections: ['medications', 'problems', 'labs', 'allergies', 'encounters', 'procedures', 'vitals', 'immunizations'],
  },
  'appointment-book': {
    version: 'appointment-book@1',
    task: 'Appointments are being booked (D handles). Point out at most three things they should include or prepare for.',
    sections: [
      'orders',
      'problems',
      'medications',
      'labs',
      'allergies',
      'immunizations',
      'encounters',
      'procedures',
      'vitals',
    ],
  },
};

export const SECTION_TITLES: Readonly<Record<SectionId, string>> = {
  orders: 'Draft orders / items in this request',
  problems: 'Active problems',
  medications: 'Active medications',
  allergies: 'Allergies and intolerances',
  labs: 'Recent labs (latest first)',
  vitals: 'Recent vital signs',
  encounters: 'Recent encounters',
  procedures: 'Recent procedures',
  immunizations: 'Recent immunizations',
};

export const SYSTEM_RULES = [
  'You are a clinical decision support assistant reviewing a de-identified patient summary for a clinician.',
  'Cite in "evidence" the handles (P1, M2, L3, D1, ...) of the facts each finding rests on; a finding without them is discarded.',
  'Do not invent facts, patients or values. If nothing stands out, return no findings.',
  'Answer only with JSON: {"findings":[{"summary":"under 140 characters","indicator":"info|warning|critical","detail":"markdown","evidence":["P1"]}]}',
].join(' ');
