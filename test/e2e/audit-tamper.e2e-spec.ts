import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client, DatabaseError } from 'pg';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import {
  AuditChainVerifier,
  AuditWriter,
  ChainHeadPublisher,
  FileCheckpointSink,
  loadSigningKey,
  verifyCheckpoints,
  type CheckpointSigningKey,
} from '@app/audit';
import { AuditChainRepository, type AuditCheckpoint } from '@app/database';
import { startAuditDatabase, type AuditTestDatabase } from '../support/audit-db';

const newKey = (keyId: string): CheckpointSigningKey =>
  loadSigningKey(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId);

/**
 * Re-writes one row's patient and recomputes the chain after it with the database's own hash function, then moves
 * the head: the chain is internally consistent again. Issue 14's tamper script.
 */
const rewriteAndRechain = (id: string) => `
  DO $$ DECLARE r record; h text; BEGIN
    SELECT hash INTO h FROM audit_events WHERE id < ${id} ORDER BY id DESC LIMIT 1;
    FOR r IN SELECT * FROM audit_events WHERE id >= ${id} ORDER BY id LOOP
      UPDATE audit_events SET
        patient_ref = CASE WHEN r.id = ${id} THEN 'Patient/someone-else' ELSE r.patient_ref END,
        prev_hash = h,
        hash = audit_event_hash(h, r.id, r.recorded_at, r.action, r.outcome, r.service, r.actor, r.client_id,
          r.tenant, CASE WHEN r.id = ${id} THEN 'Patient/someone-else' ELSE r.patient_ref END, r.request_id,
          r.hook_instance, r.detail)
      WHERE id = r.id RETURNING hash INTO h;
    END LOOP;
    UPDATE audit_chain_tail SET hash = h, at = now() WHERE id = (SELECT max(id) FROM audit_chain_tail);
  END $$`;

async function runAs(url: string, statements: string[]): Promise<Array<{ sql: string; error: DatabaseError | null }>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const out: Array<{ sql: string; error: DatabaseError | null }> = [];
  try {
    for (const sql of statements) {
      try {
        await c.query(sql);
        out.push({ sql, error: null });
      } catch (e) {
        if (!(e instanceof DatabaseError)) throw e;
        out.push({ sql, error: e });
      }
    }
  } finally {
    await c.end();
  }
  return out;
}

