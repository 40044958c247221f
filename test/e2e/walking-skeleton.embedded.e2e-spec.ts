import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { testStackEnv } from '../support/stack-env';
import { walkingSkeletonCases } from './walking-skeleton.cases';

/** The README's run command, in-process: embedded PGlite, in-process transport, the model double. */
describe('walking skeleton, embedded single-process mode', () => {
  let stack: LocalStack;
  const dataDir = mkdtempSync(join(tmpdir(), 'meditron-e2e-pglite-'));

  beforeAll(async () => {
    stack = await startLocalStack({
      env: testStackEnv({}),
      dataDir,
      modelDoublePort: 0,
    });
    expect(stack.mode).toEqual({ database: 'embedded', transport: 'in-process', model: 'double' });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  walkingSkeletonCases(() => stack);
});
