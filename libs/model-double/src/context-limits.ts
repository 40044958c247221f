import { openAiError, tgiValidationError, type ErrorReply } from './errors';
import type { GenerationEndpoint } from './grammar-rules';
import type { ContextLimits, DoubleFlavour } from './types';

export const DEFAULT_LIMITS: ContextLimits = { maxModelLen: 4096, maxInputTokens: 3584, maxTotalTokens: 4096 };

/**
 * The length checks the real servers make before generating (prompt counted with the double's tokenizer).
 * vLLM (400, "maximum context length", see CONFORMANCE.md): completions go through the renderer
 * (entrypoints/renderer.py `_create_tokens_prompt`, limit `max_model_len - (max_tokens or 0)`), chat through
 * entrypoints/openai/serving_engine.py `_validate_input`. TGI router/src/validation.rs `validate_input` (422:
 * `MaxTotalTokens` first, then `InputLength`; without max_new_tokens TGI takes what is left of the total).
 */
export function lengthError(
  flavour: DoubleFlavour,
  endpoint: GenerationEndpoint,
  limits: ContextLimits,
  promptTokens: number,
  maxTokens: number | undefined,
): ErrorReply | undefined {
  if (flavour === 'vllm' && endpoint === 'completion') {
    // The renderer reports the room left for the prompt as "the maximum context length".
    const room = limits.maxModelLen - (maxTokens ?? 0);
    return promptTokens > room
      ? openAiError(
          400,
          `This model's maximum context length is ${room} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`,
        )
      : undefined;
  }
  if (flavour === 'vllm') {
    const head = `This model's maximum context length is ${limits.maxModelLen} tokens. However, you requested`;
    // Without max_tokens only the prompt is checked, and the message keeps vLLM's comma before "Please".
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
