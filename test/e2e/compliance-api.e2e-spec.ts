import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AuditEvent, Bundle } from 'fhir/r4';
import { AuditWriter, type AuditRecord } from '@app/audit';
import { startComplianceHarness, type ComplianceHarness } from '../support/compliance-harness';
import { SEEDED_MANIFEST, seedCardWithProvenance, type SeededCard } from '../support/compliance-seed';
import { auditEventErrors, bundleErrors } from '../support/fhir-r4-schema';
import { queryRows } from '../support/postgres';

interface AuditItem {
  id: string;
  recordedAt: string;
  action: string;
  outcome: string;
  actor: string | null;
  clientId: string | null;
  patientRef: string | null;
  hookInstance: string | null;
  requestId: string | null;
}
interface SearchPage {
  items: AuditItem[];
  nextCursor: string | null;
}

const HOOK = '6f2c1d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const ACTIONS = ['hook.invoked', 'fhir.read', 'fhir.search', 'hook.answered', 'feedback.received', 'auth.refused'];

/** The compliance API on the gateway: staff auth, search, FHIR AuditEvent, export, provenance, chain verification. */
describe('compliance API', () => {
  let h: ComplianceHarness;
  let token: string;
  let seeded: SeededCard;
  let requestSeq = 0;

  async function get(
    path: string,
    t: string | null = token,
  ): Promise<{ status: number; text: string; headers: Headers; requestId: string }> {
    const requestId = `compliance-${++requestSeq}-${randomUUID().slice(0, 8)}`;
    const res = await fetch(`${h.url}${path}`, {
      headers: { 'x-request-id': requestId, ...(t ? { authorization: `Bearer ${t}` } : {}) },
    });
    return { status: res.status, text: await res.text(), headers: res.headers, requestId };
  }
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status).toBe(200);
    return JSON.parse(res.text) as T;
  };

  beforeAll(async () => {
    // Compile the R4 schema validators before any request: compiling takes seconds on a loaded machine, long enough
    // for the gateway to close an idle keep-alive socket under a test that compiles between two requests.
    bundleErrors({ resourceType: 'Bundle', type: 'searchset' });
    h = await startComplianceHarness();
    token = await h.staffToken('auditor-1', ['compliance']);
    // Written as cds-hooks would write them (its own login); the gateway's login reads them back.
    const ds = h.cdsHooksDataSource;
    const writer = new AuditWriter(ds, { maxBatch: 64, maxDelayMs: 2 });
    const events: AuditRecord[] = Array.from({ length: 240 }, (_, i) => ({
      action: ACTIONS[Math.floor(i / 3) % ACTIONS.length]!,
      outcome: i % 10 === 5 ? 'refused' : i % 10 === 7 ? 'failure' : 'success',
      service: i % 2 === 0 ? 'cds-hooks' : 'gateway',
      actor: i % 4 === 0 ? `clinician-${i % 3}` : null,
      clientId: `ehr-${i % 2 === 0 ? 'a' : 'b'}`,
      tenant: 'hospital-a',
      patientRef: `Patient/p${i % 3}`,
      requestId: `req-${i}`,
      hookInstance: i % 8 === 0 ? HOOK : null,
      detail: { seq: i },
    }));
    // Two waves a little apart, so time-range filters have something on each side.
    await Promise.all(events.slice(0, 120).map((e) => writer.record(e)));
    await new Promise((r) => setTimeout(r, 30));
    await Promise.all(events.slice(120).map((e) => writer.record(e)));
    seeded = await seedCardWithProvenance(ds, writer, 'Patient/p-prov');
    await writer.close();
  });
  afterAll(async () => h?.stop());

  it('answers 401 without a staff token and 403 without the compliance role', async () => {
    expect((await get('/compliance/audit-events', null)).status).toBe(401);
    expect((await get('/compliance/audit-events', await h.staffToken('admin-1', ['admin']))).status).toBe(403);
    expect((await get('/fhir/AuditEvent', await h.staffToken('admin-1', ['admin']))).status).toBe(403);
  });

  it('pages through a patient search newest first with an opaque cursor, no row twice or missed', async () => {
    const seen: AuditItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: SearchPage = await json<SearchPage>(
        `/compliance/audit-events?patient=${encodeURIComponent('Patient/p1')}&limit=25${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
      if (cursor) expect(cursor).not.toMatch(/^\d+$/);
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(80);
    expect(new Set(seen.map((e) => e.id)).size).toBe(80);
    expect(seen.every((e) => e.patientRef === 'Patient/p1')).toBe(true);
    const ids = seen.map((e) => BigInt(e.id));
    expect(ids.every((id, i) => i === 0 || id < ids[i - 1]!)).toBe(true);
    expect(pages).toBe(4);
  });

  it('filters by client, actor, action, outcome, hook instance and time range', async () => {
    const all = await json<SearchPage>('/compliance/audit-events?limit=500');
    const expectMatch = async (query: string, keep: (e: AuditItem) => boolean) => {
      const page = await json<SearchPage>(`/compliance/audit-events?limit=500&${query}`);
      expect(page.items.map((e) => e.id)).toEqual(all.items.filter(keep).map((e) => e.id));
      expect([query, page.items.length > 0]).toEqual([query, true]);
    };
    await expectMatch('client=ehr-b', (e) => e.clientId === 'ehr-b');
    await expectMatch('actor=clinician-1', (e) => e.actor === 'clinician-1');
    await expectMatch('action=fhir.read,fhir.search', (e) => e.action === 'fhir.read' || e.action === 'fhir.search');
    await expectMatch('outcome=refused', (e) => e.outcome === 'refused');
    await expectMatch(`hookInstance=${HOOK}`, (e) => e.hookInstance === HOOK);
    const mid = all.items.find((e) => e.requestId === 'req-200')!.recordedAt;
    await expectMatch(`to=${encodeURIComponent(mid)}`, (e) => e.recordedAt < mid);
    await expectMatch(
      `from=${encodeURIComponent(mid)}&patient=Patient%2Fp2`,
      (e) => e.recordedAt >= mid && e.patientRef === 'Patient/p2',
    );
    expect((await get('/compliance/audit-events?colour=red')).status).toBe(400);
    expect((await get('/compliance/audit-events?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
    // A cursor past the bigint range: 400, never a database error (and so never its text in the log).
    const overflow = Buffer.from('a1:9999999999999999999').toString('base64url');
    expect((await get(`/compliance/audit-events?cursor=${overflow}`)).status).toBe(400);
  });

  it('audits every search: who, which filters by name, the patient searched for in the row only', async () => {
    const res = await get('/compliance/audit-events?patient=Patient%2Fp0&action=fhir.read');
    expect(res.status).toBe(200);
    const results = (JSON.parse(res.text) as SearchPage).items.length;
    expect(results).toBeGreaterThan(0);
    const rows = await queryRows<{
      action: string;
      actor: string;
      patient_ref: string;
      detail: Record<string, unknown>;
    }>(h.db.url, `SELECT action, actor, patient_ref, detail FROM audit_events WHERE request_id = $1`, [res.requestId]);
    expect(rows).toEqual([
      {
        action: 'compliance.search',
        actor: 'auditor-1',
        patient_ref: 'Patient/p0',
        detail: expect.objectContaining({ filters: 'actions,patient', results, path: '/compliance/audit-events' }),
      },
    ]);
  });

  it('uses an index for every search filter', async () => {
    const c = new Client({ connectionString: h.db.url });
    await c.connect();
    try {
      await c.query('SET enable_seqscan = off');
      for (const [column, value] of [
        ['patient_ref', 'Patient/p1'],
        ['client_id', 'ehr-a'],
        ['actor', 'clinician-1'],
        ['action', 'fhir.read'],
        ['hook_instance', HOOK],
      ] as const) {
        const plan = await c.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT id FROM audit_events WHERE ${column} = $1 AND id < 1000000 ORDER BY id DESC LIMIT 51`,
          [value],
        );
        // Per partition, an index scan on the filtered column, merged in id order: no seq scan, no sort.
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(text).toMatch(
          new RegExp(
            `Index (Only )?Scan( Backward)? using \\w+ on audit_events\\w*[^\\n]*\\n[^\\n]*Index Cond: \\(\\(?${column} =`,
          ),
        );
        expect(text).not.toContain('Seq Scan');
        expect(text).not.toMatch(/->\s+Sort\s/);
      }
    } finally {
      await c.end();
    }
  });

  it('serves FHIR AuditEvent searchsets of valid R4 AuditEvents, BALP-shaped for FHIR reads and searches', async () => {
    const res = await get('/fhir/AuditEvent?patient=p1&date=ge2020-01-01&date=le2100-12-31&_count=30');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    const bundle = JSON.parse(res.text) as Bundle<AuditEvent>;
    expect(bundleErrors(bundle)).toEqual([]);
    expect(bundle.type).toBe('searchset');
    expect(bundle.entry).toHaveLength(30);
    for (const entry of bundle.entry ?? []) expect(auditEventErrors(entry.resource)).toEqual([]);
    const read = bundle.entry!.map((e) => e.resource!).find((r) => r.subtype?.some((s) => s.code === 'read'));
    expect(read).toMatchObject({
      type: { code: 'rest' },
      action: 'R',
      outcome: expect.stringMatching(/^(0|4|8)$/),
      source: { observer: { display: expect.stringMatching(/^meditron-/) } },
      entity: expect.arrayContaining([
        expect.objectContaining({ what: { reference: 'Patient/p1' }, role: expect.objectContaining({ code: '1' }) }),
      ]),
    });
    expect(read!.agent.some((a) => a.requestor)).toBe(true);
    // The next link walks on to the rest.
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBeDefined();
    const rest = JSON.parse((await get(new URL(next!).pathname + new URL(next!).search)).text) as Bundle<AuditEvent>;
    expect(rest.entry).toHaveLength(30);
    const lastOfFirst = Number(bundle.entry!.at(-1)!.resource!.id);
    expect(rest.entry!.every((e) => Number(e.resource!.id) < lastOfFirst)).toBe(true);

    const searches = JSON.parse((await get('/fhir/AuditEvent?action=R&agent=ehr-b')).text) as Bundle<AuditEvent>;
    expect(searches.entry!.length).toBeGreaterThan(0);
    for (const e of searches.entry!) {
      expect(e.resource!.action).toBe('R');
      expect(auditEventErrors(e.resource)).toEqual([]);
    }
    const bad = await get('/fhir/AuditEvent?date=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ resourceType: 'OperationOutcome' });
    expect((await get('/fhir/AuditEvent?name=x')).status).toBe(400);
  });

  it('streams NDJSON and CSV exports of a search, and audits them', async () => {
    const nd = await get('/compliance/audit-events/export?format=ndjson&patient=Patient%2Fp2');
    expect(nd.status).toBe(200);
    expect(nd.headers.get('content-type')).toContain('application/x-ndjson');
    expect(nd.headers.get('content-disposition')).toMatch(/attachment; filename="audit-events-.*\.ndjson"/);
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditItem);
    // The export's own audit row (written before the first byte) is part of what it exports.
    expect(lines[0]).toMatchObject({ action: 'compliance.export', requestId: nd.requestId });
    const [{ p2 }] = (await queryRows<{ p2: number }>(
      h.db.url,
      `SELECT count(*)::int AS p2 FROM audit_events WHERE patient_ref = 'Patient/p2'`,
    )) as [{ p2: number }];
    expect(lines).toHaveLength(p2);
    expect(lines.every((l) => l.patientRef === 'Patient/p2')).toBe(true);

    const csv = await get('/compliance/audit-events/export?format=csv&client=ehr-a&outcome=success');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe(
      'id,recordedAt,action,outcome,service,actor,clientId,tenant,patientRef,requestId,hookInstance,detail,prevHash,hash',
    );
    const [{ n }] = (await queryRows<{ n: number }>(
      h.db.url,
      `SELECT count(*)::int AS n FROM audit_events WHERE client_id = 'ehr-a' AND outcome = 'success'`,
    )) as [{ n: number }];
    expect(rows).toHaveLength(n + 1);
    const audit = await queryRows<{ action: string; detail: Record<string, unknown> }>(
      h.db.url,
      `SELECT action, detail FROM audit_events WHERE request_id = $1`,
      [csv.requestId],
    );
    expect(audit).toEqual([
      { action: 'compliance.export', detail: expect.objectContaining({ format: 'csv', filters: 'client,outcome' }) },
    ]);
  });

  it('shows the provenance of a card: hook call, model, template, prompt hash, backend, raw output, its audit trail', async () => {
    const res = await get(`/compliance/cards/${seeded.cardUuid}/provenance`);
    expect(res.status).toBe(200);
    const p = JSON.parse(res.text) as Record<string, Record<string, unknown> & { length?: number }>;
    expect(p['hookInvocation']).toMatchObject({
      hookInstance: seeded.hookInstance,
      hook: 'patient-view',
      patientRef: 'Patient/p-prov',
    });
    expect(p['inferenceRequest']).toMatchObject({
      model: 'meditron-70b',
      templateVersion: 'patient-view@3',
      promptHash: 'a'.repeat(64),
    });
    expect(p['inferenceResult']).toMatchObject({
      backend: 'vllm-0',
      outputText: expect.stringContaining('Consider INR check'),
    });
    // What the prompt left out of the record, and why, as the manifest recorded it.
    expect(p['contextLeftOut']).toEqual({
      sections: SEEDED_MANIFEST.sections,
      leftOutForLength: { labs: 1 },
      counts: SEEDED_MANIFEST.leftOutCounts,
      resources: SEEDED_MANIFEST.leftOut,
      unlisted: 0,
    });
    expect((p['auditEvents'] as unknown as AuditItem[]).map((e) => e.action)).toEqual([
      'hook.invoked',
      'fhir.search',
      'hook.answered',
    ]);
    expect((await get(`/compliance/cards/${randomUUID()}/provenance`)).status).toBe(404);
    expect((await get('/compliance/cards/not-a-uuid/provenance')).status).toBe(400);
    const audit = await queryRows<{ action: string; patient_ref: string }>(
      h.db.url,
      `SELECT action, patient_ref FROM audit_events WHERE request_id = $1`,
      [res.requestId],
    );
    expect(audit).toEqual([{ action: 'compliance.provenance', patient_ref: 'Patient/p-prov' }]);
  });

  it('reads one event, and verifies the chain, naming a row altered behind the trigger', async () => {
    const page = await json<SearchPage>('/compliance/audit-events?limit=1&action=fhir.read');
    const one = await json<AuditItem>(`/compliance/audit-events/${page.items[0]!.id}`);
    expect(one.id).toBe(page.items[0]!.id);
    expect((await get('/compliance/audit-events/99999999')).status).toBe(404);
    expect((await get('/compliance/audit-events/9999999999999999999')).status).toBe(400);
    expect((await get('/fhir/AuditEvent/9999999999999999999')).status).toBe(400);

    const { checkpoint } = await h.publishChainHead();
    expect(checkpoint).not.toBeNull();
    const ok = await json<{
      valid: boolean;
      rowsChecked: number;
      checkpoints: { status: string; sink: string | null; lastVerified: { keyId: string; headId: string } | null };
    }>('/compliance/audit-chain/verify');
    expect(ok.valid).toBe(true);
    expect(ok.rowsChecked).toBeGreaterThan(240);
    // The gateway signed it (table row, log line, sink file) and verification checked it against both.
    expect(ok.checkpoints).toMatchObject({
      status: 'verified',
      sink: 'file',
      lastVerified: { keyId: 'test-checkpoint-key', headId: checkpoint!.headId },
    });
    const [verified] = await queryRows<{ detail: Record<string, unknown> }>(
      h.db.url,
      `SELECT detail FROM audit_events WHERE action = 'compliance.chain.verified' ORDER BY id DESC LIMIT 1`,
    );
    expect(verified?.detail).toMatchObject({ checkpoints: 'verified', lastCheckpointId: checkpoint!.headId });

    const victim = page.items[0]!.id;
    const c = new Client({ connectionString: h.db.url });
    await c.connect();
    await c.query('SET session_replication_role = replica');
    await c.query(`UPDATE audit_events SET outcome = 'failure' WHERE id = $1`, [victim]);
    await c.query('SET session_replication_role = origin');
    await c.end();
    const broken = await json<{ valid: boolean; firstBreak: { id: string; reason: string } }>(
      '/compliance/audit-chain/verify',
    );
    expect(broken.valid).toBe(false);
    expect(broken.firstBreak).toMatchObject({ id: victim, reason: 'content_hash_mismatch' });
  });
});
