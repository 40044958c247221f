import { z } from 'zod';
import type { AnswerShape } from './request-shaping';

export interface Completion {
  readonly text: string;
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
  /** Why generation stopped (`stop`, `length`, ...), when the backend said: a trace attribute. */
  readonly finishReason?: string;
}

const usage = z
  .looseObject({ prompt_tokens: z.number().int().nullish(), completion_tokens: z.number().int().nullish() })
  .nullish();
const finishReason = z.string().max(32).nullish();
const completion = z.looseObject({
  choices: z.array(z.looseObject({ text: z.string(), finish_reason: finishReason })).min(1),
  usage,
});
const chat = z.looseObject({
  choices: z
    .array(z.looseObject({ message: z.looseObject({ content: z.string() }), finish_reason: finishReason }))
    .min(1),
  usage,
});
const generate = z.looseObject({
  generated_text: z.string(),
  details: z.looseObject({ generated_tokens: z.number().int(), finish_reason: finishReason }).nullish(),
});

/** Reads a backend's answer body into text and token counts; null when it is not the expected shape. */
export function readAnswer(shape: AnswerShape, body: string): Completion | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (shape === 'tgi-generate') {
    const g = generate.safeParse(json);
    if (!g.success) return null;
    return {
      text: g.data.generated_text,
      tokensIn: null,
      tokensOut: g.data.details?.generated_tokens ?? null,
      ...finished(g.data.details?.finish_reason),
    };
  }
  if (shape === 'openai-chat') {
    const c = chat.safeParse(json);
    return c.success
      ? withUsage(c.data.choices[0]!.message.content, c.data.usage, c.data.choices[0]!.finish_reason)
      : null;
  }
  const c = completion.safeParse(json);
  return c.success ? withUsage(c.data.choices[0]!.text, c.data.usage, c.data.choices[0]!.finish_reason) : null;
}

function withUsage(text: string, u: z.infer<typeof usage>, reason: string | null | undefined): Completion {
  return { text, tokensIn: u?.prompt_tokens ?? null, tokensOut: u?.completion_tokens ?? null, ...finished(reason) };
}

function finished(reason: string | null | undefined): { finishReason?: string } {
  return reason ? { finishReason: reason } : {};
}
