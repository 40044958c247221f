import { BadRequestException } from '@nestjs/common';
import type { AuditSearchFilters } from '../search/audit-search.filters';
import { actionsForCode, type FhirActionCode } from './audit-event.fhir';

export interface FhirAuditSearch {
  readonly filters: AuditSearchFilters;
  readonly count: number;
  readonly cursor?: string;
}

const KNOWN = new Set(['patient', 'date', 'agent', 'action', 'subtype', 'outcome', '_count', '_cursor']);
const DATE = /^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const OUTCOMES: Readonly<Record<string, AuditSearchFilters['outcome']>> = {
  '0': 'success',
  '4': 'refused',
  '8': 'failure',
};

const bad = (reason: string) => new BadRequestException(reason);

function one(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw bad(`invalid_${name.replace(/^_/, '')}`);
  return v;
}

/** The period a FHIR date value stands for, at its own precision: [start, end). */
function period(value: string): { start: Date; end: Date } {
  const m = DATE.exec(value);
  if (!m) throw bad('invalid_date');
  const [, , day, time, seconds, fraction] = m;
  const start = new Date(time ? `${day}${time}` : `${day}T00:00:00Z`);
  if (Number.isNaN(start.getTime())) throw bad('invalid_date');
  const step = !time ? 86_400_000 : !seconds ? 60_000 : fraction ? 1 : 1000;
  return { start, end: new Date(start.getTime() + step) };
}

/** FHIR AuditEvent search parameters (patient, date with prefixes, agent, action, subtype, outcome, _count). */
export function parseFhirAuditSearch(query: Record<string, unknown>): FhirAuditSearch {
  for (const key of Object.keys(query)) if (!KNOWN.has(key)) throw bad('unsupported_parameter');
  let from: Date | undefined;
  let to: Date | undefined;
  const dates = query['date'] === undefined ? [] : Array.isArray(query['date']) ? query['date'] : [query['date']];
  for (const raw of dates) {
    if (typeof raw !== 'string') throw bad('invalid_date');
    const prefix = raw.slice(0, 2);
    const { start, end } = period(raw);
    const lower =
      prefix === 'gt' ? end : prefix === 'ge' || prefix === 'eq' || !/^[a-z]{2}$/.test(prefix) ? start : undefined;
    const upper =
      prefix === 'lt' ? start : prefix === 'le' || prefix === 'eq' || !/^[a-z]{2}$/.test(prefix) ? end : undefined;
    if (lower && (!from || lower > from)) from = lower;
    if (upper && (!to || upper < to)) to = upper;
  }
  const patient = one(query['patient'], 'patient');
  const action = one(query['action'], 'action');
  if (action !== undefined && !/^[CRUDE]$/.test(action)) throw bad('invalid_action');
  const subtype = one(query['subtype'], 'subtype');
  const outcomeCode = one(query['outcome'], 'outcome');
  if (outcomeCode !== undefined && !OUTCOMES[outcomeCode]) throw bad('invalid_outcome');
  const countRaw = one(query['_count'], '_count') ?? '50';
  const count = Number(countRaw);
  if (!Number.isInteger(count) || count < 1 || count > 500) throw bad('invalid_count');
  const agent = one(query['agent'], 'agent');
  const cursor = one(query['_cursor'], '_cursor');

  const filters: AuditSearchFilters = {
    ...(patient ? { patient: patient.includes('/') ? patient : `Patient/${patient}` } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(agent ? { agent } : {}),
    ...(action ? actionsForCode(action as FhirActionCode) : {}),
    ...(subtype
      ? { actions: intersect(subtype.split(','), action ? actionsForCode(action as FhirActionCode) : {}) }
      : {}),
    ...(outcomeCode ? { outcome: OUTCOMES[outcomeCode] } : {}),
  };
  return { filters, count, ...(cursor ? { cursor } : {}) };
}

/** `subtype` narrowed by `action`, so both can be given together. */
function intersect(subtypes: string[], byCode: { actions?: string[]; excludeActions?: string[] }): string[] {
  return subtypes.filter(
    (s) => (!byCode.actions || byCode.actions.includes(s)) && !(byCode.excludeActions ?? []).includes(s),
  );
}
