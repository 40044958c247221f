import { spawnSync } from 'node:child_process';
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

  it('are flags this node accepts (node refuses to start on one it does not know, as the misspelt one shows)', () => {
    expect(LOCAL_STACK_NODE_FLAGS.length).toBeGreaterThan(0);
    const run = spawnSync(process.execPath, [...LOCAL_STACK_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const bad = spawnSync(process.execPath, ['--heap-growing-percnt=200', '-e', 'process.exit(0)'], {
      encoding: 'utf8',
    });
    expect(bad.status !== 0 || bad.stderr !== '').toBe(true);
  });
});
