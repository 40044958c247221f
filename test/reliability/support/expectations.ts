import type { ScenarioCounts } from './ledger';

/**
 * The invariants every scenario must keep: every accepted call answered in its budget, with its own cards or
 * with none and its inference completed later; no result or audit event lost; nothing run or stored twice.
 */
export function expectNothingLostOrDoubled(c: ScenarioCounts): void {
  expect({ scenario: c.scenario, failed: c.failed }).toEqual({ scenario: c.scenario, failed: 0 });
  expect(c.accepted).toBe(c.requestsSent);
  expect(c.answeredInBudget).toBe(c.accepted);
  expect(c.answeredWithCards + c.completedLater).toBe(c.accepted);
  expect(c.cardsMisrouted).toBe(0);
  expect(c.resultsNotOk).toBe(0);
  expect(c.auditHookInvoked).toBe(c.accepted);
  expect(c.auditHookAnswered).toBe(c.accepted);
  expect(c.auditInferenceCompleted).toBe(c.resultsStored);
  expect(c.duplicateResults).toBe(0);
  expect(c.duplicateAuditEvents).toBe(0);
  expect(c.promptsNeverRun).toBe(0);
  expect(c.modelRuns).toBe(c.promptsNeedingRun);
}