describe('audit trail: the database login cannot rewrite it; a superuser rewrite is named by signed checkpoints', () => {
  let t: AuditTestDatabase;
  let gateway: DataSource;
  let repo: AuditChainRepository;
  let writer: AuditWriter;
  const dir = mkdtempSync(join(tmpdir(), 'meditron-checkpoints-'));
  const sink = new FileCheckpointSink(join(dir, 'checkpoints.jsonl'));
  const keyA = newKey('key-2026-a');
  const keyB = newKey('key-2026-b');
  const both = new Map([
    [keyA.keyId, keyA.publicKey],
    [keyB.keyId, keyB.publicKey],
  ]);
  const checkpoints: AuditCheckpoint[] = [];

  const write = async (n: number, from: number) => {
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        writer.record({
          action: 'fhir.read',
          outcome: 'success',
          service: 'gateway',
          patientRef: `Patient/t-${(from + i) % 5}`,
          detail: { i: from + i },
        }),
      ),
    );
  };
  const checkpoint = async (key: CheckpointSigningKey) => {
    const publisher = new ChainHeadPublisher(repo, {
      intervalMs: 60_000,
      registry: new Registry(),
      signingKey: key,
      sink,
    });
    const { checkpoint: c } = await publisher.publish();
    if (!c) throw new Error('no checkpoint signed');
    checkpoints.push(c);
    return c;
  };
  const verify = (opts: { sink?: boolean; keys?: typeof both } = {}) =>
    new AuditChainVerifier(repo, { publicKeys: opts.keys ?? both, ...(opts.sink === false ? {} : { sink }) }).verify();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await startAuditDatabase('audit_tamper');
    gateway = await t.open('audit-gateway', t.runtime.gateway);
    repo = new AuditChainRepository(gateway);
    writer = new AuditWriter(gateway, { maxBatch: 16, maxDelayMs: 2 });
  });
  afterAll(async () => {
    await writer?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs checkpoints as the gateway login; a valid chain verifies and reports the last checkpoint', async () => {
    await write(20, 0);
    const first = await checkpoint(keyA);
    await write(20, 20);
    await checkpoint(keyA);
    await write(20, 40);
    const third = await checkpoint(keyA);
    expect(Number(third.headId)).toBeGreaterThan(Number(first.headId));

    const result = await verify();
    expect(result).toMatchObject({ valid: true, firstBreak: null, rowsChecked: 60 });
    expect(result.checkpoints).toMatchObject({
      status: 'verified',
      checked: 3,
      failures: [],
      sink: 'file',
      notInSink: 0,
    });
    expect(result.checkpoints.lastVerified).toMatchObject({
      keyId: 'key-2026-a',
      headId: third.headId,
      headHash: third.headHash,
    });
    expect((await sink.readAll()).map((c) => c.headId)).toEqual(checkpoints.map((c) => c.headId));
  });

  it('after a key rotation, old checkpoints still verify with the old public key', async () => {
    await write(10, 60);
    const rotated = await checkpoint(keyB);
    const result = await verify();
    expect(result.checkpoints).toMatchObject({ status: 'verified', checked: 4, failures: [] });
    expect(result.checkpoints.lastVerified).toMatchObject({ keyId: 'key-2026-b', headId: rotated.headId });
    // Without the old public key, the old checkpoints cannot be vouched for: they are named, not skipped.
    const newOnly = await verify({ keys: new Map([[keyB.keyId, keyB.publicKey]]) });
    expect(newOnly.valid).toBe(false);
    expect(newOnly.checkpoints.failures.map((f) => [f.checkpoint.keyId, f.reason])).toEqual([
      ['key-2026-a', 'unknown_key'],
      ['key-2026-a', 'unknown_key'],
      ['key-2026-a', 'unknown_key'],
    ]);
  });

  it('keeps the routines that write as the owner SECURITY DEFINER with a fixed search_path', async () => {
    // A later CREATE OR REPLACE of one of these drops both attributes: the apps could no longer append.
    const routines = await t.ds.query(
      `SELECT proname AS name, prosecdef AS definer, proconfig AS config FROM pg_proc
       WHERE proname IN ('audit_events_chain', 'audit_events_ensure_partitions', 'audit_retention_purge') ORDER BY 1`,
    );
    expect(routines).toEqual(
      ['audit_events_chain', 'audit_events_ensure_partitions', 'audit_retention_purge'].map((name) => ({
        name,
        definer: true,
        config: ['search_path=public, pg_temp'],
      })),
    );
  });

  it('refuses the tamper script to the gateway login at every step (permission denied)', async () => {
    const [{ id, partition }] = (await t.ds.query(
      `SELECT id::text AS id, tableoid::regclass::text AS partition FROM audit_events ORDER BY id LIMIT 1`,
    )) as [{ id: string; partition: string }];
    const steps = [
      `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
      `ALTER TABLE audit_events DISABLE TRIGGER ALL`,
      `DROP TRIGGER audit_events_chain ON audit_events`,
      `SET session_replication_role = replica`,
      `UPDATE audit_events SET patient_ref = 'Patient/someone-else' WHERE id = ${id}`,
      `DELETE FROM audit_events WHERE id = ${id}`,
      `TRUNCATE audit_events`,
      `ALTER TABLE audit_events DETACH PARTITION ${partition}`,
      `INSERT INTO ${partition} (id, recorded_at, action, outcome, service, prev_hash, hash)
       VALUES (1, now(), 'forged', 'success', 'gateway', repeat('0', 64), repeat('0', 64))`,
      rewriteAndRechain(id),
      `UPDATE audit_chain_tail SET hash = repeat('0', 64)`,
      `INSERT INTO audit_chain_tail (id, hash, at) VALUES (${id}0, repeat('0', 64), now())`,
      `DELETE FROM audit_chain_tail`,
      `UPDATE audit_chain_anchor SET through_id = ${id}`,
      `SELECT nextval('audit_events_id_seq')`,
      `CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
      `UPDATE audit_chain_checkpoints SET head_hash = repeat('0', 64)`,
      `DELETE FROM audit_chain_checkpoints`,
      `CREATE TABLE borrowed (id bigint, recorded_at timestamptz, action text, outcome text, service text)`,
      `UPDATE audit_retention_policy SET min_retain_months = 1`,
      `SELECT audit_retention_purge(1)`,
    ];
    const results = await runAs(t.runtime.gateway, steps);
    for (const r of results) {
      expect({ sql: r.sql, code: r.error?.code }).toEqual({ sql: r.sql, code: '42501' }); // insufficient_privilege
      expect(r.error?.message).toMatch(/permission denied|must be owner|below the minimum/);
    }
    // Values the trigger owns cannot be forged through the one path that is open.
    await runAs(t.runtime.gateway, [
      `INSERT INTO audit_events (id, recorded_at, action, outcome, service, prev_hash, hash)
       VALUES (1, now(), 'forged.values', 'success', 'gateway', repeat('0', 64), repeat('0', 64))`,
    ]);
    const [forged] = await t.ds.query(`SELECT id::text AS id, hash FROM audit_events WHERE action = 'forged.values'`);
    expect(forged.id).not.toBe('1');
    expect(forged.hash).not.toBe('0'.repeat(64));
    expect((await verify()).valid).toBe(true);
  });

  it('refuses to lend the chain trigger to a table the login owns, even where the login may create tables', async () => {
    // Databases from before Postgres 15 let PUBLIC create in `public`; the definer trigger must not move the head then.
    await runAs(t.db.url, [`GRANT CREATE ON SCHEMA public TO meditron_gateway`]);
    try {
      const [table, trigger, insert] = await runAs(t.runtime.gateway, [
        `CREATE TABLE borrowed (id bigint, recorded_at timestamptz, action text, outcome text, service text,
           actor text, client_id text, tenant text, patient_ref text, request_id text, hook_instance uuid,
           detail jsonb, prev_hash char(64), hash char(64))`,
        `CREATE TRIGGER borrow BEFORE INSERT ON borrowed FOR EACH ROW EXECUTE FUNCTION audit_events_chain()`,
        `INSERT INTO borrowed (recorded_at, action, outcome, service, detail) VALUES (now(), 'x', 'success', 'gw', '{}')`,
      ]);
      expect([table?.error, trigger?.error]).toEqual([null, null]);
      expect(insert?.error?.message).toMatch(/chains audit_events only/);
    } finally {
      await runAs(t.db.url, [`DROP TABLE IF EXISTS borrowed`, `REVOKE CREATE ON SCHEMA public FROM meditron_gateway`]);
    }
    expect((await verify()).valid).toBe(true);
  });

  it('detects the same rewrite done by a superuser and names the failing checkpoints and the rewritten range', async () => {
    const [first, second] = checkpoints;
    const [{ id: victim }] = (await t.ds.query(
      `SELECT id::text AS id FROM audit_events WHERE id > $1 ORDER BY id OFFSET 5 LIMIT 1`,
      [first!.headId],
    )) as [{ id: string }];
    const rewrite = await runAs(t.db.url, [
      `BEGIN; SET LOCAL session_replication_role = replica; ${rewriteAndRechain(victim)}; COMMIT`,
    ]);
    expect(rewrite.map((r) => r.error)).toEqual([null]);

    const result = await verify();
    // The chain is consistent again: only the checkpoints, signed outside the database, catch it.
    expect(result.firstBreak).toBeNull();
    expect(result.valid).toBe(false);
    expect(result.checkpoints.status).toBe('failed');
    expect(result.checkpoints.lastVerified).toMatchObject({ headId: first!.headId });
    expect(result.checkpoints.failures[0]).toEqual({
      checkpoint: expect.objectContaining({ headId: second!.headId, keyId: 'key-2026-a' }),
      reason: 'hash_mismatch',
      rewrittenAfterId: first!.headId,
    });
    expect(Number(victim)).toBeGreaterThan(Number(first!.headId));
    expect(Number(victim)).toBeLessThanOrEqual(Number(second!.headId));
    expect(result.checkpoints.failures.map((f) => f.reason)).toEqual([
      'hash_mismatch',
      'hash_mismatch',
      'hash_mismatch',
    ]);
  });

  it('detects deleted checkpoint rows when the external sink still holds them', async () => {
    const [, second] = checkpoints;
    await runAs(t.db.url, [
      `BEGIN; SET LOCAL session_replication_role = replica;
       DELETE FROM audit_chain_checkpoints WHERE head_id >= ${second!.headId}; COMMIT`,
    ]);
    // Without the sink, the superuser's cover-up holds: the table alone is the database's word.
    const tableOnly = await verify({ sink: false });
    expect(tableOnly.checkpoints).toMatchObject({ status: 'verified', checked: 1 });

    const withSink = await verify();
    expect(withSink.valid).toBe(false);
    expect(withSink.checkpoints.failures.slice(0, 2)).toEqual([
      {
        checkpoint: expect.objectContaining({ headId: second!.headId }),
        reason: 'missing_from_table',
        rewrittenAfterId: null,
      },
      {
        checkpoint: expect.objectContaining({ headId: second!.headId }),
        reason: 'hash_mismatch',
        rewrittenAfterId: checkpoints[0]!.headId,
      },
    ]);
  });

  it('detects the anchor moved past checkpoints signed inside the retention period (rows dropped early)', async () => {
    const [first] = checkpoints;
    await runAs(t.db.url, [
      `UPDATE audit_chain_anchor SET through_id = ${first!.headId}, hash = '${first!.headHash}' WHERE singleton`,
    ]);
    const result = await new AuditChainVerifier(repo, { publicKeys: both, sink, retainMonths: 72 }).verify();
    expect(result.checkpoints.beforeAnchor).toBe(1);
    expect(result.checkpoints.failures[0]).toEqual({
      checkpoint: expect.objectContaining({ headId: first!.headId }),
      reason: 'purged_within_retention',
      rewrittenAfterId: null,
    });
    // Six years on, the same checkpoint behind the anchor is an ordinary purge.
    const later = await verifyCheckpoints(repo, both, await repo.anchor(), {
      retainMonths: 72,
      now: new Date(Date.now() + 73 * 31 * 86_400_000),
    });
    expect(later.failures.filter((f) => f.reason === 'purged_within_retention')).toEqual([]);
  });

  it('detects a forged checkpoint row (a signature no configured key made)', async () => {
    const [{ id, hash }] = (await t.ds.query(
      `SELECT nullif(t.id, 0)::text AS id, t.hash FROM audit_chain_tail t ORDER BY t.id DESC LIMIT 1`,
    )) as [{ id: string; hash: string }];
    const forger = newKey('key-2026-a');
    const forged = new ChainHeadPublisher(new AuditChainRepository(t.ds), {
      intervalMs: 60_000,
      registry: new Registry(),
      signingKey: forger,
    });
    await forged.publish();
    const result = await verify({ sink: false });
    expect(result.checkpoints.failures).toContainEqual({
      checkpoint: expect.objectContaining({ headId: id, headHash: hash, keyId: 'key-2026-a' }),
      reason: 'bad_signature',
      rewrittenAfterId: null,
    });
  });
});
