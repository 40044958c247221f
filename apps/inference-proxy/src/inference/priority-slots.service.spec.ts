import { PrioritySlots } from './priority-slots.service';

describe('PrioritySlots', () => {
  const far = (): number => Date.now() + 60_000;

  it('never grants more than its capacity and serves the most urgent waiter first', async () => {
    const slots = new PrioritySlots(1);
    const first = await slots.acquire(4, far());
    const order: string[] = [];
    let mostActive = 0;
    const wait = (priority: number, name: string): Promise<void> =>
      slots.acquire(priority, far()).then((slot) => {
        order.push(name);
        mostActive = Math.max(mostActive, slots.active);
        // Released on a later tick, so the next waiter is granted only then.
        setTimeout(() => slot?.release(), 5);
      });
    const waiters = [wait(4, 'patient-view'), wait(1, 'order-select'), wait(0, 'order-sign')];
    expect(slots.queued).toBe(3);
    first!.release();
    await Promise.all(waiters);
    expect(order).toEqual(['order-sign', 'order-select', 'patient-view']);
    expect(mostActive).toBe(1);
  });

  it('gives null to a waiter whose deadline passes in the queue, and frees its place', async () => {
    const slots = new PrioritySlots(1);
    const held = await slots.acquire(4, far());
    expect(await slots.acquire(0, Date.now() + 30)).toBeNull();
    expect(slots.queued).toBe(0);
    held!.release();
    expect(slots.active).toBe(0);
  });
});
