import { groundActions, type ActionMenu } from '@app/prompts';

const MED = {
  system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  code: '313782',
  display: 'Acetaminophen 325 MG Oral Tablet',
};
const INR = { system: 'http://loinc.org', code: '6301-6', display: 'INR' };
const MENU: ActionMenu = {
  kinds: ['remove-draft', 'replace-draft', 'order-lab'],
  drafts: { D1: 'MedicationRequest/ibu', D2: 'ServiceRequest/xray' },
  medications: { F1: MED },
  tests: { T1: INR },
};

describe('groundActions', () => {
  it('resolves offered choices to what the service will build', () => {
    expect(
      groundActions(
        [
          { kind: 'remove-draft', draft: 'D2' },
          { kind: 'replace-draft', draft: 'D1', medication: 'F1' },
          { kind: 'order-lab', test: 'T1' },
        ],
        MENU,
      ),
    ).toEqual({
      kept: [
        { kind: 'remove-draft', draftRef: 'ServiceRequest/xray' },
        { kind: 'replace-draft', draftRef: 'MedicationRequest/ibu', medication: MED },
        { kind: 'order-lab', test: INR },
      ],
      dropped: [],
    });
  });

  it.each([
    ['a hallucinated draft id', { kind: 'remove-draft', draft: 'D9' }, 'unknown_draft'],
    ['a draft named by its FHIR id', { kind: 'remove-draft', draft: 'MedicationRequest/ibu' }, 'unknown_draft'],
    [
      'a formulary item not on the list',
      { kind: 'replace-draft', draft: 'D1', medication: 'F7' },
      'unknown_medication',
    ],
    [
      'a medication written as free text',
      { kind: 'replace-draft', draft: 'D1', medication: 'warfarin 5 mg' },
      'unknown_medication',
    ],
    ['a test not on the panel', { kind: 'order-lab', test: 'T4' }, 'unknown_test'],
    ['a kind nobody offered', { kind: 'update-dose', draft: 'D1' }, 'not_offered'],
    [
      'a replacement for a non-medication draft',
      { kind: 'replace-draft', draft: 'D2', medication: 'F1' },
      'not_replaceable',
    ],
    ['a choice missing its handle', { kind: 'replace-draft', draft: 'D1' }, 'incomplete'],
    ['a choice with a handle its kind does not take', { kind: 'order-lab', test: 'T1', draft: 'D1' }, 'extra_handle'],
    ['a prototype key as handle', { kind: 'remove-draft', draft: 'constructor' }, 'unknown_draft'],
  ])('drops %s', (_name, choice, reason) => {
    expect(groundActions([choice], MENU)).toEqual({ kept: [], dropped: [{ action: 0, reason }] });
  });

  it('drops draft actions on a call whose menu has none (wrong hook) and everything when nothing was offered', () => {
    const labOnly: ActionMenu = { kinds: ['order-lab'], drafts: {}, medications: {}, tests: { T1: INR } };
    expect(groundActions([{ kind: 'remove-draft', draft: 'D1' }], labOnly).dropped).toEqual([
      { action: 0, reason: 'not_offered' },
    ]);
    expect(groundActions([{ kind: 'order-lab', test: 'T1' }], undefined).dropped).toEqual([
      { action: 0, reason: 'not_offered' },
    ]);
  });

  it('drops a repeated choice', () => {
    const out = groundActions(
      [
        { kind: 'order-lab', test: 'T1' },
        { kind: 'order-lab', test: 'T1' },
      ],
      MENU,
    );
    expect(out.kept).toHaveLength(1);
    expect(out.dropped).toEqual([{ action: 1, reason: 'duplicate' }]);
  });
});
