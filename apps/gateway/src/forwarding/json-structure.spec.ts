import { checkJsonStructure } from './json-structure';

describe('checkJsonStructure', () => {
  const limits = { maxDepth: 4, maxArrayLength: 3 };

  it('passes ordinary JSON and ignores brackets and commas inside strings', () => {
    expect(checkJsonStructure('{"a":[1,2,3],"b":{"c":"[[[[[,,,,\\"]]"}}', limits)).toBeNull();
    expect(checkJsonStructure('[[1],[2],[3]]', limits)).toBeNull();
  });

  it('finds nesting and arrays past the limits', () => {
    expect(checkJsonStructure('{"a":[[[[1]]]]}', limits)).toBe('json_too_deep');
    expect(checkJsonStructure('{"a":[1,2,3,4]}', limits)).toBe('json_array_too_long');
    expect(checkJsonStructure('{"a":[{},{},{},{}]}', limits)).toBe('json_array_too_long');
  });
});
