import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScenarioCounts } from './ledger';
import { ARTIFACTS } from './stack';

const COLUMNS: ReadonlyArray<[keyof ScenarioCounts, string]> = [
  ['requestsSent', 'sent'],
  ['accepted', 'accepted'],
  ['answeredWithCards', 'with cards'],
  ['answeredEmpty', 'empty'],
  ['completedLater', 'completed later'],
  ['answeredInBudget', 'in budget'],
  ['maxLatencyMs', 'max ms'],
  ['cardsReturned', 'cards'],
  ['cardsMisrouted', 'misrouted'],
  ['inferenceRequests', 'inferences'],
  ['resultsStored', 'results'],
  ['auditHookInvoked', 'audit invoked'],
  ['auditHookAnswered', 'audit answered'],
  ['auditInferenceCompleted', 'audit completed'],
  ['modelRuns', 'model runs'],
  ['promptsNeedingRun', 'prompts'],
  ['duplicateResults', 'dup results'],
  ['duplicateAuditEvents', 'dup audit'],
  ['failed', 'failed'],
  ['resultsExpired', 'expired'],
  ['auditLost', 'audit lost'],
  ['auditReplayed', 'replayed'],
  ['chainValid', 'chain valid'],
];

/** Writes results.json and results.md under test/artifacts/reliability. */
export function writeResults(all: ReadonlyArray<ScenarioCounts>, totalMs: number): void {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const generatedAt = new Date().toISOString();
  fs.writeFileSync(
    path.join(ARTIFACTS, 'results.json'),
    `${JSON.stringify({ generatedAt, totalMs, scenarios: all }, null, 2)}\n`,
  );
  const header = `| scenario | ${COLUMNS.map(([, h]) => h).join(' | ')} |`;
  const rule = `| --- | ${COLUMNS.map(() => '---:').join(' | ')} |`;
  const rows = all.map((c) => `| ${c.scenario} | ${COLUMNS.map(([k]) => String(c[k])).join(' | ')} |`);
  const notes = all.flatMap((c) => c.notes.map((n) => `- ${c.scenario}: ${n}`));
  fs.writeFileSync(
    path.join(ARTIFACTS, 'results.md'),
    [
      `# Reliability suite results`,
      ``,
      `${generatedAt}, ${Math.round(totalMs / 1000)} s in total.`,
      ``,
      header,
      rule,
      ...rows,
      ``,
      ...notes,
      ``,
    ].join('\n'),
  );
}
