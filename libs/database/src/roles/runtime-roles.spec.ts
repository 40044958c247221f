import { runtimeLoginsFromEnv, runtimeUrl } from './runtime-roles';

describe('runtime logins', () => {
  it('reads each app login (user, password) from its URL variable, only for those set', () => {
    expect(
      runtimeLoginsFromEnv({
        GATEWAY_DATABASE_URL: 'postgres://meditron_gw:p%40ss@pg:5432/meditron?sslmode=verify-full',
        CDS_HOOKS_DATABASE_URL: 'postgres://meditron_cds@pg/meditron',
        INFERENCE_PROXY_DATABASE_URL: ' ',
      }),
    ).toEqual({ gateway: { user: 'meditron_gw', password: 'p@ss' }, cdsHooks: { user: 'meditron_cds' } });
    expect(() => runtimeLoginsFromEnv({ GATEWAY_DATABASE_URL: 'postgres://pg/meditron' })).toThrow(/names no user/);
    expect(() => runtimeLoginsFromEnv({ GATEWAY_DATABASE_URL: 'not a url' })).toThrow(/GATEWAY_DATABASE_URL/);
  });

  it('builds a login URL on the owner URL (same server, database and options)', () => {
    expect(
      runtimeUrl('postgres://owner:secret@pg:5432/meditron?sslmode=disable', { user: 'app', password: 'x/y' }),
    ).toBe('postgres://app:x%2Fy@pg:5432/meditron?sslmode=disable');
  });
});
