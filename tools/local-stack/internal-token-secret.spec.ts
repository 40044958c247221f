import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalTokenSecret } from '@app/config';
import { ensureInternalTokenSecret } from './internal-token-secret';

describe('npm start: the dev INTERNAL_TOKEN_SECRET', () => {
  const dir = mkdtempSync(join(tmpdir(), 'internal-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated at first start (owner-only, valid for both apps) and reused after', () => {
    const file = join(dir, '.local', 'internal-token.secret');
    const first = ensureInternalTokenSecret(file);
    expect(internalTokenSecret.safeParse(first).success).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ensureInternalTokenSecret(file)).toBe(first);
    expect(ensureInternalTokenSecret(join(dir, 'other', 'internal-token.secret'))).not.toBe(first);
  });
});
