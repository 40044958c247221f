import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkSignature,
  checkpointText,
  keyIdOf,
  loadPublicKeys,
  loadSigningKey,
  signCheckpoint,
} from './audit-checkpoint.keys';
import { FileCheckpointSink } from './audit-checkpoint.sink';

const pem = (type: 'ed25519' | 'ed448') =>
  generateKeyPairSync(type as 'ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
const head = { lastId: '42', lastHash: 'a'.repeat(64), updatedAt: new Date() };

describe('audit checkpoints: Ed25519 signatures by key id', () => {
  it('signs (key id, head id, head hash, time) and verifies only with the key named by the checkpoint', () => {
    const key = loadSigningKey(pem('ed25519'), 'k1');
    const c = signCheckpoint(head, key, new Date('2026-11-29T18:00:00.123Z'));
    expect(c).toMatchObject({
      keyId: 'k1',
      headId: '42',
      headHash: 'a'.repeat(64),
      signedAt: '2026-11-29T18:00:00.123Z',
    });
    expect(checkpointText(c)).toContain('head_hash=' + 'a'.repeat(64));
    const keys = new Map([['k1', key.publicKey]]);
    expect(checkSignature(c, keys)).toBe('ok');
    // Any field changed, or another key under the same id: the signature no longer holds.
    expect(checkSignature({ ...c, headId: '43' }, keys)).toBe('bad_signature');
    expect(checkSignature({ ...c, headHash: 'b'.repeat(64) }, keys)).toBe('bad_signature');
    expect(checkSignature({ ...c, signedAt: '2026-11-29T18:00:01.123Z' }, keys)).toBe('bad_signature');
    expect(checkSignature(c, new Map([['k1', loadSigningKey(pem('ed25519')).publicKey]]))).toBe('bad_signature');
    expect(checkSignature({ ...c, keyId: 'k2' }, keys)).toBe('unknown_key');
  });

  it('derives a stable key id from the public key and refuses keys that are not Ed25519', () => {
    const text = pem('ed25519');
    const a = loadSigningKey(text);
    expect(a.keyId).toBe(keyIdOf(a.publicKey));
    expect(loadSigningKey(text).keyId).toBe(a.keyId);
    expect(() => loadSigningKey(pem('ed448'))).toThrow(/Ed25519/);
    const spki = a.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect([...loadPublicKeys(JSON.stringify({ old: spki })).keys()]).toEqual(['old']);
    expect(() => loadPublicKeys('[]')).toThrow(/JSON object/);
    expect(() => loadPublicKeys(JSON.stringify({ old: 7 }))).toThrow(/not a PEM/);
  });
});

describe('file checkpoint sink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'checkpoint-sink-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per checkpoint and reads them back; a torn last line is skipped, a bad one elsewhere is not', async () => {
    const sink = new FileCheckpointSink(join(dir, 'c.jsonl'));
    expect(await sink.readAll()).toEqual([]);
    const key = loadSigningKey(pem('ed25519'), 'k1');
    const c1 = signCheckpoint(head, key, new Date());
    const c2 = signCheckpoint({ ...head, lastId: '43' }, key, new Date());
    await sink.append(c1);
    await sink.append(c2);
    expect(await sink.readAll()).toEqual([c1, c2]);
    appendFileSync(join(dir, 'c.jsonl'), '{"keyId":"k1","head');
    expect(await sink.readAll()).toEqual([c1, c2]);
    writeFileSync(join(dir, 'bad.jsonl'), 'not json\n' + JSON.stringify(c1) + '\n');
    await expect(new FileCheckpointSink(join(dir, 'bad.jsonl')).readAll()).rejects.toThrow(/line 1/);
  });
});
