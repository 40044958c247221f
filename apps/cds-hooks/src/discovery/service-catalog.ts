/** A CDS service as discovery advertises it (CDS Hooks 2.0 §Discovery). */
export interface CdsServiceDefinition {
  readonly id: string;
  readonly hook: string;
  readonly title: string;
  readonly description: string;
  readonly prefetch: Readonly<Record<string, string>>;
  readonly usageRequirements?: string;
}

/** Prefetch asks for exactly what the prompt uses. */
export const defaultServices: ReadonlyArray<CdsServiceDefinition> = [
  {
    id: 'meditron-patient-view',
    hook: 'patient-view',
    title: 'Meditron chart review (AI-generated)',
    description:
      'Reviews active problems and medications with the Meditron language model and suggests findings for the clinician. AI-generated; verify before acting.',
    prefetch: {
      patient: 'Patient/{{context.patientId}}',
      conditions: 'Condition?patient={{context.patientId}}&clinical-status=active',
      medications: 'MedicationRequest?patient={{context.patientId}}&status=active',
    },
  },
];
