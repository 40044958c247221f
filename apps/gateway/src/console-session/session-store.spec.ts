import { ConsoleSessionStore, type ConsoleSession } from './session-store';

const session = (id: string, endsAt = Date.now() + 60_000): ConsoleSession => ({
  id,
  csrfToken: `csrf-${id}`,
  subject: 'casey',
  name: null,
  accessToken: 'at',
  refreshToken: undefined,
  idToken: undefined,
  accessExpiresAt: Date.now() + 60_000,
  endsAt,
});

describe('ConsoleSessionStore', () => {
  it('hands a pending sign-in back once, and not after ten minutes', () => {
    const store = new ConsoleSessionStore(10);
    const now = Date.now();
    store.addPending({ state: 's1', codeVerifier: 'v', nonce: 'n', startedAt: now });
    expect(store.takePending('s1', now)?.codeVerifier).toBe('v');
    expect(store.takePending('s1', now)).toBeUndefined();
    store.addPending({ state: 's2', codeVerifier: 'v', nonce: 'n', startedAt: now - 11 * 60_000 });
    expect(store.takePending('s2', now)).toBeUndefined();
  });

  it('ends sessions at their end time, drops the oldest when full, and compares CSRF tokens exactly', () => {
    const store = new ConsoleSessionStore(2);
    store.add(session('a'));
    store.add(session('b'));
    store.add(session('c'));
    expect(store.get('a')).toBeUndefined();
    expect(store.get('c')?.id).toBe('c');
    store.add(session('old', Date.now() - 1));
    expect(store.get('old')).toBeUndefined();
    const c = store.get('c')!;
    expect(ConsoleSessionStore.csrfMatches(c, 'csrf-c')).toBe(true);
    expect(ConsoleSessionStore.csrfMatches(c, 'csrf-x')).toBe(false);
    expect(ConsoleSessionStore.csrfMatches(c, undefined)).toBe(false);
  });
});
