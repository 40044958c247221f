import type { Concept } from './fhir-values';
import type { LeftOutReason, SectionId } from './clinical-summary';

/** A line before de-duplication and capping: its text, the resource it came from, when, and its lab panel. */
export type Draft = { text: string; ref?: string; time?: number; panel?: string };

/** Records a resource that did not become a line, with the reason (and counts what the caps cut). */
export type LeaveOut = (ref: string | undefined, section: SectionId | null, reason: LeftOutReason) => void;

/** How text enters the summary: coded concepts (with or without their code) and redacted free text. */
export interface SummaryText {
  readonly coded: (c: Concept, withCode?: boolean) => string;
  /** A concept read as words, without its code (dosage route, timing). */
  readonly named: (c: Concept) => string;
  readonly free: (t: string) => string;
}

export function newestFirst<T extends { time?: number }>(list: T[]): T[] {
  return [...list].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
}
