import { createHash } from 'node:crypto';

/** The first 8 hex digits of the sha256 of the prompt text: how a default answer names its prompt. */
export function promptDigest(promptText: string): string {
  return createHash('sha256').update(promptText, 'utf8').digest('hex').slice(0, 8);
}

/** Default plain-text answer: "Model double answer for prompt <digest>". */
export function defaultTextAnswer(promptText: string): string {
  return `Model double answer for prompt ${promptDigest(promptText)}`;
}

/**
 * Fact handles a prompt lists (lines like `  P1: ...`): the default answer cites the first one, as a grounded
 * model answer would, so a caller that drops uncited findings still gets a card.
 */
export function promptHandles(promptText: string): string[] {
  // A FastChat prompt may show a worked example first: the real case is the last `### User:` turn.
  const last = promptText.lastIndexOf('### User:');
  const caseText = last >= 0 ? promptText.slice(last) : promptText;
  return [...caseText.matchAll(/^\s+([A-Z]\d{1,3}):/gm)].map((m) => m[1]!);
}

/** Default structured answer: one 'info' finding whose summary names the prompt digest, citing its first fact. */
export function defaultJsonAnswer(promptText: string): string {
  return JSON.stringify({
    findings: [
      {
        summary: `Model double reviewed prompt ${promptDigest(promptText)}`,
        indicator: 'info',
        detail: 'Deterministic placeholder from the model double (a test double, not a model); not clinical advice.',
        evidence: promptHandles(promptText).slice(0, 1),
      },
    ],
  });
}

/** The answer cut off mid-way, as a model stopped early would leave it: JSON.parse of it fails. */
export function truncateAnswer(answer: string): string {
  return answer.slice(0, Math.max(1, Math.floor(answer.length / 2)));
}
