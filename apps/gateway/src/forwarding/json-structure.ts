export type JsonStructureProblem = 'json_too_deep' | 'json_array_too_long';

interface Level {
  readonly array: boolean;
  elements: number;
}

/**
 * One pass over JSON text before it is parsed: the deepest nesting and the longest array, so hostile shapes are
 * refused without building them. Malformed text passes here and fails in JSON.parse.
 */
export function checkJsonStructure(
  text: string,
  limits: { readonly maxDepth: number; readonly maxArrayLength: number },
): JsonStructureProblem | null {
  const stack: Level[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
      continue;
    }
    switch (ch) {
      case 0x22: // "
        inString = true;
        break;
      case 0x7b: // {
      case 0x5b: {
        // [
        const top = stack.at(-1);
        if (top?.array && top.elements === 0) top.elements = 1;
        stack.push({ array: ch === 0x5b, elements: 0 });
        if (stack.length > limits.maxDepth) return 'json_too_deep';
        break;
      }
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        break;
      case 0x2c: {
        // ,
        const top = stack.at(-1);
        if (top?.array) {
          top.elements = Math.max(top.elements, 1) + 1;
          if (top.elements > limits.maxArrayLength) return 'json_array_too_long';
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}
