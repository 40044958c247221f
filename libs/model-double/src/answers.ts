import { createHash } from 'node:crypto';

/** The first 8 hex digits of the sha256 of the prompt text: how a default answer names its prompt. */
export function promptDigest(promptText: string): string {
  return createHash('sha256').update(promptText, 'utf8').digest('hex').slice(0, 8);
}

/** Default plain-text answer: "Model double answer for prompt <digest>". */
export function defaultTextAnswer(promptText: string): string {
  return `Model double answer for prompt ${promptDigest(promptText)}`;
}

/** Default structured answer: one 'info' finding whose summary names the prompt digest. */
export function defaultJsonAnswer(promptText: string): string {
  return JSON.stringify({
    findings: [
      {
        summary: `Model double reviewed prompt ${promptDigest(promptText)}`,
        indicator: 'info',
        detail: 'Deterministic placeholder from the model double (a test double, not a model); not clinical advice.',
        evidence: [],
      },
    ],
  });
}

/** The answer cut off mid-way, as a model stopped early would leave it: JSON.parse of it fails. */
export function truncateAnswer(answer: string): string {
  return answer.slice(0, Math.max(1, Math.floor(answer.length / 2)));
}
