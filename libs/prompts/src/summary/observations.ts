import { ago, asArray, concept, isRecord, str, timeOf, type Json } from './fhir-values';

export interface ObservationFact {
  readonly text: string;
  readonly ref?: string;
  readonly time?: number;
}

function quantity(v: unknown): { value: number; unit: string } | null {
  if (!isRecord(v) || typeof v.value !== 'number') return null;
  return { value: v.value, unit: str(v.unit) ?? str(v.code) ?? '' };
}

function fmt(q: { value: number; unit: string }): string {
  const n = Number.isInteger(q.value)
    ? String(q.value)
    : q.value.toFixed(Math.abs(q.value) < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return q.unit ? `${n} ${q.unit}` : n;
}

function rangeOf(obs: Json): { low?: number; high?: number } {
  const r = asArray(obs.referenceRange).find(isRecord);
  if (!r) return {};
  const low = quantity(r.low)?.value;
  const high = quantity(r.high)?.value;
  return { ...(low !== undefined ? { low } : {}), ...(high !== undefined ? { high } : {}) };
}

interface Reading {
  readonly obs: Json;
  readonly name: string;
  readonly key: string;
  readonly q: { value: number; unit: string };
  readonly time?: number;
}

/** Observations with a numeric value (also each numeric component, e.g. blood pressure). */
function readings(obs: Json): Reading[] {
  const c = concept(obs.code);
  if (!c) return [];
  const time =
    timeOf(obs.effectiveDateTime) ??
    timeOf(isRecord(obs.effectivePeriod) ? obs.effectivePeriod.start : undefined) ??
    timeOf(obs.issued);
  const own = quantity(obs.valueQuantity);
  const list: Reading[] = own
    ? [{ obs, name: c.text, key: c.code ?? c.text, q: own, ...(time !== undefined ? { time } : {}) }]
    : [];
  for (const comp of asArray(obs.component).filter(isRecord)) {
    const cc = concept(comp.code);
    const q = quantity(comp.valueQuantity);
    if (cc && q) list.push({ obs, name: cc.text, key: cc.code ?? cc.text, q, ...(time !== undefined ? { time } : {}) });
  }
  return list;
}

/**
 * Latest value per test with unit, reference range flag, age and trend against the previous value
 * (the trend is what a clinician reads first: an eGFR falling from 60 to 45 matters more than either value).
 */
export function observationFacts(observations: ReadonlyArray<Json>, now: Date, perTest = 3): ObservationFact[] {
  const byTest = new Map<string, Reading[]>();
  for (const r of observations.flatMap(readings)) byTest.set(r.key, [...(byTest.get(r.key) ?? []), r]);
  const facts: ObservationFact[] = [];
  for (const series of byTest.values()) {
    const sorted = [...series].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
    const latest = sorted[0]!;
    const range = rangeOf(latest.obs);
    const flag =
      range.high !== undefined && latest.q.value > range.high
        ? ', high'
        : range.low !== undefined && latest.q.value < range.low
          ? ', low'
          : '';
    const ref =
      range.low !== undefined || range.high !== undefined ? ` (ref ${range.low ?? ''}-${range.high ?? ''}${flag})` : '';
    const history = sorted.slice(1, perTest).map((r) => `${fmt(r.q)} ${ago(r.time, now)}`);
    const previous = sorted[1];
    const trend =
      previous && previous.q.unit === latest.q.unit
        ? latest.q.value > previous.q.value * 1.05
          ? 'rising'
          : latest.q.value < previous.q.value * 0.95
            ? 'falling'
            : 'stable'
        : undefined;
    const id = str(latest.obs.id);
    facts.push({
      text: `${latest.name}: ${fmt(latest.q)}${ref}, ${ago(latest.time, now)}${history.length ? `; before: ${history.join(', ')}` : ''}${trend ? ` (${trend})` : ''}`,
      ...(id ? { ref: `Observation/${id}` } : {}),
      ...(latest.time !== undefined ? { time: latest.time } : {}),
    });
  }
  return facts.sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
}

export function isCategory(obs: Json, code: string): boolean {
  return asArray(obs.category).some(
    (c) => isRecord(c) && asArray(c.coding).some((x) => isRecord(x) && x.code === code),
  );
}
