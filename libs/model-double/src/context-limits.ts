import { openAiError, tgiValidationError, type ErrorReply } from './errors';
import type { ContextLimits, DoubleFlavour } from './types';

export const DEFAULT_LIMITS: ContextLimits = { maxModelLen: 4096, maxInputTokens: 3584, maxTotalTokens: 4096 };

/**
 * The length checks the real servers make before generating (prompt counted with the double's tokenizer):
 * vLLM entrypoints/openai/serving_engine.py `_validate_input` (400, "maximum context length");
 * TGI router/src/validation.rs `validate_input` (422: `MaxTotalTokens` first, then `InputLength`; without
 * max_new_tokens TGI takes what is left of the total).
 */
export function lengthError(
  flavour: DoubleFlavour,
  limits: ContextLimits,
  promptTokens: number,
  maxTokens: number | undefined,
): ErrorReply | undefined {
  if (flavour === 'vllm') {
    const head = `This model's maximum context length is ${limits.maxModelLen} tokens. However, you requested`;
    // Without max_tokens (chat, or completions with an explicit null) only the prompt is checked, and the
    // message keeps vLLM's comma before "Please".
    if (maxTokens === undefined)
      return promptTokens >= limits.maxModelLen
        ? openAiError(400, `${head} ${promptTokens} tokens in the messages, Please reduce the length of the messages.`)
        : undefined;
    if (promptTokens + maxTokens > limits.maxModelLen)
      return openAiError(
        400,
        `${head} ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
    return undefined;
  }
  const newTokens = maxTokens ?? Math.max(0, limits.maxTotalTokens - promptTokens);
  if (promptTokens + newTokens > limits.maxTotalTokens)
    return tgiValidationError(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${limits.maxTotalTokens}. Given: ${promptTokens} \`inputs\` tokens and ${newTokens} \`max_new_tokens\``,
    );
  if (promptTokens > limits.maxInputTokens)
    return tgiValidationError(`\`inputs\` must have less than ${limits.maxInputTokens} tokens. Given: ${promptTokens}`);
  return undefined;
}
