import { asArray, concept, isRecord, str, type Concept, type Json } from './fhir-values';

const PERIOD_UNITS: Readonly<Record<string, string>> = {
  s: 'second',
  min: 'minute',
  h: 'hour',
  d: 'day',
  wk: 'week',
  mo: 'month',
  a: 'year',
};

function num(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

function qty(v: unknown): string | undefined {
  if (!isRecord(v)) return undefined;
  const n = num(v.value);
  if (!n) return undefined;
  const unit = str(v.unit) ?? str(v.code);
  return unit ? `${n} ${unit}` : n;
}

function dose(d: Json): string | undefined {
  for (const dr of asArray(d.doseAndRate).filter(isRecord)) {
    const q = qty(dr.doseQuantity);
    if (q) return q;
    if (isRecord(dr.doseRange)) {
      const low = qty(dr.doseRange.low);
      const high = qty(dr.doseRange.high);
      if (low || high) return `${low ?? '?'} to ${high ?? '?'}`;
    }
  }
  return undefined;
}

function frequency(timing: unknown, coded: (c: Concept) => string): string | undefined {
  if (!isRecord(timing)) return undefined;
  const r = isRecord(timing.repeat) ? timing.repeat : undefined;
  if (r) {
    const freq = typeof r.frequency === 'number' ? r.frequency : 1;
    const max = typeof r.frequencyMax === 'number' ? `-${r.frequencyMax}` : '';
    const period = typeof r.period === 'number' ? r.period : undefined;
    const unit = PERIOD_UNITS[String(r.periodUnit)];
    if (period !== undefined && unit) {
      const per = period === 1 ? `per ${unit}` : `every ${period} ${unit}s`;
      const times = freq === 1 && !max ? (period === 1 ? `once ${per}` : per) : `${freq}${max} times ${per}`;
      return times;
    }
    const when = asArray(r.when).filter((w): w is string => typeof w === 'string');
    if (when.length) return `at ${when.join(', ')}`;
  }
  const code = concept(timing.code);
  return code ? coded(code) : undefined;
}

/**
 * A dosage instruction in words: dose, route, frequency and as-needed, from the structured fields
 * (`doseAndRate`, `route`, `timing.repeat`, `asNeeded[x]`); the sig text when nothing is structured.
 * Every part changes the clinical question (and so the prompt's hash: a changed dose is a new question).
 */
export function dosageText(r: Json, coded: (c: Concept) => string, free: (t: string) => string): string | undefined {
  const list = asArray(r.dosageInstruction ?? r.dosage).filter(isRecord);
  const parts = list.map((d) => {
    const route = concept(d.route);
    const asNeededFor = concept(d.asNeededCodeableConcept);
    const structured = [
      dose(d),
      route ? coded(route) : undefined,
      frequency(d.timing, coded),
      d.asNeededBoolean === true ? 'as needed' : asNeededFor ? `as needed for ${coded(asNeededFor)}` : undefined,
    ].filter((x): x is string => !!x);
    const text = str(d.text);
    if (structured.length === 0) return text ? free(text) : undefined;
    return structured.join(' ');
  });
  const shown = parts.filter((x): x is string => !!x);
  return shown.length ? shown.join('; then ') : undefined;
}
