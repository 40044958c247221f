import type { BackendTarget } from '@app/config';

/** vLLM and TGI serve `/health` and `/metrics` beside `/v1`, not under it. */
export function backendRoot(target: BackendTarget): string {
  return target.baseUrl.replace(/\/v1$/, '');
}
