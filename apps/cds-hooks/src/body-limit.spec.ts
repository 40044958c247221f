import { randomBytes } from 'node:crypto';
import { loadGatewayConfig } from '../../gateway/src/gateway.config';
import { loadCdsHooksConfig } from './cds-hooks.config';

/** The gateway and cds-hooks read one BODY_LIMIT: a body the gateway forwards is never too large for cds-hooks. */
describe('BODY_LIMIT shared by the gateway and cds-hooks', () => {
  const base = { INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url') };

  it.each([undefined, '64kb', '12mb'])('parses %s to the same limit in both apps', (limit) => {
    const env = { ...base, ...(limit ? { BODY_LIMIT: limit } : {}) };
    expect(loadCdsHooksConfig(env).BODY_LIMIT).toBe(loadGatewayConfig(env).BODY_LIMIT);
    expect(loadCdsHooksConfig(env).BODY_LIMIT).toBe(limit ?? '5mb');
  });

  it('refuses the same malformed values in both apps', () => {
    expect(() => loadCdsHooksConfig({ ...base, BODY_LIMIT: '5 gigs' })).toThrow(/BODY_LIMIT/);
    expect(() => loadGatewayConfig({ ...base, BODY_LIMIT: '5 gigs' })).toThrow(/BODY_LIMIT/);
  });
});
