import { fastChatAppendToLastUser, fastChatPrompt } from './prompt-templates';
import type { ModelProfile } from './model-profiles';
import { FINDINGS_EXAMPLE } from './worked-example';

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

/** A rendered prompt: text for the completions endpoint, or messages for the chat endpoint. */
export type Wrapped = { prompt: string; messages?: undefined } | { prompt?: undefined; messages: ChatTurn[] };

/** Wraps the system rules and the case in the profile's own template. */
export function wrapForProfile(profile: ModelProfile, system: string, user: string): Wrapped {
  const example = profile.oneShot ? FINDINGS_EXAMPLE : undefined;
  if (profile.template.id === 'fastchat-meditron') return { prompt: fastChatPrompt(system, user, example) };
  return {
    messages: [
      { role: 'system', content: system },
      ...(example
        ? [
            { role: 'user' as const, content: example.user },
            { role: 'assistant' as const, content: example.assistant },
          ]
        : []),
      { role: 'user', content: user },
    ],
  };
}

/** The same prompt with `extra` added to the last user turn (the repair reminder). */
export function appendToLastUser(wrapped: Wrapped, extra: string): Wrapped {
  if (wrapped.prompt !== undefined) return { prompt: fastChatAppendToLastUser(wrapped.prompt, extra) };
  const messages = wrapped.messages;
  const last = messages.at(-1);
  if (!last || last.role !== 'user') throw new Error('the last chat message is not the user turn');
  return { messages: [...messages.slice(0, -1), { role: 'user', content: `${last.content}\n\n${extra}` }] };
}
