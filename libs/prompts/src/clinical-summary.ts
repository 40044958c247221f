/** The minimal, de-identified facts a prompt may carry: no names, identifiers or exact dates. */
export interface ClinicalSummary {
  readonly ageYears: number | null;
  readonly sex: 'male' | 'female' | 'other' | 'unknown';
  readonly problems: ReadonlyArray<CodedFact>;
  readonly medications: ReadonlyArray<CodedFact>;
  /** What the hook itself carries (draft orders, appointments), handles D1, D2, ... */
  readonly contextItems: ReadonlyArray<CodedFact>;
  /** Reference handles (`P1`, `M2`) the model may cite, mapped back to resource ids only inside cds-hooks. */
  readonly references: ReadonlyMap<string, string>;
}

export interface CodedFact {
  readonly handle: string;
  readonly text: string;
  readonly system?: string;
  readonly code?: string;
}

type Resource = { resourceType?: unknown; id?: unknown };
type Bundle = { resourceType: 'Bundle'; entry?: Array<{ resource?: unknown }> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resourcesOf(value: unknown): Resource[] {
  if (!isRecord(value)) return [];
  if (value.resourceType === 'Bundle') {
    return ((value as Bundle).entry ?? []).map((e) => e.resource).filter(isRecord);
  }
  return [value];
}

function codingFact(handle: string, concept: unknown): CodedFact | null {
  if (!isRecord(concept)) return null;
  const codings = Array.isArray(concept.coding) ? concept.coding.filter(isRecord) : [];
  const first = codings[0];
  const text =
    (typeof concept.text === 'string' && concept.text) ||
    (first && typeof first.display === 'string' && first.display) ||
    null;
  if (!text) return null;
  return {
    handle,
    text: text.slice(0, 200),
    ...(first && typeof first.system === 'string' ? { system: first.system } : {}),
    ...(first && typeof first.code === 'string' ? { code: first.code } : {}),
  };
}

function ageInYears(birthDate: unknown, now: Date): number | null {
  if (typeof birthDate !== 'string' || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return null;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d)) age -= 1;
  // Safe Harbor: ages over 89 are aggregated.
  return age >= 0 ? Math.min(age, 90) : null;
}

function isActive(resource: Record<string, unknown>, field: 'clinicalStatus' | 'status'): boolean {
  const value = resource[field];
  if (typeof value === 'string') return value === 'active';
  if (isRecord(value) && Array.isArray(value.coding)) {
    return value.coding.some((c) => isRecord(c) && c.code === 'active');
  }
  return true;
}

/** The coded concept that says what an order or appointment is, per resource type. */
function orderConcept(r: Record<string, unknown>): unknown {
  if (r.resourceType === 'MedicationRequest') return r.medicationCodeableConcept;
  if (r.resourceType === 'ServiceRequest') return r.code;
  if (r.resourceType === 'NutritionOrder') return isRecord(r.oralDiet) && Array.isArray(r.oralDiet.type) ? r.oralDiet.type[0] : undefined;
  if (r.resourceType === 'Appointment') return Array.isArray(r.serviceType) ? r.serviceType[0] : r.appointmentType;
  return r.code;
}

/**
 * Builds the summary from prefetch (a Patient plus optional Condition / MedicationRequest searchsets) and
 * the resources the hook carries (draft orders, appointments).
 */
export function summarize(
  prefetch: Readonly<Record<string, unknown>>,
  now: Date = new Date(),
  hookResources: ReadonlyArray<Record<string, unknown>> = [],
): ClinicalSummary {
  const all = Object.values(prefetch).flatMap(resourcesOf) as Array<Record<string, unknown>>;
  const patient = all.find((r) => r.resourceType === 'Patient');
  const references = new Map<string, string>();
  const problems: CodedFact[] = [];
  const medications: CodedFact[] = [];
  for (const r of all) {
    if (r.resourceType === 'Condition' && isActive(r, 'clinicalStatus')) {
      const fact = codingFact(`P${problems.length + 1}`, r.code);
      if (fact && !problems.some((p) => p.text === fact.text)) {
        problems.push(fact);
        if (typeof r.id === 'string') references.set(fact.handle, `Condition/${r.id}`);
      }
    }
    if (r.resourceType === 'MedicationRequest' && isActive(r, 'status')) {
      const fact = codingFact(`M${medications.length + 1}`, r.medicationCodeableConcept);
      if (fact && !medications.some((m) => m.text === fact.text)) {
        medications.push(fact);
        if (typeof r.id === 'string') references.set(fact.handle, `MedicationRequest/${r.id}`);
      }
    }
  }
  const contextItems: CodedFact[] = [];
  for (const r of hookResources) {
    const fact = codingFact(`D${contextItems.length + 1}`, orderConcept(r));
    if (!fact) continue;
    contextItems.push(fact);
    if (typeof r.resourceType === 'string' && typeof r.id === 'string') references.set(fact.handle, `${r.resourceType}/${r.id}`);
  }
  const gender = patient?.gender;
  return {
    ageYears: ageInYears(patient?.birthDate, now),
    sex: gender === 'male' || gender === 'female' || gender === 'other' ? gender : 'unknown',
    problems,
    medications,
    contextItems,
    references,
  };
}
