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

  describe('suggestions (CDS Hooks 2.0.1 §Suggestion, §Action)', () => {
    const withActions = (
      actions: unknown[],
      extra: Record<string, unknown> = { selectionBehavior: 'at-most-one' },
    ) => ({
      cards: [
        {
          ...good.cards[0],
          ...extra,
          suggestions: [{ label: 'Apply', uuid: 'e56e1945-20b3-4393-8503-a1a20fd73152', actions }],
        },
      ],
    });

    it.each(['spec2.0.1_action-create.json', 'spec2.0.1_action-delete.json', 'spec2.0.1_action-update.json'])(
      "passes the spec's own action example %s on a card",
      (file) => {
        expect(cdsResponseProblems(withActions([specExample(file)]))).toEqual([]);
      },
    );

    it("passes the spec's example cards, links included, apart from the project's own rules (AI label, card uuid)", () => {
      const problems = cdsResponseProblems(specExample('spec2.0.1_response-cards.json'));
      expect(
        problems.filter((p) => !p.includes('AI-generated') && p !== 'cards[1].uuid missing or not a uuid'),
      ).toEqual([]);
    });

    it.each([
      [
        'suggestions without selectionBehavior',
        withActions([specExample('spec2.0.1_action-delete.json')], {}),
        'selectionBehavior missing',
      ],
      [
        'a delete without resourceId',
        withActions([{ type: 'delete', description: 'x' }]),
        'without a relative resourceId',
      ],
      [
        'a delete naming the resource by a bare id (deprecated)',
        withActions([{ type: 'delete', description: 'x', resource: 'ServiceRequest/1' }]),
        'resource must be object',
      ],
      ['a create without a resource', withActions([{ type: 'create', description: 'x' }]), 'create without a resource'],
      ['an action without a description', withActions([{ type: 'create', resource: { resourceType: 'X' } }]), 'schema'],
      [
        'a suggestion without uuid',
        { cards: [{ ...good.cards[0], selectionBehavior: 'any', suggestions: [{ label: 'x', actions: [] }] }] },
        'uuid missing',
      ],
    ])('flags %s', (_name, response, problem) => {
      expect(cdsResponseProblems(JSON.parse(JSON.stringify(response)))).toEqual(
        expect.arrayContaining([expect.stringContaining(problem)]),
      );
    });
  });
});
