import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { CONSOLE_USERS } from '../support/console-harness';
import { stackToken } from '../support/ehr-tokens';
import { artifactsDir, launchChromium } from '../support/headless-chromium';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { testStackEnv } from '../support/stack-env';
import { patientViewRequest, postHook } from './walking-skeleton.cases';

const SERVICE = 'meditron-patient-view';
const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const BARNEY = 'Barney_Abbott_3f228315-d2de-4292-a56a-b7c120c2875d.json';
const BETHANY = 'Bethany_Hauck_36ab2c13-d59e-4f1f-913c-9260ef647da8.json';

/**
 * The console in headless Chromium against `npm start`'s stack: real hook traffic through the gateway, staff signing in
 * by typing their password into the development OIDC provider's own form. Screenshots in test/artifacts.
 */
describe('compliance and governance console (headless Chromium, OIDC sign-in)', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  let browser: Browser;
  let base = '';
  let cardUuid = '';
  const shots = artifactsDir('compliance-console');
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  async function signIn(username: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/console`);
    await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
    // The identity provider's page, not the console's.
    await page.getByRole('heading', { name: 'Development identity provider' }).waitFor();
    expect(new URL(page.url()).origin).toBe(stack.devIdp!.idp.issuer);
    const user = CONSOLE_USERS.find((u) => u.username === username)!;
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who-name', { hasText: `Signed in as ${user.name}` }).waitFor();
    return { context, page };
  }

  beforeAll(async () => {
    db = await createTestDatabase('e2e_console');
    stack = await startLocalStack({
      env: testStackEnv({ DATABASE_URL: db.url }),
      modelDoublePort: 0,
      devIdpUsers: CONSOLE_USERS,
    });
    base = stack.publicBaseUrl;
    const double = stack.modelDouble!;
    const traffic: Array<[string, string[]]> = [
      [
        DIRK,
        [JSON.stringify({ findings: [{ summary: 'Review anticoagulation', indicator: 'warning', evidence: ['P1'] }] })],
      ],
      [
        BARNEY,
        [
          JSON.stringify({
            findings: [
              { summary: 'Urgent review', indicator: 'critical', evidence: ['P1'] },
              { summary: 'Uncited claim', indicator: 'info' },
            ],
          }),
        ],
      ],
      [BETHANY, ['this is not JSON', 'still not JSON']],
    ];
    for (const [patient, outputs] of traffic) {
      for (const o of outputs) double.enqueueResponse(o);
      expect((await postHook(stack, patientViewRequest(patient).body)).status).toBe(200);
    }
    // The same context again: answered from the first call's model run.
    expect((await postHook(stack, patientViewRequest(DIRK).body)).status).toBe(200);
    const cards = await queryRows<{ uuid: string }>(db.url, `SELECT uuid::text FROM cds_cards ORDER BY created_at`);
    expect(cards.length).toBeGreaterThanOrEqual(2);
    cardUuid = cards[0]!.uuid;
    const feedback = await fetch(`${stack.gatewayUrl}/cds-services/${SERVICE}/feedback`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await stackToken(stack, `/cds-services/${SERVICE}/feedback`)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        feedback: [
          { card: cards[0]!.uuid, outcome: 'accepted', outcomeTimestamp: new Date().toISOString() },
          {
            card: cards[1]!.uuid,
            outcome: 'overridden',
            overrideReason: { reason: { code: 'not-relevant', display: 'Not relevant to this patient' } },
            outcomeTimestamp: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(feedback.status).toBe(200);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await db?.drop();
  });

  it('signs a compliance officer in through the identity provider and shows the dashboard the database holds', async () => {
    const { context, page } = await signIn('compliance');
    await page.getByText('roles: compliance').waitFor();
    await page.locator('#panel-cards table').waitFor();
    // The browser holds no token: only an HttpOnly cookie it cannot read, and nothing in storage.
    expect(await page.evaluate<number>('localStorage.length + sessionStorage.length')).toBe(0);
    expect(await page.evaluate<string>('document.cookie')).toBe('');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'meditron_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    const calls = await queryRows<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM hook_invocations`);
    const byIndicator = await queryRows<{ indicator: string; n: number }>(
      db.url,
      `SELECT indicator, count(*)::int AS n FROM cds_cards GROUP BY 1 ORDER BY 1`,
    );
    const invalid = await queryRows<{ n: number }>(
      db.url,
      `SELECT count(*)::int AS n FROM hook_invocations WHERE answer_detail->>'output' IN ('not_json', 'schema_mismatch')`,
    );
    const kpi = async (label: string) =>
      page
        .locator('.kpi', { has: page.getByText(label, { exact: true }) })
        .locator('.kpi-value')
        .textContent();
    expect(await kpi('hook calls')).toBe(String(calls[0]!.n));
    expect(await kpi('cards shown')).toBe(String(byIndicator.reduce((a, r) => a + r.n, 0)));
    expect(await kpi('accepted')).toBe('1');
    expect(await kpi('overridden')).toBe('1');
    expect(await kpi('invalid answers')).toBe(String(invalid[0]!.n));
    expect(invalid[0]!.n).toBe(1);
    const cardCells = await page.locator('#panel-cards tbody td').allTextContents();
    expect(cardCells).toEqual(byIndicator.flatMap((r) => [r.indicator, String(r.n)]));
    expect(await page.locator('#panel-override-reasons').textContent()).toContain('Not relevant to this patient');
    expect(await page.locator('#panel-answers').textContent()).toContain('critical lowered to warning');
    expect(await page.locator('#panel-cards canvas').count()).toBe(1);
    await shot(page, '01-dashboard');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download Cards shown, by indicator as CSV' }).click(),
    ]);
    const csvPath = join(shots, 'dashboard-cards.csv');
    await download.saveAs(csvPath);
    expect(readFileSync(csvPath, 'utf8')).toBe(
      'indicator,cards\r\n' + byIndicator.map((r) => `${r.indicator},${r.n}\r\n`).join(''),
    );

    // From the audit trail to the card's explanation.
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByLabel('Action(s)').fill('hook.answered');
    await page.getByLabel('Action(s)').press('Enter');
    await page.getByText(/events found/).waitFor();
    await page
      .locator('#results tbody tr')
      .last()
      .getByRole('button', { name: /Open event/ })
      .click();
    await page.getByRole('link', { name: `Explain card ${cardUuid}` }).click();
    await page.locator('#explanation:not([hidden])').waitFor();
    const text = (await page.locator('#explanation').textContent()) ?? '';
    expect(text).toContain('Review anticoagulation');
    expect(text).toMatch(/patient-view@\d+/);
    expect(text).toContain('(this card)');
    expect(text).toContain('rows pass the hash chain check');
    const manifest = await queryRows<{ fact: string }>(
      db.url,
      `SELECT r.context_manifest->'facts'->>'P1' AS fact FROM cds_cards c
         JOIN inference_requests r ON r.request_id = c.inference_request_id WHERE c.uuid = $1`,
      [cardUuid],
    );
    expect(text).toContain(manifest[0]!.fact);
    await shot(page, '02-card-explanation');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('link', { name: 'Sign in with your organisation account' }).waitFor();
    expect(await page.evaluate<number>(`fetch('/compliance/dashboard').then((r) => r.status)`)).toBe(401);
    await shot(page, '03-signed-out');
    await context.close();

    const audit = await queryRows<{ action: string }>(
      db.url,
      `SELECT DISTINCT action FROM audit_events WHERE actor = 'compliance' ORDER BY action`,
    );
    expect(audit.map((r) => r.action)).toEqual([
      'compliance.dashboard',
      'compliance.dashboard.export',
      'compliance.explanation',
      'compliance.read',
      'compliance.search',
      'console.signed_in',
      'console.signed_out',
    ]);
  });

  it('lets an admin register an EHR client, and refuses a change without the CSRF token', async () => {
    const { context, page } = await signIn('admin');
    await page.getByRole('heading', { name: 'Registered EHR clients' }).waitFor();
    expect(await page.getByRole('link', { name: 'Dashboard' }).isVisible()).toBe(false);
    await page.getByLabel('Client id').fill('st-marys-epic');
    await page.getByLabel('Issuer (iss)').fill('https://epic.st-marys.example');
    await page.locator('#client-form [name=jwksUrl]').fill('https://epic.st-marys.example/jwks');
    await page.getByLabel('FHIR base URLs (comma-separated)').fill('https://fhir.st-marys.example/r4');
    await page.getByLabel('Rate limit per second').fill('5');
    await page.getByLabel('Burst').fill('10');
    await page.getByRole('button', { name: 'Save client' }).click();
    await page.getByText('Saved st-marys-epic.').waitFor();
    await page.locator('#clients td', { hasText: 'st-marys-epic' }).waitFor();
    await shot(page, '04-admin-clients');
    const rows = await queryRows<{ definition: { issuer: string; rateLimit: unknown } }>(
      db.url,
      `SELECT definition FROM ehr_clients WHERE id = 'st-marys-epic'`,
    );
    expect(rows[0]!.definition).toMatchObject({
      issuer: 'https://epic.st-marys.example',
      rateLimit: { perSecond: 5, burst: 10 },
    });
    const forged = await page.evaluate<number>(
      `fetch('/admin/clients/st-marys-epic', { method: 'DELETE' }).then((r) => r.status)`,
    );
    expect(forged).toBe(403);
    const audit = await queryRows<{ action: string; outcome: string; reason: string | null }>(
      db.url,
      `SELECT action, outcome, detail->>'reason' AS reason FROM audit_events
        WHERE actor = 'admin' AND action <> 'admin.clients.listed' ORDER BY id`,
    );
    expect(audit).toEqual([
      { action: 'console.signed_in', outcome: 'success', reason: null },
      { action: 'admin.clients.registered', outcome: 'success', reason: null },
      { action: 'auth.refused', outcome: 'refused', reason: 'csrf_token_mismatch' },
    ]);
    await context.close();
  });

  it('tells a signed-in user without a console role that access is refused', async () => {
    const { context, page } = await signIn('visitor');
    await page.getByRole('heading', { name: 'No access' }).waitFor();
    expect(await page.locator('#refused-text').textContent()).toContain('neither the compliance nor the admin role');
    expect(await page.locator('#tabs').isVisible()).toBe(false);
    expect(await page.evaluate<number>(`fetch('/compliance/dashboard').then((r) => r.status)`)).toBe(403);
    await shot(page, '05-no-role');
    await context.close();
  });
});
