import { cdsResponseProblems } from './cds-conformance';
import { specExample } from './synthea';

const good = {
  cards: [
    {
      uuid: '1b2c3d4e-0000-4000-8000-000000000001',
      summary: 'Check INR',
      indicator: 'warning',
      source: { label: 'meditron-70b (AI-generated)' },
    },
  ],
};

describe('CDS Hooks response conformance checker', () => {
  it('passes a conformant response and the empty-cards answer', () => {
    expect(cdsResponseProblems(good)).toEqual([]);
    expect(cdsResponseProblems(specExample('spec2.0.1_response-empty-cards.json'))).toEqual([]);
  });

  it.each([
    ['a missing uuid', { cards: [{ ...good.cards[0], uuid: undefined }] }, 'uuid missing'],
    [
      'a long summary',
      { cards: [{ ...good.cards[0], summary: 'x'.repeat(140) }] },
      'summary must NOT have more than 139 characters',
    ],
    ['an empty detail', { cards: [{ ...good.cards[0], detail: '' }] }, 'empty optional field at $.cards[0].detail'],
    ['a null field', { cards: [{ ...good.cards[0], links: null }] }, 'links'],
    [
      'empty suggestions',
      { cards: [{ ...good.cards[0], suggestions: [] }] },
      'empty optional field at $.cards[0].suggestions',
    ],
    [
      'an unlabelled source',
      { cards: [{ ...good.cards[0], source: { label: 'Meditron' } }] },
      'does not say AI-generated',
    ],
    ['a bad indicator', { cards: [{ ...good.cards[0], indicator: 'urgent' }] }, 'schema'],
    ['no cards', {}, 'schema'],
  ])('flags %s', (_name, response, problem) => {
    expect(cdsResponseProblems(JSON.parse(JSON.stringify(response)))).toEqual(
      expect.arrayContaining([expect.stringContaining(problem)]),
    );
  });

  it('flags the spec example cards, which are not ours (no AI label)', () => {
    expect(cdsResponseProblems(specExample('spec2.0.1_response-cards.json')).join(' ')).toContain('AI-generated');
  });
});
