import type { LeftOutReason } from './clinical-summary';
import { ago, asArray, codesOf, concept, isRecord, str, timeOf, type Concept, type Json } from './fhir-values';
import { panelOf } from './lab-panels';
import { convertUnit } from './units';

export interface ObservationFact {
  readonly text: string;
  readonly ref?: string;
  readonly time?: number;
  readonly panel?: string;
}

/** How text enters a line: terminology displays and free text are redacted differently (see Redactor). */
export interface TextPolicy {
  coded(c: Concept, withCode?: boolean): string;
  free(t: string): string;
}

export interface ObservationSummary {
  readonly facts: ObservationFact[];
  /** Observations not shown, by reference, with why. */
  readonly leftOut: Array<{ ref: string; reason: LeftOutReason }>;
}

interface Quantity {
  readonly value: number;
  readonly unit: string;
}

const UCUM_SYSTEM = 'http://unitsofmeasure.org';
const DAY_MS = 86_400_000;
/** Trends are read only between results at least a day and at most two years apart. */
const TREND_WINDOW_MS = 730 * DAY_MS;

function quantity(v: unknown): Quantity | null {
  if (!isRecord(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) return null;
  // The UCUM code is what can be converted; the human `unit` is the fallback.
  const unit = (v.system === UCUM_SYSTEM ? str(v.code) : undefined) ?? str(v.unit) ?? str(v.code) ?? '';
  return { value: v.value, unit };
}

function fmtNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 10 ? 2 : 1).replace(/\.?0+$/, '');
}

function fmt(q: Quantity): string {
  return q.unit ? `${fmtNumber(q.value)} ${q.unit}` : fmtNumber(q.value);
}

interface Reading {
  readonly obs: Json;
  readonly ref: string;
  readonly name: Concept;
  readonly key: string;
  readonly q?: Quantity;
  /** A coded or text result, already redacted. */
  readonly shown?: string;
  readonly range?: { low?: number; high?: number };
  readonly time?: number;
  readonly panel?: string;
}

function rangeOf(r: unknown): { low?: number; high?: number } | undefined {
  if (!isRecord(r)) return undefined;
  const low = quantity(r.low)?.value;
  const high = quantity(r.high)?.value;
  if (low === undefined && high === undefined) return undefined;
  return { ...(low !== undefined ? { low } : {}), ...(high !== undefined ? { high } : {}) };
}

function keyOf(code: unknown, c: Concept): string {
  const loinc = isRecord(code)
    ? asArray(code.coding).find((x) => isRecord(x) && x.system === 'http://loinc.org' && typeof x.code === 'string')
    : undefined;
  return isRecord(loinc) ? String(loinc.code) : (c.code ?? c.text.toLowerCase());
}

/** Observations with a value (also each component, e.g. the two pressures of a blood pressure). */
function readings(obs: Json, ref: string, texts: TextPolicy): Reading[] {
  const c = concept(obs.code);
  if (!c) return [];
  const time =
    timeOf(obs.effectiveDateTime) ??
    timeOf(isRecord(obs.effectivePeriod) ? obs.effectivePeriod.start : undefined) ??
    timeOf(obs.effectiveInstant) ??
    timeOf(obs.issued);
  const base = { obs, ref, ...(time !== undefined ? { time } : {}) };
  const one = (code: unknown, name: Concept, holder: Json, range: unknown): Reading | null => {
    const q = quantity(holder.valueQuantity);
    const coded = concept(holder.valueCodeableConcept);
    const shown = q
      ? undefined
      : coded
        ? texts.coded(coded, false)
        : typeof holder.valueString === 'string'
          ? texts.free(holder.valueString)
          : typeof holder.valueBoolean === 'boolean'
            ? String(holder.valueBoolean)
            : typeof holder.valueInteger === 'number'
              ? String(holder.valueInteger)
              : undefined;
    if (!q && !shown) return null;
    const r = rangeOf(asArray(range).find(isRecord));
    const panel = panelOf(codesOf(code));
    return {
      ...base,
      name,
      key: keyOf(code, name),
      ...(q ? { q } : {}),
      ...(shown ? { shown } : {}),
      ...(r ? { range: r } : {}),
      ...(panel ? { panel } : {}),
    };
  };
  const list: Reading[] = [];
  const own = one(obs.code, c, obs, obs.referenceRange);
  if (own) list.push(own);
  for (const comp of asArray(obs.component).filter(isRecord)) {
    const cc = concept(comp.code);
    const r = cc ? one(comp.code, cc, comp, comp.referenceRange) : null;
    if (r) list.push(r);
  }
  return list;
}

