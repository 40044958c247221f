import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Keeps a caller's request id when it is a plain token; anything else is replaced (it ends up in logs). */
export function requestIdFrom(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return v && SAFE_ID.test(v) ? v : randomUUID();
}
