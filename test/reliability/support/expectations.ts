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
  expect(c.auditLost).toBe(0);
  expect(c.chainValid).toBe(true);
  expect(c.promptsNeverRun).toBe(0);
  expect(c.modelRuns).toBe(c.promptsNeedingRun);
}

/**
 * For faults an EHR does see (a process or the database gone for seconds): calls may fail, but nothing accepted
 * is lost or doubled. Every call that got an answer has its audit events; every committed inference request has
 * its one result and its one inference.completed event; the chain verifies; no card goes to the wrong call.
 */
export function expectNothingAcceptedLost(c: ScenarioCounts): void {
  expect({ scenario: c.scenario, auditLost: c.auditLost }).toEqual({ scenario: c.scenario, auditLost: 0 });
  expect(c.cardsMisrouted).toBe(0);
  expect(c.resultsStored).toBeGreaterThanOrEqual(c.inferenceRequests);
  expect(c.auditInferenceCompleted).toBe(c.resultsStored);
  expect(c.duplicateResults).toBe(0);
  expect(c.duplicateAuditEvents).toBe(0);
  expect(c.chainValid).toBe(true);
}
