import { groundFindings } from '@app/prompts';

const refs = { P1: 'Condition/c1', M1: 'MedicationRequest/m1' };

describe('groundFindings', () => {
  it('keeps findings citing only facts that were sent, drops the rest with a reason', () => {
    const out = groundFindings(
      {
        findings: [
          { summary: 'grounded', indicator: 'info', evidence: ['P1', 'M1'] },
          { summary: 'no citation', indicator: 'info' },
          { summary: 'empty citation', indicator: 'info', evidence: [] },
          { summary: 'hallucinated handle', indicator: 'warning', evidence: ['P1', 'L9'] },
          { summary: 'another patient', indicator: 'warning', evidence: ['Patient/someone-else'] },
        ],
      },
      refs,
      { allowCritical: false },
    );
    expect(out.kept.map((f) => f.summary)).toEqual(['grounded']);
    expect(out.dropped).toEqual([
      { index: 1, reason: 'no_citation' },
      { index: 2, reason: 'no_citation' },
      { index: 3, reason: 'unknown_reference' },
      { index: 4, reason: 'unknown_reference' },
    ]);
  });

  it('lowers critical to warning unless the service policy allows it', () => {
    const findings = { findings: [{ summary: 'x', indicator: 'critical' as const, evidence: ['P1'] }] };
    expect(groundFindings(findings, refs, { allowCritical: false })).toMatchObject({
      kept: [{ indicator: 'warning' }],
      downgraded: 1,
    });
    expect(groundFindings(findings, refs, { allowCritical: true })).toMatchObject({
      kept: [{ indicator: 'critical' }],
      downgraded: 0,
    });
  });
});
