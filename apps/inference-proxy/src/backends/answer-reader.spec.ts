import { readAnswer } from './answer-reader';

describe('readAnswer: text, token counts and the finish reason a trace reports', () => {
  it('reads an OpenAI completion with its finish reason', () => {
    const body = { choices: [{ text: 'x', finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 3 } };
    expect(readAnswer('openai-completion', JSON.stringify(body))).toEqual({
      text: 'x',
      tokensIn: 7,
      tokensOut: 3,
      finishReason: 'stop',
    });
  });

  it('reads a chat answer cut at max_tokens', () => {
    const body = { choices: [{ message: { content: 'y' }, finish_reason: 'length' }] };
    expect(readAnswer('openai-chat', JSON.stringify(body))).toEqual({
      text: 'y',
      tokensIn: null,
      tokensOut: null,
      finishReason: 'length',
    });
  });

  it('reads TGI details, and leaves the reason out when the engine gives none', () => {
    const tgi = { generated_text: 'z', details: { generated_tokens: 2, finish_reason: 'eos_token' } };
    expect(readAnswer('tgi-generate', JSON.stringify(tgi))).toMatchObject({ tokensOut: 2, finishReason: 'eos_token' });
    expect(readAnswer('openai-completion', JSON.stringify({ choices: [{ text: 'x', finish_reason: null }] }))).toEqual({
      text: 'x',
      tokensIn: null,
      tokensOut: null,
    });
  });
});
