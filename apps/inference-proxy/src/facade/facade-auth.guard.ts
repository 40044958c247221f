import { timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { callerIdOf, digest } from './facade-caller';

export { callerId } from './facade-caller';

export interface FacadeRequest extends Request {
  facadeCaller?: string;
}

/**
 * Bearer keys from FACADE_API_KEYS, compared in constant time over their hashes. With no keys configured
 * the facade is off: the pool is for governed callers only.
 */
@Injectable()
export class FacadeAuthGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(@Inject(INFERENCE_PROXY_CONFIG) config: InferenceProxyConfig) {
    this.keys = (config.FACADE_API_KEYS ?? []).map(digest);
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.keys.length === 0) throw new ForbiddenException('the OpenAI-compatible facade is disabled');
    const req = ctx.switchToHttp().getRequest<FacadeRequest>();
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!key) throw new UnauthorizedException();
    const given = digest(key);
    if (!this.keys.some((k) => timingSafeEqual(k, given))) throw new UnauthorizedException();
    // The key is hashed once per request: the caller id is that same digest's prefix (see callerId).
    req.facadeCaller = callerIdOf(given);
    return true;
  }
}
