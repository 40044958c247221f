import { advisory, buildCards } from './card-builder';

describe('buildCards', () => {
  it('labels every card as AI-generated and keeps summaries under 140 characters', () => {
    const cards = buildCards(
      {
        findings: [
          { summary: 'x'.repeat(300), indicator: 'warning', detail: '**INR** missing' },
          { summary: 'short', indicator: 'info' },
        ],
      },
      'meditron-70b',
    );
    expect(cards).toHaveLength(2);
    expect(cards[0]!.summary.length).toBeLessThan(140);
    expect(cards[0]!.summary.endsWith('…')).toBe(true);
    expect(cards[0]!.detail).toBe(`**INR** missing\n\n${advisory('meditron-70b')}`);
    expect(cards[1]!.detail).toBe(advisory('meditron-70b'));
    for (const card of cards) {
      expect(card.source.label).toBe('meditron-70b (AI-generated)');
      expect(card.source.topic?.code).toBe('ai-generated');
      expect(card.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(card.overrideReasons?.map((r) => r.code)).toEqual(['not-relevant', 'already-addressed', 'incorrect']);
      expect(card.overrideReasons?.every((r) => r.display.length > 0)).toBe(true);
    }
    expect(cards[0]!.uuid).not.toBe(cards[1]!.uuid);
  });
});
