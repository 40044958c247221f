/**
 * The chat templates a profile's prompt is written in. Each one knows how to wrap a system message and a user
 * turn (with an optional worked example), which strings end a turn (the stops the server must honour) and
 * which strings are control markup of its family (they must never reach the model from data text).
 */
export type TemplateId = 'fastchat-meditron' | 'llama-3-chat';

export interface WorkedExample {
  readonly user: string;
  readonly assistant: string;
}

export interface PromptTemplate {
  readonly id: TemplateId;
  /** Bump when the wrapping changes: recorded with every inference (inside its template version). */
  readonly version: string;
  /** Stop strings sent with every request; empty when the chat endpoint's own template ends the turn. */
  readonly stop: ReadonlyArray<string>;
  /** Every special or turn-marking string of this template family. */
  readonly controlStrings: ReadonlyArray<string>;
}

/**
 * FastChat's `ADD_COLON_SINGLE` style with `sep="\n### "` and roles User/Assistant, as epfLLM/meditron
 * `deployment/README.md` (commit a7c7cda) registers for Meditron (`zero_shot_medical` / `one_shot_medical`):
 * the system message, then `### User: ...`, then an open `### Assistant:` turn.
 */
export const FASTCHAT_MEDITRON: PromptTemplate = {
  id: 'fastchat-meditron',
  version: 'fastchat-meditron@1',
  // The authors' stop_str, in their order ("<\s>" in the README is a typo of the EOS string "</s>").
  stop: ['</s>', '###', 'Assistant:', 'User:'],
  // Llama 2 tokenizer specials and chat markup (Meditron-70B continues Llama-2-70B), plus the turn markers.
  controlStrings: ['<s>', '</s>', '[INST]', '[/INST]', '<<SYS>>', '<</SYS>>', '###', 'User:', 'Assistant:'],
};

/**
 * Llama 3's chat template, applied by the server on `/v1/chat/completions` (we send messages, never the
 * markup); the model ends its turn with `<|eot_id|>`, which both servers treat as end of sequence.
 */
export const LLAMA_3_CHAT: PromptTemplate = {
  id: 'llama-3-chat',
  version: 'llama-3-chat@1',
  stop: [],
  controlStrings: [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|start_header_id|>',
    '<|end_header_id|>',
    '<|eot_id|>',
    '<|eom_id|>',
    '<|python_tag|>',
  ],
};

/** ChatML markup: no profile uses it any more, but data text must still not smuggle it in. */
export const CHATML_CONTROL_STRINGS: ReadonlyArray<string> = ['<|im_start|>', '<|im_end|>'];

const SEP = '\n### ';

/** Writes a FastChat-style Meditron prompt, the assistant turn left open for the model to fill. */
export function fastChatPrompt(system: string, user: string, example?: WorkedExample): string {
  const turns: Array<[string, string]> = [
    ...(example
      ? ([
          ['User', example.user],
          ['Assistant', example.assistant],
        ] as Array<[string, string]>)
      : []),
    ['User', user],
  ];
  return `${system}${SEP}${turns.map(([role, text]) => `${role}: ${text}`).join(SEP)}${SEP}Assistant:`;
}

/**
 * The same prompt with `extra` appended to the last user turn (the repair reminder). Works on the rendered
 * text so a stored prompt can be repaired without re-rendering; refuses text that is not this template's.
 */
export function fastChatAppendToLastUser(prompt: string, extra: string): string {
  const open = `${SEP}Assistant:`;
  if (!prompt.endsWith(open)) throw new Error('not a FastChat Meditron prompt (no open Assistant turn)');
  return `${prompt.slice(0, -open.length)}\n\n${extra}${open}`;
}
