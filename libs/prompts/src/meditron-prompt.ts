import { createHash } from 'node:crypto';

/**
 * Meditron-70B is a base model whose fine-tuning used ChatML tokens, so it is prompted through
 * /v1/completions with the turns written out and the assistant turn left open.
 */
export function chatMlPrompt(system: string, user: string): string {
  return `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
}

export function promptHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
