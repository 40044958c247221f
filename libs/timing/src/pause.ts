import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms`; true when the time ran out, false (at once) when `signal` aborts. A retry loop or a paced stream
 * stops on abort instead of catching the AbortError node:timers/promises rejects with.
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  // No timer for no wait: a paced stream with no delay per token must not cost a timer turn per token.
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch (e) {
    if (signal?.aborted) return false;
    throw e;
  }
}
