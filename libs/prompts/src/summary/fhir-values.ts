/** Small readers over untyped FHIR JSON (prefetch is input: never trusted to match the R4 types). */

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Resources of a prefetch value: a Bundle's entries (and their contained resources) or a lone resource. */
export function resourcesOf(value: unknown): Json[] {
  if (!isRecord(value)) return [];
  const list =
    value.resourceType === 'Bundle'
      ? asArray(value.entry)
          .map((e) => (isRecord(e) ? e.resource : undefined))
          .filter(isRecord)
      : [value];
  return list.flatMap((r) => [r, ...asArray(r.contained).filter(isRecord)]);
}

export interface Concept {
  readonly text: string;
  readonly system?: string;
  readonly code?: string;
  /**
   * The text is a coding's display from a terminology (RxNorm, SNOMED CT, LOINC, ...), not typed by a person:
   * it is spared the identifier-shape patterns that would mangle product codes ("NDA020800 0.3 ML ...").
   */
  readonly terminology: boolean;
}

/** The human text and first coding of a CodeableConcept. */
export function concept(value: unknown): Concept | null {
  if (!isRecord(value)) return null;
  const codings = asArray(value.coding).filter(isRecord);
  const first = codings[0];
  const display = first && typeof first.display === 'string' && first.display ? first.display : null;
  const text = display ?? (typeof value.text === 'string' && value.text ? value.text : null);
  if (!text) return null;
  const system = first && typeof first.system === 'string' ? first.system : undefined;
  return {
    text,
    ...(system ? { system } : {}),
    ...(first && typeof first.code === 'string' ? { code: first.code } : {}),
    terminology: display !== null && system !== undefined && /^https?:\/\//.test(system),
  };
}

/** Every coding code of a CodeableConcept (any system), for matching against code lists. */
export function codesOf(value: unknown): string[] {
  if (!isRecord(value)) return [];
  return asArray(value.coding)
    .filter(isRecord)
    .flatMap((c) => (typeof c.code === 'string' ? [c.code] : []));
}

/** The code of a status that is a code string or a CodeableConcept; undefined when absent. */
export function statusCode(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (!isRecord(v)) return undefined;
  const c = asArray(v.coding).find((x) => isRecord(x) && typeof x.code === 'string');
  return isRecord(c) ? String(c.code) : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Whether a status (code string or CodeableConcept) says active. Missing status counts as active. */
export function isActive(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v === 'string') return v === 'active';
  return isRecord(v) && asArray(v.coding).some((c) => isRecord(c) && c.code === 'active');
}

/** Epoch ms of a FHIR date/dateTime, or undefined. */
export function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v.length === 4 ? `${v}-01-01` : v.length === 7 ? `${v}-01` : v);
  return Number.isNaN(t) ? undefined : t;
}

/** Relative time instead of a date (Safe Harbor: no dates more precise than the year). */
export function ago(time: number | undefined, now: Date): string {
  if (time === undefined) return 'date unknown';
  const days = Math.round((now.getTime() - time) / 86_400_000);
  if (days < 0) return 'scheduled';
  if (days === 0) return 'today';
  if (days < 60) return `${days} days ago`;
  if (days < 730) return `${Math.round(days / 30)} months ago`;
  return `${Math.round(days / 365)} years ago`;
}
