import { randomBytes } from 'node:crypto';
import { ConfigError } from '@app/config';
import { loadGatewayConfig } from '../gateway.config';

const base = { INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url') };

describe('gateway edge settings', () => {
  it('trusts no proxy by default and takes IPs, CIDRs and named ranges', () => {
    expect(loadGatewayConfig(base).EDGE_TRUSTED_PROXIES).toEqual([]);
    expect(
      loadGatewayConfig({ ...base, EDGE_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1' })
        .EDGE_TRUSTED_PROXIES,
    ).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
  });

  it.each(['everyone', '10.0.0.0/33', '10.0.0.1/8/1', 'fd00::/129'])('refuses EDGE_TRUSTED_PROXIES=%s at boot', (v) => {
    expect(() => loadGatewayConfig({ ...base, EDGE_TRUSTED_PROXIES: v })).toThrow(/EDGE_TRUSTED_PROXIES/);
  });

  it('keeps the refusal share of the audit queue at most half of it', () => {
    expect(loadGatewayConfig({ ...base, AUDIT_QUEUE_MAX: '400', EDGE_REFUSAL_AUDIT_BUDGET: '200' })).toBeDefined();
    expect(() => loadGatewayConfig({ ...base, AUDIT_QUEUE_MAX: '400', EDGE_REFUSAL_AUDIT_BUDGET: '201' })).toThrow(
      ConfigError,
    );
  });
});
