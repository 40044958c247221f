import { checkJsonText } from './json-structure';

describe('checkJsonText', () => {
  const limits = { maxDepth: 4, maxArrayLength: 3 };

  it('passes ordinary JSON objects and ignores brackets, commas and quotes inside strings', () => {
    expect(checkJsonText('{"a":[1,2,3],"b":{"c":"[[[[[,,,,\\"]]"}}', limits)).toBeNull();
    expect(
      checkJsonText(' \t\r\n{ "a" : [ {} , [ ] , "x" ] , "b" : -0.5e+10 , "c" : true , "d" : null } \n', limits),
    ).toBeNull();
    expect(checkJsonText('{"\\u00e9\\n\\/":"\u00e9\u2028\ud83d\ude00"}', limits)).toBeNull();
  });

  it('finds nesting and arrays past the limits', () => {
    expect(checkJsonText('{"a":[[[[1]]]]}', limits)).toBe('json_too_deep');
    expect(checkJsonText('{"a":[[[1]]]}', limits)).toBeNull();
    expect(checkJsonText('{"a":[1,2,3,4]}', limits)).toBe('json_array_too_long');
    expect(checkJsonText('{"a":[{},{},{},{}]}', limits)).toBe('json_array_too_long');
    expect(checkJsonText('{"a":[1,2,3]}', limits)).toBeNull();
  });

  it('refuses a hostile shape where it starts, before reading what follows', () => {
    // Never closed and garbage after the limit: the limit is what is reported.
    expect(checkJsonText(`{"a":${'['.repeat(10)}`, limits)).toBe('json_too_deep');
    expect(checkJsonText('{"a":[1,2,3,4,', limits)).toBe('json_array_too_long');
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    for (const bad of [
      '',
      '   ',
      '{',
      '{"a":1',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":1e}',
      '{"a":+1}',
      '{"a":-}',
      '{"a":NaN}',
      '{"a":tru}',
      '{"a":"\\x"}',
      '{"a":"\\u12G4"}',
      '{"a":"tab\there"}',
      '{"a":"unterminated}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":1]',
      '{"a":[1}',
      '{}}',
      '{} {}',
      '{"a":1}x',
    ]) {
      expect({ bad, problem: checkJsonText(bad, limits) }).toEqual({ bad, problem: 'malformed_json' });
    }
    for (const notObject of ['[]', '[1,2]', '"x"', '1', 'null', 'true']) {
      expect(checkJsonText(notObject, limits)).toBe('not_an_object');
    }
  });

  it('accepts exactly what JSON.parse accepts (seeded random JSON, whitespace and one-character mutations)', () => {
    // Deterministic (mulberry32), so a failure reproduces.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const ws = () => pick(['', '', '', ' ', '\n', '\t', '\r\n  ']);
    const strings = ['', 'a', 'é', '\u2028', '\ud83d\ude00', 'q"uote', 'back\\slash', 'nl\nx', '\u0001', '/', '[{,:}]'];
    const numbers = ['0', '-0', '12', '-3.25', '1e5', '2E-7', '6.02e+23', '0.0001'];
    const value = (d: number): string => {
      const r = rand();
      if (d > 3 || r < 0.35) {
        const s = rand();
        if (s < 0.4) return JSON.stringify(pick(strings));
        if (s < 0.8) return pick(numbers);
        return pick(['true', 'false', 'null']);
      }
      const n = Math.floor(rand() * 4);
      const items = Array.from({ length: n }, () =>
        r < 0.7
          ? `${ws()}${JSON.stringify(pick(strings))}${ws()}:${ws()}${value(d + 1)}${ws()}`
          : `${ws()}${value(d + 1)}${ws()}`,
      );
      return r < 0.7 ? `{${items.join(',')}${ws()}}` : `[${items.join(',')}${ws()}]`;
    };
    const mutations = ['', '"', '\\', ',', ':', '{', '}', '[', ']', '0', '-', '.', 'e', 'u', 'n', ' ', '\u0000', 'x'];
    const wide = { maxDepth: 1000, maxArrayLength: 1_000_000 };
    let checked = 0;
    for (let k = 0; k < 4000; k++) {
      let text = `${ws()}{${ws()}"k":${ws()}${value(0)}${ws()}}${ws()}`;
      if (k % 2 === 1) {
        const at = Math.floor(rand() * (text.length + 1));
        const cut = rand() < 0.5 ? 1 : 0;
        text = text.slice(0, at) + pick(mutations) + text.slice(at + cut);
      }
      let parsed: unknown;
      let parses = true;
      try {
        parsed = JSON.parse(text);
      } catch {
        parses = false;
      }
      const expected = !parses
        ? 'malformed_json'
        : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? null
          : 'not_an_object';
      const got = checkJsonText(text, wide);
      if (got !== expected) throw new Error(`${JSON.stringify(text)}: expected ${expected}, got ${got}`);
      checked++;
    }
    expect(checked).toBe(4000);
  });
});
