import type { Request } from 'express';
import type { VerifiedCdsCaller } from '@app/auth';

const CALLER = Symbol('ehrCaller');
type WithCaller = Request & { [CALLER]?: VerifiedCdsCaller };

export function setCaller(req: Request, caller: VerifiedCdsCaller): void {
  (req as WithCaller)[CALLER] = caller;
}

/** The EHR client EhrAuthGuard verified for this request. */
export function callerOf(req: Request): VerifiedCdsCaller {
  const c = (req as WithCaller)[CALLER];
  if (!c) throw new Error('callerOf() on a route without EhrAuthGuard');
  return c;
}
