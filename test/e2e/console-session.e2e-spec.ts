import type { Browser, Page } from 'playwright-core';
import { CONSOLE_USERS, startConsoleHarness, type ConsoleHarness } from '../support/console-harness';
import { launchChromium } from '../support/headless-chromium';
import { queryRows } from '../support/postgres';

interface WhoAmI {
  subject: string;
  roles: string[];
  csrfToken: string;
  accessExpiresAt: string;
}

/** Console sessions against the development OIDC provider: refresh before expiry, CSRF, forged callbacks. */
describe('console session (BFF) against the development OIDC provider', () => {
  let h: ConsoleHarness;
  let browser: Browser;
  let page: Page;
  const whoami = () =>
    page.evaluate<{ status: number; body: WhoAmI | null }>(
      `fetch('/console/auth/session').then(async (r) => ({ status: r.status, body: r.ok ? await r.json() : null }))`,
    );

  beforeAll(async () => {
    // Access tokens that are always within the gateway's 30 s refresh margin: every call refreshes first.
    h = await startConsoleHarness({ accessTokenTtlS: 31 });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${h.url}/console`);
    await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
    const user = CONSOLE_USERS[0]!;
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Unknown user or wrong password.').waitFor();
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who-name').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('refreshes the access token with the refresh token, keeping the session', async () => {
    const first = await whoami();
    expect(first.status).toBe(200);
    expect(first.body!.roles).toEqual(['compliance']);
    await page.waitForTimeout(1100);
    const second = await whoami();
    expect(second.status).toBe(200);
    expect(Date.parse(second.body!.accessExpiresAt)).toBeGreaterThan(Date.parse(first.body!.accessExpiresAt));
    expect(second.body!.csrfToken).toBe(first.body!.csrfToken);
    expect(await page.evaluate<number>(`fetch('/compliance/audit-events?limit=1').then((r) => r.status)`)).toBe(200);
  });

  it('refuses sign-out without the CSRF token, audited; signs out with it', async () => {
    expect(await page.evaluate<number>(`fetch('/console/auth/logout', { method: 'POST' }).then((r) => r.status)`)).toBe(
      403,
    );
    const refused = await queryRows<{ reason: string }>(
      h.db.url,
      `SELECT detail->>'reason' AS reason FROM audit_events WHERE action = 'auth.refused' AND actor = 'compliance'`,
    );
    expect(refused.map((r) => r.reason)).toEqual(['csrf_token_mismatch']);
    const csrf = (await whoami()).body!.csrfToken;
    const out = await page.evaluate<{ logoutUrl: string }>(
      `fetch('/console/auth/logout', { method: 'POST', headers: { 'x-csrf-token': ${JSON.stringify(csrf)} } }).then((r) => r.json())`,
    );
    expect(out.logoutUrl.startsWith(`${h.idp.issuer}/session/end`)).toBe(true);
    expect((await whoami()).status).toBe(401);
  });

  it('refuses a callback whose state it did not issue', async () => {
    const res = await fetch(`${h.url}/console/auth/callback?code=stolen&state=forged`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console?signin=failed');
    expect(res.headers.get('set-cookie') ?? '').not.toContain('meditron_console=');
  });
});
