/** Sections of a summary, with the handle prefix the model cites facts of each by. */
export const SECTIONS = {
  orders: 'D',
  problems: 'P',
  history: 'H',
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
  /** For labs: the documented clinical panel the test belongs to (see lab-panels), kept first by the builder. */
  readonly panel?: string;
}

/**
 * What is known about a section, so that "none" is printed only when the EHR said none:
 * - `answered`: a query for it was answered (its facts may be empty: the EHR has none on record);
 * - `not-requested`: this service did not ask for it;
 * - `partial`: of the queries that feed it, some were answered and some could not be had (e.g. panel labs
 *   answered, recent labs failed): what is shown is true, but there may be more;
 * - `unavailable`: it was asked for but could not be had (prefetch missing or failed, and no fallback).
 */
export type SectionState = 'answered' | 'partial' | 'not-requested' | 'unavailable';

/** Why a resource the EHR sent is not a line of the prompt. Recorded per resource in the manifest. */
export type LeftOutReason =
  | 'entered-in-error'
  | 'refuted'
  | 'resolved'
  | 'inactive'
  | 'duplicate'
  | 'older-value'
  | 'older-event'
  | 'over-cap'
  | 'over-budget'
  | 'not-in-template'
  | 'unsupported-type'
  | 'no-code';

export interface LeftOut {
  readonly ref: string;
  readonly section: SectionId | null;
  readonly reason: LeftOutReason;
}

/** Age as it may be shown (Safe Harbor: over 89 aggregated; infants in months; deceased at age of death). */
export interface AgeFacts {
  /** Whole years, capped at 90 (meaning "90 or older"); null when unknown. */
  readonly years: number | null;
  /** Whole months, for patients under two. */
  readonly months?: number;
  readonly deceased: boolean;
}

/** The minimal, de-identified facts a prompt may carry: no names, identifiers or exact dates. */
export interface ClinicalSummary {
  /** Kept for callers that read the age in years (capped at 90). */
  readonly ageYears: number | null;
  readonly age: AgeFacts;
  readonly sex: 'male' | 'female' | 'other' | 'unknown';
  readonly sections: Readonly<Record<SectionId, ReadonlyArray<Fact>>>;
  readonly states: Readonly<Record<SectionId, SectionState>>;
  /** Lines left out for length before the prompt is built (caps per section), counted per section. */
  readonly overCap: Readonly<Partial<Record<SectionId, number>>>;
  /** Every resource received that is not a line of the summary, with the reason. */
  readonly leftOut: ReadonlyArray<LeftOut>;
}
