/**
 * Test support: a fixture chart, changed by a real-world variant, answered as the EHR would answer each service's
 * prefetch, resolved by the real resolver and summarised for one hook. Shared by the fidelity and token-count specs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePrefetch } from '@app/fhir';
import { summarize } from '../summary/summarize';
import type { ClinicalSummary } from '../summary/clinical-summary';
import type { PromptHook } from '../templates/hook-templates';
import { answerPrefetch, bundleResources } from './ehr-answer';
import type { Variant } from './variants';

type Json = Record<string, unknown>;

/** "Now" for every summary, so ages and recency do not drift with the calendar. */
export const SUMMARY_NOW = new Date('2021-06-01T00:00:00Z');

const REPO = join(__dirname, '..', '..', '..', '..');
const SERVICES = (
  JSON.parse(readFileSync(join(REPO, 'apps/cds-hooks/config/cds-services.json'), 'utf8')) as {
    services: Array<{ hook: PromptHook; prefetch: Record<string, string> }>;
  }
).services;

const DRAFT: Json = {
  resourceType: 'MedicationRequest',
  id: 'draft-1',
  status: 'draft',
  medicationCodeableConcept: {
    coding: [
      {
        system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
        code: '197806',
        display: 'Ibuprofen 600 MG Oral Tablet',
      },
    ],
  },
  dosageInstruction: [
    {
      doseAndRate: [{ doseQuantity: { value: 600, unit: 'mg' } }],
      route: { coding: [{ system: 'http://snomed.info/sct', code: '26643006', display: 'Oral route' }] },
      timing: { repeat: { frequency: 3, period: 1, periodUnit: 'd' } },
    },
  ],
};
const APPOINTMENT: Json = {
  resourceType: 'Appointment',
  id: 'appt-1',
  status: 'proposed',
  serviceType: [{ coding: [{ system: 'http://snomed.info/sct', code: '394579002', display: 'Cardiology' }] }],
};

/** The chart (resources) of a Synthea bundle file, as the variant changes it. */
export function variantChart(bundleFile: string, variant: Variant): Json[] {
  const resources = bundleResources(JSON.parse(readFileSync(bundleFile, 'utf8')) as Json);
  return (variant.chart ?? ((r) => r))(resources);
}

/** The hook's summary of that chart: the EHR's prefetch answer, the real resolver, the hook's own resources. */
export async function variantSummary(chart: Json[], variant: Variant, hook: PromptHook): Promise<ClinicalSummary> {
  const service = SERVICES.find((s) => s.hook === hook)!;
  const sent = (variant.prefetch ?? ((p) => p))(answerPrefetch(service.prefetch, chart));
  // The real resolver decides what is usable and what is unavailable (no FHIR server to fall back to here).
  const resolved = await resolvePrefetch({
    templates: service.prefetch,
    hookContext: { patientId: 'p' },
    prefetch: sent,
    fhirServerAllowed: false,
    timeoutMs: 1000,
    maxPages: 1,
  });
  const hookResources = hook.startsWith('order') ? [DRAFT] : hook === 'appointment-book' ? [APPOINTMENT] : [];
  return summarize(resolved.data, SUMMARY_NOW, hookResources, {
    templates: service.prefetch,
    unavailable: resolved.unavailable.map((u) => u.key),
  });
}
