import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueCode = OperationOutcomeIssue['code'];

/** A FHIR R4 OperationOutcome with one error issue per problem. */
export function operationOutcome(
  problems: ReadonlyArray<{ code: IssueCode; diagnostics: string; expression?: string }>,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: problems.map((p) => ({
      severity: 'error',
      code: p.code,
      diagnostics: p.diagnostics,
      ...(p.expression ? { expression: [p.expression] } : {}),
    })),
  };
}
