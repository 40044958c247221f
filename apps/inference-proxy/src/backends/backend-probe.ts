import { z } from 'zod';
import type { BackendTarget } from '@app/config';
import type { BackendFacts } from './backend-facts';
import { backendRoot } from './backend-root';

const modelList = z.looseObject({
  data: z.array(z.looseObject({ id: z.string(), max_model_len: z.number().int().positive().nullish() })),
});
const tgiInfo = z.looseObject({
  model_id: z.string(),
  version: z.string(),
  max_input_tokens: z.number().int().positive().nullish(),
  max_total_tokens: z.number().int().positive().nullish(),
});

export type ProbeResult = { ok: true; facts: BackendFacts } | { ok: false; reason: string };

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${new URL(url).pathname} answered ${res.status}`);
  }
  return res.json();
}

/**
 * One health probe: `/health` answers 2xx, and the backend describes itself. vLLM must list the served
 * model in `/v1/models` (a name mismatch means every call 404s); TGI ignores the request's model name
 * (router/src/lib.rs: "[UNUSED]") and lists only its `model_id`, so there `/info` must parse instead.
 */
export async function probeBackend(
  target: BackendTarget,
  servedModel: string | undefined,
  timeoutMs: number,
): Promise<ProbeResult> {
  const root = backendRoot(target);
  try {
    const health = await fetch(`${root}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await health.body?.cancel();
    if (!health.ok) return { ok: false, reason: `/health answered ${health.status}` };
    const models = modelList.safeParse(await getJson(`${root}/v1/models`, timeoutMs));
    if (!models.success || models.data.data.length === 0) return { ok: false, reason: '/v1/models lists no model' };
    const ids = models.data.data.map((m) => m.id);
    if (target.kind === 'vllm') {
      const served =
        servedModel === undefined ? models.data.data[0] : models.data.data.find((m) => m.id === servedModel);
      if (!served) return { ok: false, reason: `/v1/models does not list the served model "${servedModel}"` };
      const len = served.max_model_len ?? null;
      return { ok: true, facts: { models: ids, version: null, maxInputTokens: len, maxTotalTokens: len } };
    }
    const info = tgiInfo.safeParse(await getJson(`${root}/info`, timeoutMs));
    if (!info.success) return { ok: false, reason: "/info is not TGI's" };
    return {
      ok: true,
      facts: {
        models: ids,
        version: info.data.version,
        maxInputTokens: info.data.max_input_tokens ?? null,
        maxTotalTokens: info.data.max_total_tokens ?? null,
      },
    };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : 'probe failed' };
  }
}
