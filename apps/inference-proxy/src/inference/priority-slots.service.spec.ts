import { PrioritySlots, type Slot, type SlotRefusal } from './priority-slots.service';

function granted(s: Slot | SlotRefusal): Slot {
  if (typeof s === 'string') throw new Error(`no slot: ${s}`);
  return s;
}

describe('PrioritySlots', () => {
  const far = (): number => Date.now() + 60_000;

  it('never grants more than its capacity and serves the most urgent waiter first', async () => {
    const slots = new PrioritySlots(1);
    const first = granted(await slots.acquire(4, far()));
    const order: string[] = [];
    let mostActive = 0;
    const wait = (priority: number, name: string): Promise<void> =>
      slots.acquire(priority, far()).then((slot) => {
        order.push(name);
        mostActive = Math.max(mostActive, slots.active);
        // Released on a later tick, so the next waiter is granted only then.
        setTimeout(() => granted(slot).release(), 5);
      });
    const waiters = [wait(4, 'patient-view'), wait(1, 'order-select'), wait(0, 'order-sign')];
    expect(slots.queued).toBe(3);
    first.release();
    await Promise.all(waiters);
    expect(order).toEqual(['order-sign', 'order-select', 'patient-view']);
    expect(mostActive).toBe(1);
  });

  it('gives deadline_passed to a waiter whose deadline passes in the queue, and frees its place', async () => {
    const slots = new PrioritySlots(1);
    const held = granted(await slots.acquire(4, far()));
    expect(await slots.acquire(0, Date.now() + 30)).toBe('deadline_passed');
    expect(slots.queued).toBe(0);
    held.release();
    expect(slots.active).toBe(0);
  });

  it('holds at most queueCapacity waiters: a more urgent request takes the least urgent place, else is refused', async () => {
    const slots = new PrioritySlots(1, 2);
    const held = granted(await slots.acquire(4, far()));
    const sign = slots.acquire(0, far());
    const view = slots.acquire(4, far());
    // Full: another patient-view is refused at once; an order-select pushes the waiting patient-view out.
    expect(await slots.acquire(4, far())).toBe('queue_full');
    const select = slots.acquire(1, far());
    expect(await view).toBe('queue_full');
    expect(slots.queued).toBe(2);
    held.release();
    granted(await sign).release();
    expect(granted(await select).release).toBeInstanceOf(Function);
  });
});
