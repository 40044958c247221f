import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Reference } from 'fhir/r4';
import type { AuditEventView } from '../search/audit-event.view';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ACTION_SYSTEM = 'urn:meditron:audit-action';

/** FHIR AuditEvent.action codes; every action not listed is an Execute. */
const ACTION_CODES: Readonly<Record<string, 'C' | 'R' | 'U' | 'D'>> = {
  'fhir.read': 'R',
  'compliance.read': 'R',
  'compliance.provenance': 'R',
  'feedback.received': 'C',
};

export type FhirActionCode = 'C' | 'R' | 'U' | 'D' | 'E';

export function fhirActionCode(action: string): FhirActionCode {
  return ACTION_CODES[action] ?? 'E';
}

/** Our actions with a given FHIR action code: a filter on `action` in SQL (E = everything not listed). */
export function actionsForCode(code: FhirActionCode): { actions?: string[]; excludeActions?: string[] } {
  if (code === 'E') return { excludeActions: Object.keys(ACTION_CODES) };
  return {
    actions: Object.entries(ACTION_CODES)
      .filter(([, c]) => c === code)
      .map(([a]) => a),
  };
}

function typeOf(action: string): { type: Coding; subtype: Coding[] } {
  const ours: Coding = { system: ACTION_SYSTEM, code: action };
  if (action === 'fhir.read' || action === 'fhir.search') {
    // IHE BALP Read / Query: a RESTful operation with its interaction as subtype.
    const interaction = action === 'fhir.read' ? 'read' : 'search-type';
    return {
      type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
      subtype: [{ system: RESTFUL, code: interaction }, ours],
    };
  }
  if (action.endsWith('.refused')) {
    return { type: { system: DCM, code: '110113', display: 'Security Alert' }, subtype: [ours] };
  }
  if (action.startsWith('compliance.')) {
    return { type: { system: DCM, code: '110112', display: 'Query' }, subtype: [ours] };
  }
  return { type: { system: DCM, code: '110100', display: 'Application Activity' }, subtype: [ours] };
}

const OUTCOME: Readonly<Record<AuditEventView['outcome'], '0' | '4' | '8'>> = {
  success: '0',
  refused: '4',
  failure: '8',
};

function agents(e: AuditEventView): AuditEventAgent[] {
  const list: AuditEventAgent[] = [];
  if (e.actor) {
    list.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
      who: { identifier: { system: 'urn:meditron:staff', value: e.actor } },
      requestor: true,
    });
  }
  if (e.clientId) {
    list.push({
      type: { coding: [{ system: DCM, code: '110150', display: 'Application' }] },
      who: { identifier: { system: 'urn:meditron:ehr-client', value: e.clientId } },
      requestor: list.length === 0,
    });
  }
  if (list.length === 0) {
    // System-initiated (inference, retention): the service itself asked.
    list.push({ who: { display: `meditron-${e.service}` }, requestor: true });
  }
  return list;
}

function entities(e: AuditEventView): AuditEventEntity[] {
  const list: AuditEventEntity[] = [];
  if (e.patientRef) {
    list.push({
      what: { reference: e.patientRef },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  const detail = Object.entries(e.detail)
    .filter(([, v]) => v !== null)
    .map(([type, v]) => ({ type, valueString: String(v) }));
  const query = e.action === 'fhir.search' || e.action.startsWith('compliance.');
  if (e.requestId || e.hookInstance || detail.length > 0) {
    const what: Reference = {};
    if (e.requestId) what.identifier = { system: 'urn:meditron:request-id', value: e.requestId };
    if (e.hookInstance) what.display = `hookInstance ${e.hookInstance}`;
    list.push({
      ...(e.requestId || e.hookInstance ? { what } : {}),
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      ...(query
        ? { role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' } }
        : {}),
      ...(detail.length > 0 ? { detail } : {}),
    });
  }
  return list;
}

/** An audit row as an R4 AuditEvent (shaped like IHE BALP Read/Query for FHIR reads and searches). */
export function toFhirAuditEvent(e: AuditEventView): AuditEvent {
  const { type, subtype } = typeOf(e.action);
  const entity = entities(e);
  const reason = typeof e.detail['reason'] === 'string' ? e.detail['reason'] : undefined;
  return {
    resourceType: 'AuditEvent',
    id: e.id,
    type,
    subtype,
    action: fhirActionCode(e.action),
    recorded: e.recordedAt,
    outcome: OUTCOME[e.outcome],
    ...(reason ? { outcomeDesc: reason } : {}),
    agent: agents(e),
    source: {
      ...(e.tenant ? { site: e.tenant } : {}),
      observer: { display: `meditron-${e.service}` },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    ...(entity.length > 0 ? { entity } : {}),
  };
}
