import type { DoubleFlavour, ModelDoubleOptions } from './types';
import { DEFAULT_MODEL } from './server';

export const DEFAULT_PORT = 8090;

type Env = Readonly<Record<string, string | undefined>>;

/** Options for the CLI from MODEL_DOUBLE_* variables; throws with a readable message on bad values. */
export function optionsFromEnv(env: Env): ModelDoubleOptions & { port: number; flavour: DoubleFlavour; model: string } {
  const flavour = env['MODEL_DOUBLE_FLAVOUR'] ?? 'vllm';
  if (flavour !== 'vllm' && flavour !== 'tgi') {
    throw new Error(`MODEL_DOUBLE_FLAVOUR must be 'vllm' or 'tgi', not '${flavour}'`);
  }
  const host = env['MODEL_DOUBLE_HOST'];
  const mode = env['MODEL_DOUBLE_MODE'] ?? 'instruct';
  if (mode !== 'instruct' && mode !== 'base') {
    throw new Error(`MODEL_DOUBLE_MODE must be 'instruct' or 'base', not '${mode}'`);
  }
  const queue = env['MODEL_DOUBLE_MAX_NUM_QUEUED_REQS'];
  const tgiVersion = env['MODEL_DOUBLE_TGI_VERSION'];
  return {
    port: integer(env, 'MODEL_DOUBLE_PORT', DEFAULT_PORT, 65535),
    flavour,
    model: env['MODEL_DOUBLE_MODEL'] || DEFAULT_MODEL,
    ...(host ? { host } : {}),
    mode,
    ...(tgiVersion ? { tgiVersion } : {}),
    ...(queue ? { maxNumQueuedReqs: integer(env, 'MODEL_DOUBLE_MAX_NUM_QUEUED_REQS', 0, 1_000_000) } : {}),
    limits: {
      maxModelLen: integer(env, 'MODEL_DOUBLE_MAX_MODEL_LEN', 4096, 1_000_000),
      maxInputTokens: integer(env, 'MODEL_DOUBLE_MAX_INPUT_TOKENS', 3584, 1_000_000),
      maxTotalTokens: integer(env, 'MODEL_DOUBLE_MAX_TOTAL_TOKENS', 4096, 1_000_000),
    },
    latency: {
      ttftMs: integer(env, 'MODEL_DOUBLE_TTFT_MS', 0, Number.MAX_SAFE_INTEGER),
      perTokenMs: integer(env, 'MODEL_DOUBLE_PER_TOKEN_MS', 0, Number.MAX_SAFE_INTEGER),
    },
  };
}

function integer(env: Env, name: string, fallback: number, max: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name} must be a whole number from 0 to ${max}, not '${text}'`);
  }
  return value;
}