function sameDay(a: number | undefined, b: number | undefined): boolean {
  return a !== undefined && b !== undefined && Math.floor(a / DAY_MS) === Math.floor(b / DAY_MS);
}

function line(series: Reading[], now: Date, perTest: number, texts: TextPolicy): string {
  const latest = series[0]!;
  const value = latest.q ? fmt(latest.q) : (latest.shown ?? '');
  const { low, high } = latest.range ?? {};
  const flag =
    latest.q && high !== undefined && latest.q.value > high
      ? ', high'
      : latest.q && low !== undefined && latest.q.value < low
        ? ', low'
        : '';
  const range = latest.range ? ` (ref ${low ?? ''}-${high ?? ''}${flag})` : '';
  const history = series.slice(1, perTest).map((r) => {
    if (!r.q || !latest.q) return `${r.q ? fmt(r.q) : (r.shown ?? '')} ${ago(r.time, now)}`;
    const v = convertUnit(r.q.value, r.q.unit, latest.q.unit);
    return v === null
      ? `${fmt(r.q)} ${ago(r.time, now)} (other unit, not compared)`
      : `${fmt({ value: v, unit: latest.q.unit })} ${ago(r.time, now)}`;
  });
  const previous = series[1];
  let trend = '';
  if (latest.q && previous?.q && latest.time !== undefined && previous.time !== undefined) {
    const gap = latest.time - previous.time;
    const v = convertUnit(previous.q.value, previous.q.unit, latest.q.unit);
    if (v !== null && gap >= DAY_MS && gap <= TREND_WINDOW_MS)
      trend = latest.q.value > v * 1.05 ? ' (rising)' : latest.q.value < v * 0.95 ? ' (falling)' : ' (stable)';
  }
  const name = texts.coded(latest.name, false);
  return `${name}: ${value}${range}, ${ago(latest.time, now)}${history.length ? `; before: ${history.join(', ')}` : ''}${trend}`;
}

/**
 * Latest value per test with unit, reference range flag, age and trend against the previous comparable value
 * (the trend is what a clinician reads first: an eGFR falling from 60 to 45 matters more than either value).
 * Same-day repeats of a test are one result (duplicate panels); earlier values are converted to the latest
 * one's unit with UCUM, and a value that cannot be converted is shown as is and not compared.
 */
export function observationFacts(
  observations: ReadonlyArray<{ ref: string; obs: Json }>,
  now: Date,
  perTest: number,
  texts: TextPolicy,
): ObservationSummary {
  const byTest = new Map<string, Reading[]>();
  const reasons = new Map<string, LeftOutReason>();
  for (const { ref, obs } of observations) {
    const list = readings(obs, ref, texts);
    if (list.length === 0) reasons.set(ref, concept(obs.code) ? 'unsupported-type' : 'no-code');
    for (const r of list) {
      const series = byTest.get(r.key);
      if (series) series.push(r);
      else byTest.set(r.key, [r]);
    }
  }
  const used = new Set<string>();
  const facts: ObservationFact[] = [];
  for (const series of byTest.values()) {
    const sorted = [...series].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
    const distinct: Reading[] = [];
    for (const r of sorted) {
      const prev = distinct.at(-1);
      if (prev && (sameDay(prev.time, r.time) || (prev.time === undefined && r.time === undefined))) {
        if (!reasons.has(r.ref)) reasons.set(r.ref, 'duplicate');
        continue;
      }
      distinct.push(r);
    }
    distinct.slice(0, perTest).forEach((r) => used.add(r.ref));
    for (const r of distinct.slice(perTest)) if (!reasons.has(r.ref)) reasons.set(r.ref, 'older-value');
    const latest = distinct[0]!;
    facts.push({
      text: line(distinct, now, perTest, texts),
      ref: latest.ref,
      ...(latest.time !== undefined ? { time: latest.time } : {}),
      ...(latest.panel ? { panel: latest.panel } : {}),
    });
  }
  const leftOut = observations
    .filter(({ ref }) => !used.has(ref))
    .map(({ ref }) => ({ ref, reason: reasons.get(ref) ?? 'older-value' }));
  return { facts: facts.sort((a, b) => (b.time ?? 0) - (a.time ?? 0)), leftOut };
}
