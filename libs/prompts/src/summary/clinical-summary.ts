/** Sections of a summary, with the handle prefix the model cites facts of each by. */
export const SECTIONS = {
  orders: 'D',
  problems: 'P',
  medications: 'M',
  allergies: 'A',
  labs: 'L',
  vitals: 'V',
  encounters: 'E',
  procedures: 'X',
  immunizations: 'I',
} as const;

export type SectionId = keyof typeof SECTIONS;

/** One fact the model sees, already de-identified. `ref` (the FHIR resource) never leaves the service. */
export interface Fact {
  readonly handle: string;
  readonly text: string;
  readonly ref?: string;
  /** Epoch ms the fact is from, for ranking by recency. */
  readonly time?: number;
}

/** The minimal, de-identified facts a prompt may carry: no names, identifiers or exact dates. */
export interface ClinicalSummary {
  readonly ageYears: number | null;
  readonly sex: 'male' | 'female' | 'other' | 'unknown';
  readonly sections: Readonly<Record<SectionId, ReadonlyArray<Fact>>>;
}
