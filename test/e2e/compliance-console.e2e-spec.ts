import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AuditWriter } from '@app/audit';
import { startComplianceHarness, type ComplianceHarness } from '../support/compliance-harness';
import { seedCardWithProvenance, type SeededCard } from '../support/compliance-seed';
import { artifactsDir, launchChromium } from '../support/headless-chromium';
import { queryRows } from '../support/postgres';

/** The compliance console in headless Chromium, driven by keyboard where a person would: screenshots in test/artifacts. */
describe('compliance console (headless Chromium)', () => {
  let h: ComplianceHarness;
  let browser: Browser;
  let page: Page;
  let seeded: SeededCard;
  const shots = artifactsDir('compliance-console');
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    h = await startComplianceHarness();
    // Written as cds-hooks would write them (its own login); the gateway's login reads them back.
    const ds = h.cdsHooksDataSource;
    const writer = new AuditWriter(ds, { maxDelayMs: 2 });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writer.record({
          action: i % 2 === 0 ? 'fhir.read' : 'hook.invoked',
          outcome: i % 7 === 3 ? 'refused' : 'success',
          service: 'cds-hooks',
          clientId: 'ehr-a',
          patientRef: i % 3 === 0 ? 'Patient/console-1' : 'Patient/other',
          requestId: `console-${i}`,
          detail: { i },
        }),
      ),
    );
    seeded = await seedCardWithProvenance(ds, writer, 'Patient/console-1');
    await writer.close();
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('signs in with a pasted staff token kept in sessionStorage only', async () => {
    await page.goto(`${h.url}/console`);
    await shot('01-sign-in');
    await page.getByLabel('Staff bearer token').fill(await h.staffToken('auditor-ui', ['compliance']));
    await page.getByLabel('Staff bearer token').press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Search audit events' }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['meditron.compliance.token']);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it('refuses a token without the compliance role', async () => {
    const other = await browser.newPage();
    await other.goto(`${h.url}/console`);
    await other.getByLabel('Staff bearer token').fill(await h.staffToken('admin-ui', ['admin']));
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByText('This token lacks the compliance role.').waitFor();
    expect(await other.getByRole('heading', { name: 'Search audit events' }).isVisible()).toBe(false);
    await other.close();
  });

  it('searches for a patient and opens an event from the keyboard', async () => {
    await page.getByLabel('Patient reference').fill('Patient/console-1');
    await page.getByLabel('Patient reference').press('Enter');
    await page.getByText(/events found/).waitFor();
    const rows = page.locator('#results tbody tr');
    // 10 seeded + 3 from the card's hook call.
    expect(await rows.count()).toBe(13);
    for (const patient of await rows.locator('td:nth-child(5)').allTextContents())
      expect(patient).toBe('Patient/console-1');
    await shot('02-search-results');

    const open = rows.first().getByRole('button');
    await open.focus();
    await page.keyboard.press('Enter');
    await page.locator('#event:not([hidden])').waitFor();
    expect(await page.locator('#event-fields').textContent()).toContain('Patient/console-1');
    // A string expression: this project compiles without the DOM lib.
    expect(await page.evaluate<string>('document.activeElement ? document.activeElement.id : ""')).toBe('event');
    await shot('03-event-detail');
  });

  it('exports the search as CSV and NDJSON downloads', async () => {
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csvPath = join(shots, 'export.csv');
    await csv.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,recordedAt,action,outcome/);
    expect(lines.length).toBeGreaterThanOrEqual(14);
    const [nd] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export NDJSON' }).click(),
    ]);
    const ndPath = join(shots, 'export.ndjson');
    await nd.saveAs(ndPath);
    expect(readFileSync(ndPath, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(13);
    await page.getByText(/Export ready/).waitFor();
    await shot('04-exported');
  });

  it('shows the provenance of a card and the chain status', async () => {
    await page.getByLabel('Card UUID').fill(seeded.cardUuid);
    await page.getByLabel('Card UUID').press('Enter');
    await page.locator('#provenance:not([hidden])').waitFor();
    const text = (await page.locator('#provenance').textContent()) ?? '';
    expect(text).toContain('meditron-70b');
    expect(text).toContain('patient-view@3');
    await page.getByRole('button', { name: 'Verify the hash chain' }).click();
    await page.getByText(/^Intact: /).waitFor();
    await shot('05-provenance-and-chain');

    const audit = await queryRows<{ action: string; n: number }>(
      h.db.url,
      `SELECT action, count(*)::int AS n FROM audit_events WHERE actor = 'auditor-ui' GROUP BY action ORDER BY action`,
    );
    expect(audit.map((r) => r.action)).toEqual([
      'compliance.chain.verified',
      'compliance.export',
      'compliance.provenance',
      'compliance.read',
      'compliance.search',
    ]);
  });
});
