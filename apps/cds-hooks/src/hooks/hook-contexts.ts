import { z } from 'zod';
import type { SupportedHook } from '../discovery/service-catalog';

/** A FHIR reference-like id: `Type/id` for users, a bare id for patients and encounters. */
const id = z.string().min(1).max(256);

/** Real EHRs send order Bundles without `type` (and sometimes without entries): accept them. */
const fhirBundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.string().optional(),
  entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string() }).optional() })).optional(),
});

/** appointment-book: the 1.0 hook text sends a Bundle; early EHRs (and STU3 examples) a bare array. Both become a Bundle. */
const appointments = z.union([
  fhirBundle,
  z.array(z.looseObject({ resourceType: z.string() })).transform((resources) => ({
    resourceType: 'Bundle' as const,
    type: 'collection',
    entry: resources.map((resource) => ({ resource })),
  })),
]);

const base = { userId: id, patientId: id };

/** Required context per hook (CDS Hooks library, hooks STU1 and 2.0). Extra fields are kept. */
export const hookContextSchemas = {
  'patient-view': z.looseObject({ ...base, encounterId: id.optional() }),
  'order-select': z.looseObject({
    ...base,
    encounterId: id.optional(),
    selections: z.array(z.string().min(1)).min(1),
    draftOrders: fhirBundle,
  }),
  'order-sign': z.looseObject({ ...base, encounterId: id.optional(), draftOrders: fhirBundle }),
  'encounter-start': z.looseObject({ ...base, encounterId: id }),
  'encounter-discharge': z.looseObject({ ...base, encounterId: id }),
  'appointment-book': z.looseObject({ ...base, encounterId: id.optional(), appointments }),
} satisfies Record<SupportedHook, z.ZodType>;

export type HookContext = z.infer<(typeof hookContextSchemas)[SupportedHook]>;

/** The resources the hook itself carries (draft orders, appointments), for the prompt. */
export function contextResources(context: HookContext): Array<Record<string, unknown>> {
  const bundle =
    'draftOrders' in context ? context.draftOrders : 'appointments' in context ? context.appointments : undefined;
  if (!bundle || typeof bundle !== 'object' || !('entry' in bundle) || !Array.isArray(bundle.entry)) return [];
  return bundle.entry.flatMap((e: { resource?: Record<string, unknown> }) => (e.resource ? [e.resource] : []));
}
