import { countTokens, tokenize } from './tokens';

describe('tokenize', () => {
  it.each([
    ['Model double answer', ['Model', ' double', ' answer']],
    ['{"a":[1]}', ['{', '"', 'a', '"', ':', '[', '1', ']', '}']],
    ['  lead and trail  ', ['  lead', ' and', ' trail', '  ']],
    ['eGFR < 30.', ['eGFR', ' <', ' 30', '.']],
    ['', []],
  ])('splits %j into words and punctuation', (text, tokens) => {
    expect(tokenize(text)).toEqual(tokens);
  });

  it('joins back to the exact text, including non-ASCII', () => {
    const text = 'Dosis: 5 µg/kg — über 2×/Tag\n\tfin';
    expect(tokenize(text).join('')).toBe(text);
    expect(countTokens(text)).toBe(tokenize(text).length);
  });
});
