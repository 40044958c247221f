import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { InternalCall } from '@app/auth';

const CALLER = Symbol('internalCaller');
type WithCaller = Request & { [CALLER]?: InternalCall };

export function setInternalCaller(req: Request, call: InternalCall): void {
  (req as WithCaller)[CALLER] = call;
}

/** The call the gateway vouched for (InternalAuthGuard verified it), or undefined before or without it. */
export function internalCallerOf(req: Request): InternalCall | undefined {
  return (req as WithCaller)[CALLER];
}

/** Handler parameter: the verified internal call; routes using it sit behind InternalAuthGuard. */
export const InternalCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): InternalCall => {
  const call = internalCallerOf(ctx.switchToHttp().getRequest<Request>());
  if (!call) throw new Error('@InternalCaller() on a route without InternalAuthGuard');
  return call;
});
