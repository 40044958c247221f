import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_STACK_NODE_FLAGS } from './runtime-flags';

describe('LOCAL_STACK_NODE_FLAGS', () => {
  const scripts = (
    JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it('are the flags `npm start` gives node, so the benchmark measures the stack as it starts', () => {
    expect(scripts.start).toBe(
      `npm run build && node ${LOCAL_STACK_NODE_FLAGS.join(' ')} dist/tools/local-stack/main.js`,
    );
  });

  it('are V8 flags node accepts', () => {
    expect(LOCAL_STACK_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of LOCAL_STACK_NODE_FLAGS)
      expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!)).toBe(true);
  });
});
