import { randomBytes } from 'node:crypto';

/** One INTERNAL_TOKEN_SECRET per test process: tests never read or write the developer's `.local` one. */
export const TEST_INTERNAL_TOKEN_SECRET = randomBytes(32).toString('base64url');

/** Environment for a local stack in a test: every app on a free port, quiet logs (E2E_LOG_LEVEL to see them). */
export function testStackEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error',
    GATEWAY_PORT: '0',
    CDS_HOOKS_PORT: '0',
    INFERENCE_PROXY_PORT: '0',
    INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    METRICS_PORT: '0',
    DEV_IDP_PORT: '0',
    ...overrides,
  };
}
