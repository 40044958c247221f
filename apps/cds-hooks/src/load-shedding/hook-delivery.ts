import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * Who answers the EHR for one admitted hook call: the handler with its cards, or the deadline with none. The first
 * to claim wins, so the call's record can say what the EHR was actually shown (cards that were ready only after the
 * deadline answered are kept on record as withheld, never as shown).
 */
export class HookDelivery {
  private owner: 'handler' | 'deadline' | null = null;

  /** True when `by` answers the EHR: it claimed first, or had already claimed. */
  claim(by: 'handler' | 'deadline'): boolean {
    this.owner ??= by;
    return this.owner === by;
  }
}

const deliveries = new WeakMap<object, HookDelivery>();

/** The delivery of this request, created by the load-shedding interceptor before the handler runs. */
export function openDelivery(req: object): HookDelivery {
  const delivery = new HookDelivery();
  deliveries.set(req, delivery);
  return delivery;
}

/** The request's delivery; undefined on a route the interceptor does not cover. */
export function deliveryOf(req: object): HookDelivery | undefined {
  return deliveries.get(req);
}

/** `@Delivery()`: the call's HookDelivery (see deliveryOf). */
export const Delivery = createParamDecorator((_: unknown, ctx: ExecutionContext): HookDelivery | undefined =>
  deliveryOf(ctx.switchToHttp().getRequest<object>()),
);
