export type TokenizerFamily = 'llama2' | 'llama3';

/** How to talk to one deployed model. */
export interface ModelProfile {
  readonly id: 'meditron-70b' | 'llama-3-meditron';
  /** Named on every card. */
  readonly label: string;
  /** Meditron-70B is a base model (completions with our ChatML prompt); Llama-3-Meditron is chat-tuned. */
  readonly api: 'completion' | 'chat';
  readonly contextTokens: number;
  readonly maxOutputTokens: number;
  readonly tokenizer: TokenizerFamily;
}

export const MODEL_PROFILES: Readonly<Record<ModelProfile['id'], ModelProfile>> = {
  'meditron-70b': {
    id: 'meditron-70b',
    label: 'Meditron-70B',
    api: 'completion',
    contextTokens: 4096,
    maxOutputTokens: 512,
    tokenizer: 'llama2',
  },
  'llama-3-meditron': {
    id: 'llama-3-meditron',
    label: 'Llama-3-Meditron',
    api: 'chat',
    contextTokens: 8192,
    maxOutputTokens: 512,
    tokenizer: 'llama3',
  },
};

export function isProfileId(v: string): v is ModelProfile['id'] {
  return v in MODEL_PROFILES;
}
