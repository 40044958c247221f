import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey } from '@app/audit';
import { appDatabaseUrls, ensureCheckpointKey } from './database-roles';

describe('npm start: the audit checkpoint key and the apps database logins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-roles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates an Ed25519 checkpoint key once (owner-only) and reuses it; a configured key wins', () => {
    const env = ensureCheckpointKey({}, join(dir, '.local'));
    const file = env.AUDIT_CHECKPOINT_KEY_FILE!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const first = readFileSync(file, 'utf8');
    expect(loadSigningKey(first).privateKey.asymmetricKeyType).toBe('ed25519');
    expect(ensureCheckpointKey({}, join(dir, '.local'))).toEqual(env);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(ensureCheckpointKey({ AUDIT_CHECKPOINT_KEY_FILE: '/etc/key.pem' }, join(dir, '.local'))).toEqual({});
  });

  it('keeps the owner URL on embedded PGlite (one session: roles cannot be enforced) and honours per-app URLs', async () => {
    const owner = 'postgres://postgres:postgres@127.0.0.1:5/postgres';
    const secretFile = join(dir, 'logins.secret');
    expect(await appDatabaseUrls(owner, {}, { embedded: true, secretFile })).toEqual({
      gateway: owner,
      cdsHooks: owner,
      inferenceProxy: owner,
    });
    const given = {
      GATEWAY_DATABASE_URL: 'postgres://gw@db/m',
      CDS_HOOKS_DATABASE_URL: 'postgres://cds@db/m',
      INFERENCE_PROXY_DATABASE_URL: 'postgres://proxy@db/m',
    };
    // Logins the platform made are used as given: nothing to provision, so no connection to the owner's server.
    expect(await appDatabaseUrls(owner, given, { embedded: false, secretFile })).toEqual({
      gateway: given.GATEWAY_DATABASE_URL,
      cdsHooks: given.CDS_HOOKS_DATABASE_URL,
      inferenceProxy: given.INFERENCE_PROXY_DATABASE_URL,
    });
  });
});
